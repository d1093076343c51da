"""Step 2: upload a request JSONL and create a batch (training and gold alike).

    python -m datagen.submit_batch --wait
    python -m datagen.submit_batch --input datagen/output/gold_batch_input.jsonl \
        --output datagen/output/gold_batch_input_status.json --wait

Output: ``datagen/output/batch_input_status.json`` (seed 001). Submitting the same file twice
returns the existing batch instead of paying again.
"""

from __future__ import annotations

import sys

from . import settings
from .batches import STATUS_KO, submit, wait
from .auth import cli_operator
from .cli import add_operator, announce_backend, parser, run
from .store import get_db, loads


def _progress(row: dict) -> None:
    c = loads(row["request_counts"], {}) if isinstance(row["request_counts"], str) else row["request_counts"]
    total = c.get("total") or 0
    done = (c.get("completed") or 0) + (c.get("failed") or 0)
    pct = f"{100 * done / total:.1f}%" if total else "-"
    print(f"  {row['id']}: {row['status']} ({STATUS_KO.get(row['status'], '')}) {done}/{total} ({pct})", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = parser("submit_batch", "Upload a request JSONL and create a Batch API job.", "python -m datagen.submit_batch --wait --poll-interval 10")
    ap.add_argument("--input", default=None, help="request JSONL (default datagen/output/batch_input.jsonl)")
    ap.add_argument("--output", default=None, help="status JSON (default <input>_status.json)")
    ap.add_argument("--wait", action="store_true", help="poll until the batch is finished")
    ap.add_argument("--poll-interval", type=float, default=30.0, help="seconds between status checks (default 30)")
    add_operator(ap)
    args = ap.parse_args(argv)
    announce_backend()
    input_path = args.input or settings.output_dir() / "batch_input.jsonl"
    db = get_db()
    row = submit(db, input_path, status_path=args.output, actor=cli_operator(args.operator))
    print(f"batch {row['id']} ({row['status']}) from {input_path}; status file {row['status_file']}")
    if args.wait:
        row = wait(db, row["id"], poll_interval=args.poll_interval, on_update=_progress)
        print(f"batch {row['id']} finished: {row['status']}")
        if row["status"] == "failed":
            for e in (loads(row["errors"], {}) or {}).get("data", [])[:10]:
                print(f"  line {e.get('line')}: {e.get('code')}: {e.get('message')}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
