"""All per-dialogue checks over N stored dialogues: dialogues per second, and the ratio to a bare
``json.loads`` pass over the same data.

    python benchmarks/bench_checks.py                 # N = 100,000 (data cached in /tmp)
    python benchmarks/bench_checks.py --n 2000 --db   # also time check_samples on a database

Measured, on the same lines:
  json.loads        a bare parse of every line (the floor);
  checks (stored)   datagen.checks.check_stored(text): what quality.check_samples runs per sample;
  checks x W        the same in a pool of W processes (--workers, default: the number of CPUs);
  checks (Dialogue) Dialogue.model_validate_json + run_checks, the public API on the pydantic model
                    (on --dialogue-n lines, default min(N, 20,000)).
With --db: quality.check_samples over a fresh database holding the lines (reads, checks, writes
findings in one transaction per 1,000 samples), with 1 and W workers.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import corpus  # noqa: E402

from datagen.checks import check_stored, run_checks  # noqa: E402
from datagen.dialogue import Dialogue  # noqa: E402


def timed(fn) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


LINES: list[str] = []  # inherited by forked workers: no input is pickled


def parse_all(lines) -> int:
    n = 0
    for s in lines:
        json.loads(s)  # results dropped at once, as check_samples does per chunk
        n += 1
    return n


def check_range(bounds: tuple[int, int]) -> Counter:
    """Check LINES[a:b]; returns ``{check id: dialogues flagged}`` plus ``"_flagged"``."""
    counts: Counter = Counter()
    for s in LINES[bounds[0] : bounds[1]]:
        found = check_stored(s)
        if found:
            counts["_flagged"] += 1
            counts.update({f.check for f in found})
    return counts


def check_dialogues(lines) -> int:
    for s in lines:
        run_checks(Dialogue.model_validate_json(s))
    return len(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog="example: python benchmarks/bench_checks.py --n 100000")
    ap.add_argument("--n", type=int, default=100_000, help="dialogues (default 100,000)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes for the parallel run")
    ap.add_argument("--dialogue-n", type=int, default=None, help="lines for the pydantic path (default min(N, 20000))")
    ap.add_argument("--db", action="store_true", help="also time quality.check_samples on a database")
    ap.add_argument("--cache", type=Path, default=None, help="data cache file (default /tmp/datagen_bench_train_<N>.jsonl)")
    args = ap.parse_args(argv)
    cache = args.cache or Path(tempfile.gettempdir()) / f"datagen_bench_train_{args.n}.jsonl"
    t, lines = timed(lambda: corpus.lines(args.n, cache=cache))
    mb = sum(map(len, lines)) / 1e6
    print(f"# {corpus.machine()} {corpus.versions()}")
    print(f"data: {len(lines):,} dialogues, {mb:,.1f} MB of JSON (ready in {t:.1f} s, cache {cache})")

    LINES[:] = lines
    n = len(lines)
    t_json, _ = timed(lambda: parse_all(lines))
    print(f"json.loads          {t_json:8.2f} s  {n / t_json:10,.0f} dialogues/s")
    t_chk, counts = timed(lambda: check_range((0, n)))
    print(f"checks (stored)     {t_chk:8.2f} s  {n / t_chk:10,.0f} dialogues/s  = {t_chk / t_json:.1f}x json.loads")
    if args.workers > 1:
        w = args.workers
        with multiprocessing.get_context("fork").Pool(w) as pool:
            pool.map(check_range, [(0, 50)] * w)  # warm up: validators are compiled once per process
            step = -(-n // w)
            t_par, _ = timed(lambda: pool.map(check_range, [(k, min(n, k + step)) for k in range(0, n, step)]))
        print(f"checks x {w}          {t_par:8.2f} s  {n / t_par:10,.0f} dialogues/s  = {t_par / t_json:.2f}x json.loads")
    dn = min(n, 20_000) if args.dialogue_n is None else min(args.dialogue_n, n)
    sub = lines[:dn]
    t_sub_json, _ = timed(lambda: parse_all(sub))
    t_dlg, _ = timed(lambda: check_dialogues(sub))
    print(f"checks (Dialogue)   {t_dlg:8.2f} s  {dn / t_dlg:10,.0f} dialogues/s  = {t_dlg / t_sub_json:.1f}x json.loads  (on {dn:,})")
    flagged = counts.pop("_flagged", 0)
    print(f"findings: {flagged:,} of {n:,} dialogues flagged; by check: " + ", ".join(f"{k} {v:,}" for k, v in counts.most_common()))

    if args.db:
        from datagen import quality
        from datagen.store import connect

        with tempfile.TemporaryDirectory() as tmp:
            db = connect(Path(tmp) / "bench.db")
            t_ins, _ = timed(lambda: corpus.insert_samples(db, lines))
            print(f"db: inserted {len(lines):,} samples in {t_ins:.1f} s")
            for w in sorted({1, args.workers}):
                stats = quality.check_samples(db, workers=w)
                print(
                    f"check_samples x {w}   {stats['seconds']:8.2f} s  {stats['checked'] / stats['seconds']:10,.0f} dialogues/s  "
                    f"({stats['findings']:,} findings stored)"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
