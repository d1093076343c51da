"""Review targets at scale (issue "Review workbench"), printed as figures:

1. library: pick the next sample + write a decision, p95 (target ≤ 10 ms) at --n samples;
2. a full Review page run in AppTest, p95 (target ≤ 150 ms) at --n samples;
3. 8 threads writing 1,000 decisions each into one database: rows written, errors.

    python benchmarks/bench_review.py --n 100000
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

from _fixtures import build_db, machine, percentile  # noqa: E402

from datagen import review  # noqa: E402
from datagen.store import connect  # noqa: E402


def bench_library(path: Path, rounds: int) -> list[float]:
    db = connect(path)
    flt = review.QueueFilter(annotator="bench")
    times = []
    for i in range(rounds):
        t = time.perf_counter()
        uid = review.next_uid(db, flt)
        review.record_decision(db, uid, annotator="bench", decision="accept" if i % 4 else "reject", reasons=[] if i % 4 else ["other"], seconds=1.0)
        times.append((time.perf_counter() - t) * 1000)
    return times


def bench_page(path: Path, rounds: int) -> list[float]:
    from streamlit.testing.v1 import AppTest

    os.environ["DATAGEN_DB"] = str(path)
    root = Path(__file__).resolve().parents[1]
    at = AppTest.from_file(str(root / "pages" / "3_Review.py"), default_timeout=60)
    at.run()
    at.sidebar.text_input(key="annotator").input("page-bench").run()
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        next(b for b in at.button if b.key == "rev_accept").click().run()
        times.append((time.perf_counter() - t) * 1000)
        assert not at.exception, at.exception
    return times


def bench_threads(path: Path, threads: int, per_thread: int) -> tuple[int, list[str], float]:
    uids = [r[0] for r in connect(path).execute("SELECT uid FROM samples LIMIT 500")]
    errors: list[str] = []

    def work(k: int) -> None:
        db = connect(path)
        for i in range(per_thread):
            try:
                review.record_decision(db, uids[(k * 37 + i) % len(uids)], annotator=f"thread{k}", decision="accept", seconds=0.1)
            except Exception as exc:  # noqa: BLE001 - counted and printed
                errors.append(repr(exc))

    before = connect(path)["reviews"].count
    t = time.perf_counter()
    ts = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for th in ts:
        th.start()
    for th in ts:
        th.join()
    elapsed = time.perf_counter() - t
    return connect(path)["reviews"].count - before, errors, elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000, help="samples in the database")
    ap.add_argument("--rounds", type=int, default=300, help="library decisions timed")
    ap.add_argument("--page-rounds", type=int, default=40, help="AppTest page runs timed")
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--per-thread", type=int, default=1000)
    ap.add_argument("--keep", default=None, help="build the database at this path once and reuse it")
    args = ap.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DATAGEN_OUTPUT_DIR"] = tmp
        os.environ["DATAGEN_BACKEND"] = "offline"
        path = Path(args.keep) if args.keep else Path(tmp) / "bench.db"
        if not path.exists():
            built = build_db(path, args.n)
            print(f"built {args.n:,} samples in {built:.1f} s")
        lib = bench_library(path, args.rounds)
        print(f"next sample + decision: p50 {percentile(lib, 50):.2f} ms, p95 {percentile(lib, 95):.2f} ms (target ≤ 10 ms), n={len(lib)}")
        page = bench_page(path, args.page_rounds)
        print(
            f"Review page run (AppTest, decide + rerun): p50 {percentile(page, 50):.1f} ms, p95 {percentile(page, 95):.1f} ms (target ≤ 150 ms), n={len(page)}"
        )
        rows, errors, secs = bench_threads(path, args.threads, args.per_thread)
        print(
            f"{args.threads} threads × {args.per_thread} decisions: {rows:,} rows written in {secs:.1f} s, {len(errors)} errors"
            + (f" (first: {errors[0]})" if errors else "")
        )


if __name__ == "__main__":
    main()
