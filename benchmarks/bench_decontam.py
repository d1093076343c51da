"""Decontamination of N training samples against the gold set (80 items), and duplicate detection.

    python benchmarks/bench_decontam.py                  # N = 100,000 train + 80 gold
    python benchmarks/bench_decontam.py --n 5000 --duplicates

Builds a fresh database (offline-generated dialogues, the shape ``samples.dialogue`` holds: see
``benchmarks/corpus.py``), then times ``quality.decontaminate`` (Tülu 3 8-gram word rule + the
Korean character 8-gram variant, over user turns) and prints the number of pairs per band. Gold
items are 8 categories × 10, like seed 001's gold set. With ``--duplicates``: ``find_duplicates``
(exact + MinHash LSH) on the same training set.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import corpus  # noqa: E402

from datagen import config, quality  # noqa: E402
from datagen.store import connect  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog="example: python benchmarks/bench_decontam.py --n 100000")
    ap.add_argument("--n", type=int, default=100_000, help="training samples (default 100,000)")
    ap.add_argument("--gold", type=int, default=len(config.CATEGORIES) * config.GOLD_COUNT_PER_CATEGORY, help="gold items (default 80)")
    ap.add_argument("--duplicates", action="store_true", help="also time find_duplicates")
    ap.add_argument("--cache", type=Path, default=None, help="data cache file (default /tmp/datagen_bench_train_<N>.jsonl)")
    args = ap.parse_args(argv)
    cache = args.cache or Path(tempfile.gettempdir()) / f"datagen_bench_train_{args.n}.jsonl"
    train = corpus.lines(args.n, cache=cache)
    gold = corpus.lines(args.gold, kind="gold")
    print(f"# {corpus.machine()} {corpus.versions()}")
    with tempfile.TemporaryDirectory() as tmp:
        db = connect(Path(tmp) / "bench.db")
        t = time.perf_counter()
        corpus.insert_samples(db, gold)
        corpus.insert_samples(db, train)
        print(f"db: {len(train):,} train + {len(gold)} gold samples inserted in {time.perf_counter() - t:.1f} s")
        stats = quality.decontaminate(db)
        print(
            f"decontaminate       {stats['seconds']:8.2f} s  {stats['train'] / stats['seconds']:10,.0f} train samples/s  "
            f"(x {stats['gold']} gold; {stats['pairs']:,} pairs stored: {stats['excluded']:,} samples excluded, "
            f"{stats['flagged']:,} flagged)"
        )
        by = {}
        for r in db.query("SELECT method, band, COUNT(*) AS n FROM contamination GROUP BY 1, 2"):
            by[f"{r['method']}/{r['band']}"] = r["n"]
        print("pairs by method/band: " + (", ".join(f"{k} {v:,}" for k, v in sorted(by.items())) or "none"))
        if args.duplicates:
            stats = quality.find_duplicates(db)
            print(
                f"find_duplicates     {stats['seconds']:8.2f} s  {stats['samples'] / stats['seconds']:10,.0f} samples/s  "
                f"({stats['clusters']:,} clusters: {stats['exact']:,} samples exact, {stats['near']:,} near)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
