"""Batch-scale figures (issue "Batches at scale"):

1. ingest of an N-line batch output file with realistic dialogues, the way the Batches page's
   retrieve does it (``batches.retrieve(ingest=True)`` → ``ingest.ingest_lines``): the job's
   request rows are in the database (scenario, system prompt), each chunk of lines is stored raw
   and committed, then parsed, checked and stored as samples while the next chunk is stored. The
   HTTP download itself is left out (the lines are read from a local file). Prints seconds,
   lines/s, CPU time of the writer and of its parse-and-check workers, and the ratio to a bare
   json.loads loop over the same file (target: 100,000 lines ≤ 30 s); then, in a second run of the
   same ingest, its peak memory (the summed PSS of the writer and its workers; target ≤ 500 MB);
2. building and splitting the input for M requests (target: 120,000 ≤ 20 s).

    python benchmarks/bench_ingest.py --n 100000 --requests 120000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _fixtures import machine  # noqa: E402

BATCH_ID = "batch_bench"
ORIGIN = f"batch:{BATCH_ID}:output"


def write_batch(folder: Path, n: int) -> tuple[Path, Path]:
    """A database holding the request rows of an N-request training job (the default category mix,
    submitted as one batch) and that batch's output file: ``(database, output file)``.

    Each output line is an offline-backend answer (2% HTTP errors, 2% cut off) for one of 50
    scenarios of the request's own category, with the request's custom_id: realistic dialogue sizes
    and categories without scripting N dialogues."""
    from datagen import jobs, scenarios
    from datagen.offline import OfflineOptions, complete_request
    from datagen.store import connect

    items = scenarios.make_scenarios("train", scenarios.default_train_counts(n), 7)
    opts = OfflineOptions(error_rate=0.02, truncation_rate=0.02)
    answers: dict[str, list[dict]] = {}
    for sc in items:
        pool = answers.setdefault(sc["category"], [])
        if len(pool) < 50:
            pool.append(complete_request(sc["custom_id"], jobs.build_request_line(sc, model="gpt-4.1-mini", temperature=0.9)["body"], opts))
    out = folder / "output.jsonl"
    with out.open("w", encoding="utf-8") as fh:
        for i, sc in enumerate(items):
            pool = answers[sc["category"]]
            fh.write(json.dumps({**pool[i % len(pool)], "custom_id": sc["custom_id"]}, ensure_ascii=False) + "\n")
    db_path = folder / "requests.db"
    db = connect(db_path)
    with db.conn:
        jobs.record_requests(db, "job_bench", items)
    jobs.mark_requests(db, [sc["custom_id"] for sc in items], batch_id=BATCH_ID, status="submitted")
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return db_path, out


def _pss_kb(pid: int) -> int:
    """Proportional set size of one process (kB): shared pages split between their users, so the
    sum over the writer and its fork()ed workers is the memory the ingest really holds."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("Pss:"))
    except (OSError, StopIteration):
        return 0


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(x) for x in fh.read().split()]
    except OSError:
        return []


def ingest_child(requests_db: str, path: str, sample_memory: bool) -> None:
    """Run in a child process: one ingest of the batch output ``path`` into a copy of
    ``requests_db``; prints its seconds and CPU time and, with ``sample_memory``, its peak memory:
    the summed PSS of this process and its workers (Linux ``/proc``), sampled every 0.1 s.

    Timing and memory come from separate runs: reading ``smaps_rollup`` walks the page tables of
    the processes it measures (under their memory-map lock); the sampled run's writer spent ~2 s
    more system time (BENCHMARKS.md)."""
    import shutil
    import threading

    from datagen.ingest import _read_lines, ingest_lines
    from datagen.store import connect

    db_path = Path(os.environ["DATAGEN_OUTPUT_DIR"]) / f"ingest-{'memory' if sample_memory else 'time'}.db"
    shutil.copyfile(requests_db, db_path)
    db = connect(db_path)
    peak = {"total": 0, "writer": 0}
    done = threading.Event()

    def read() -> None:
        me = os.getpid()
        writer = _pss_kb(me)
        total = writer + sum(_pss_kb(c) for c in _children(me))
        peak["total"], peak["writer"] = max(peak["total"], total), max(peak["writer"], writer)

    def sample() -> None:
        read()
        while not done.wait(0.1):
            read()

    sampler = threading.Thread(target=sample, daemon=True)
    if sample_memory:
        sampler.start()
    t = time.perf_counter()
    summary = ingest_lines(db, ORIGIN, _read_lines(Path(path)))
    secs = time.perf_counter() - t
    done.set()
    if sample_memory:
        sampler.join()
        read()  # a last reading: a short run may end before the first 0.1 s
    db.close()
    for suffix in ("", "-wal", "-shm"):  # 1.5 GB each: do not keep two
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        json.dumps(
            {
                "seconds": secs,
                "peak_mb": peak["total"] / 1024,
                "peak_writer_mb": peak["writer"] / 1024,
                "imported": summary["imported"],
                "failed": summary["failed"],
                "read": summary["read"],
                "cpu_main": me.ru_utime + me.ru_stime,
                "cpu_workers": kids.ru_utime + kids.ru_stime,
                "sys_main": me.ru_stime,
                "sys_workers": kids.ru_stime,
            }
        )
    )


def _run_child(flag: str, requests_db: Path, out: Path) -> dict:
    """One ingest of ``out`` in a fresh process (``--child-time`` or ``--child-memory``); its JSON summary."""
    proc = subprocess.run([sys.executable, __file__, flag, str(requests_db), str(out)], capture_output=True, text=True, env=os.environ.copy())
    if proc.returncode:
        sys.exit(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] in ("--child-time", "--child-memory"):
        ingest_child(sys.argv[2], sys.argv[3], sample_memory=sys.argv[1] == "--child-memory")
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000, help="output lines to ingest")
    ap.add_argument("--requests", type=int, default=120_000, help="requests to build and split")
    args = ap.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DATAGEN_OUTPUT_DIR"] = tmp
        os.environ["DATAGEN_BACKEND"] = "offline"
        requests_db, out = write_batch(Path(tmp), args.n)
        size_mb = out.stat().st_size / 1e6
        t = time.perf_counter()
        with out.open(encoding="utf-8") as fh:
            for line in fh:
                json.loads(line)
        bare = time.perf_counter() - t
        r, m = (_run_child(flag, requests_db, out) for flag in ("--child-time", "--child-memory"))
        print(
            f"ingest {r['read']:,} batch output lines ({size_mb:.0f} MB): {r['seconds']:.1f} s ({r['read'] / r['seconds']:,.0f} lines/s), "
            f"{r['imported']:,} parsed, {r['failed']:,} failed (target ≤ 30 s); bare json.loads loop {bare:.2f} s → ratio "
            f"{r['seconds'] / bare:.1f}×; CPU: writer {r['cpu_main']:.1f} s (system {r['sys_main']:.1f} s), parse + check "
            f"workers {r['cpu_workers']:.1f} s (system {r['sys_workers']:.1f} s)"
        )
        print(
            f"memory run (sampled every 0.1 s): peak PSS, writer + workers {m['peak_mb']:.0f} MB, writer alone "
            f"{m['peak_writer_mb']:.0f} MB (target ≤ 500 MB); that run took {m['seconds']:.1f} s, writer CPU "
            f"{m['cpu_main']:.1f} s (system {m['sys_main']:.1f} s), workers {m['cpu_workers']:.1f} s"
        )

        from datagen import jobs, scenarios
        from datagen.store import connect

        db = connect(Path(tmp) / "build.db")
        t = time.perf_counter()
        job = jobs.create_job(db, kind="train", counts=scenarios.default_train_counts(args.requests), seed=3)
        built = time.perf_counter() - t
        t = time.perf_counter()
        parts = jobs.split_job(db, job["id"])
        split = time.perf_counter() - t
        print(
            f"build {job['n_requests']:,} requests: {built:.1f} s; split into {len(parts)} batch files "
            f"({', '.join(str(p['n_requests']) for p in parts)}): {split:.1f} s; total {built + split:.1f} s (target ≤ 20 s)"
        )


if __name__ == "__main__":
    main()
