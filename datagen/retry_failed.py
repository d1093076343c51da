"""Resubmit exactly the failed, expired or unparseable requests of a job as a new batch.

    python -m datagen.retry_failed --job-id job_20261121T120000_abc123
    python -m datagen.retry_failed --job-id job_… --wait --poll-interval 10

The new batch is linked to the old one; requests keep their custom_id and count one more attempt.
Run retrieve_batch and preprocess first, so that unparseable lines are known.
"""

from __future__ import annotations

import sys

from .batches import retry_failed, wait
from .auth import cli_operator
from .cli import add_operator, announce_backend, parser, run
from .store import get_db


def main(argv: list[str] | None = None) -> int:
    ap = parser("retry_failed", "Resubmit a job's failed requests as a new batch.", "python -m datagen.retry_failed --job-id job_20261121T120000_abc123")
    ap.add_argument("--job-id", required=True, help="the job (see the Batches page or the jobs table)")
    ap.add_argument("--wait", action="store_true", help="poll until the new batch is finished")
    ap.add_argument("--poll-interval", type=float, default=30.0)
    add_operator(ap)
    args = ap.parse_args(argv)
    announce_backend()
    db = get_db()
    row = retry_failed(db, args.job_id, actor=cli_operator(args.operator))
    if row is None:
        print(f"job {args.job_id}: nothing to retry")
        return 0
    print(f"job {args.job_id}: retry batch {row['id']} ({row['status']})")
    if args.wait:
        row = wait(db, row["id"], poll_interval=args.poll_interval)
        print(f"batch {row['id']} finished: {row['status']}")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
