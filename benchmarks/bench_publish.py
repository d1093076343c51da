"""Publishing target (issue "Publishing"): N approved records to parquet shards + card ≤ 15 s.

Builds a temporary database with --n samples (every 10th gold), marks them all accepted the way
the review rules leave them (``sample_state`` decided/accept with its ``accepted_review_id``, one
``reviews`` row and one ``annotator_decisions`` row each), and gives a realistic share to the other exclusion rules: error
findings on 10% (half of them seen by the person who accepted), 2% non-representative duplicates,
1% excluded by decontamination. Then times, per format:

1. ``publish.export_local``: the status query, the streaming pass, parquet shards, the card;
2. ``publish.prepare`` without writing (what the Publish page computes on each run);
3. reading the folder back with ``datasets.load_dataset``;
4. with ``--page``: one run of the Publish page in AppTest.

    python benchmarks/bench_publish.py --n 100000 --page
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from _fixtures import build_db, machine  # noqa: E402

from datagen import publish  # noqa: E402
from datagen.store import connect, now  # noqa: E402


def accept_all(path: Path) -> float:
    """Mark every sample accepted (with review rows) and add findings, duplicates, contamination."""
    started = time.perf_counter()
    db = connect(path)
    ts = now()
    with db.conn:
        db.execute("UPDATE sample_state SET state = 'decided', rank = 3, decision = 'accept', n_votes = 1, updated_at = ?", [ts])
        db.execute(
            "INSERT INTO reviews (uid, annotator, decision, reasons, note, seconds, created_at, adjudication, findings_seen) "
            "SELECT uid, 'bench', 'accept', '[]', '', 1.0, ?, 0, "
            "CASE WHEN seq % 20 = 0 THEN '[\"ungrounded_id\"]' ELSE '[]' END FROM sample_state ORDER BY seq",
            [ts],
        )
        db.execute("INSERT INTO annotator_decisions (uid, annotator, decision, review_id) SELECT uid, annotator, decision, id FROM reviews")
        db.execute("UPDATE sample_state SET accepted_review_id = (SELECT r.id FROM reviews r WHERE r.uid = sample_state.uid)")
        db.execute(
            "INSERT INTO findings (uid, check_id, severity, turn, reason, message, created_at) "
            "SELECT uid, 'ungrounded_id', 'error', 1, 'ungrounded_id', '근거 없는 ID', ? FROM sample_state WHERE seq % 10 = 0",
            [ts],
        )
        db.execute(
            "INSERT INTO duplicates (uid, cluster, kind, similarity) SELECT s.uid, (SELECT uid FROM sample_state WHERE seq = s.seq - 1), "
            "'near', 0.9 FROM sample_state s WHERE s.seq % 50 = 7"
        )
        db.execute(
            "INSERT INTO contamination (uid, gold_uid, method, overlap, band, created_at) "
            "SELECT uid, 'gold', 'tulu3_word8', 0.8, 'excluded', ? FROM sample_state WHERE seq % 100 = 3 AND kind = 'train'",
            [ts],
        )
    db.conn.close()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="samples in the database (default 100000)")
    ap.add_argument("--formats", default="qwen,openai", help="comma-separated formats to time")
    ap.add_argument("--page", action="store_true", help="also time one run of pages/4_Publish.py (AppTest)")
    args = ap.parse_args(argv)
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        print(f"build {args.n:,} samples: {build_db(path, args.n, gold_every=10):.1f} s; accept all: {accept_all(path):.1f} s")
        db = connect(path)
        for fmt in args.formats.split(","):
            folder = Path(tmp) / f"export-{fmt}"
            t = time.perf_counter()
            release = publish.export_local(db, folder, fmt=fmt)
            export_s = time.perf_counter() - t
            size = sum(p.stat().st_size for p in folder.rglob("*.parquet")) / 1e6
            left = dict(release.left_out())
            print(
                f"[{fmt}] export {release.total:,} records ({release.counts}) to {len(release.shards)} shards "
                f"({size:.1f} MB) + card: {export_s:.2f} s (target ≤ 15 s); left out {left}"
            )
            t = time.perf_counter()
            publish.prepare(db, fmt=fmt)
            print(f"[{fmt}] prepare without writing (Publish page): {time.perf_counter() - t:.2f} s")
            t = time.perf_counter()
            import datasets

            ds = datasets.load_dataset(str(folder), cache_dir=str(Path(tmp) / f"hf-cache-{fmt}"))  # not a stale shared cache
            print(f"[{fmt}] datasets.load_dataset: {time.perf_counter() - t:.2f} s, rows {ds.num_rows}")
        if args.page:
            import os

            from streamlit.testing.v1 import AppTest

            os.environ["DATAGEN_DB"] = str(path)
            at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "pages" / "4_Publish.py"), default_timeout=120)
            t = time.perf_counter()
            at.run()
            assert not at.exception, at.exception
            print(f"Publish page (AppTest, one run): {time.perf_counter() - t:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
