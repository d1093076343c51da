"""Step 2: upload a request JSONL and create a batch (training and gold alike).

    python -m datagen.submit_batch --wait
    python -m datagen.submit_batch --input datagen/output/gold_batch_input.jsonl \
        --output datagen/output/gold_batch_input_status.json --wait

Output: ``datagen/output/batch_input_status.json`` (seed 001). Submitting the same file twice
returns the existing batch instead of paying again.
"""

from __future__ import annotations

import sys
from pathlib import Path

from . import settings
from .auth import cli_operator
from .batches import STATUS_KO, submit, wait
from .cli import add_operator, announce_backend, parser, run
from .jobs import latest_job
from .store import get_db, loads


def _progress(row: dict) -> None:
    c = loads(row["request_counts"], {}) if isinstance(row["request_counts"], str) else row["request_counts"]
    total = c.get("total") or 0
    done = (c.get("completed") or 0) + (c.get("failed") or 0)
    pct = f"{100 * done / total:.1f}%" if total else "-"
    print(f"  {row['id']}: {row['status']} ({STATUS_KO.get(row['status'], '')}) {done}/{total} ({pct})", flush=True)


FIRST_POLL_S = 1.0  # --wait checks after 1 s, 2 s, 4 s, … up to --poll-interval


def latest_request_file(db) -> str | None:
    """The request file of the most recently created job that is submitted as one file
    (generate_batch, generate_gold_batch), when it still exists: what a bare ``submit_batch``
    submits. Jobs the app or retry_failed split into parts (``job_parts``) are left out: their
    parts are submitted by ``batches.submit_job``, and the whole file would be a second batch."""
    job = latest_job(db, single_file=True)
    return job["input_file"] if job and Path(job["input_file"]).is_file() else None


def main(argv: list[str] | None = None) -> int:
    ap = parser("submit_batch", "Upload a request JSONL and create a Batch API job.", "python -m datagen.submit_batch --wait --poll-interval 10")
    ap.add_argument("--input", default=None, help="request JSONL (default: the latest job's file, e.g. gold_batch_input.jsonl after generate_gold_batch)")
    ap.add_argument("--output", default=None, help="status JSON (default <input>_status.json)")
    ap.add_argument("--wait", action="store_true", help="poll until the batch is finished")
    ap.add_argument(
        "--poll-interval", type=float, default=30.0, help="longest wait between status checks (default 30; the first checks come after 1, 2, 4 … s)"
    )
    add_operator(ap)
    args = ap.parse_args(argv)
    announce_backend()
    db = get_db()
    input_path = args.input or latest_request_file(db) or settings.output_dir() / "batch_input.jsonl"
    row = submit(db, input_path, status_path=args.output, actor=cli_operator(args.operator))
    print(f"배치 {row['id']} ({row['status']}) ← {input_path}; 상태 파일 {row['status_file']}")
    if args.wait:
        row = wait(db, row["id"], poll_interval=args.poll_interval, on_update=_progress, first_interval=FIRST_POLL_S)
        print(f"배치 {row['id']} 끝남: {row['status']}")
        if row["status"] == "failed":
            for e in (loads(row["errors"], {}) or {}).get("data", [])[:10]:
                print(f"  {e.get('line')}번째 줄: {e.get('code')}: {e.get('message')}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
