"""Resubmit exactly the failed, expired or unparseable requests of a job as a new batch; with
``--rejected``, also regenerate the job's rejected samples with a new seed.

    python -m datagen.retry_failed --job-id job_20261121T120000_abc123
    python -m datagen.retry_failed --job-id job_… --wait --poll-interval 10
    python -m datagen.retry_failed --job-id job_… --rejected --seed 7

The retry batch is linked to the old one; requests keep their custom_id and count one more attempt.
The regeneration is a new job (one fresh scenario per rejected sample, same category, linked to it:
``requests.regenerates``), submitted at once. Run retrieve_batch and preprocess first, so that
unparseable lines are known.
"""

from __future__ import annotations

import sys

from . import settings
from .auth import cli_operator
from .batches import retry_failed, submit_job, wait
from .cli import add_operator, announce_backend, parser, run
from .jobs import default_regenerate_seed, get_job, regenerate_rejected
from .store import get_db


def main(argv: list[str] | None = None) -> int:
    ap = parser("retry_failed", "Resubmit a job's failed requests as a new batch.", "python -m datagen.retry_failed --job-id job_20261121T120000_abc123")
    ap.add_argument("--job-id", required=True, help="the job (see the Batches page or the jobs table)")
    ap.add_argument("--rejected", action="store_true", help="also regenerate the job's rejected samples as a new job")
    ap.add_argument("--seed", type=int, default=None, help="seed for the regenerated scenarios (default: the job's seed + 1000: jobs.default_regenerate_seed)")
    ap.add_argument("--wait", action="store_true", help="poll until the new batch is finished")
    ap.add_argument("--poll-interval", type=float, default=30.0)
    add_operator(ap)
    args = ap.parse_args(argv)
    announce_backend()
    db = get_db()
    actor = cli_operator(args.operator)
    started = []
    row = retry_failed(db, args.job_id, actor=actor)
    if row is None:
        print(f"작업 {args.job_id}: 재시도할 요청이 없습니다")
    else:
        print(f"작업 {args.job_id}: 재시도 배치 {row['id']} ({row['status']})")
        started.append(row)
    if args.rejected:
        job = get_job(db, args.job_id)
        seed = args.seed if args.seed is not None else default_regenerate_seed(job["seed"])
        new = regenerate_rejected(db, kind=job["kind"], seed=seed, job_id=args.job_id, operator=actor, backend=settings.backend_name())
        if new is None:
            print(f"작업 {args.job_id}: 다시 생성할 반려 샘플이 없습니다")
        else:
            parts = submit_job(db, new["id"], actor=actor)
            print(
                f"작업 {args.job_id}: 반려된 샘플 {new['regenerates']}건을 작업 {new['id']}로 다시 생성 (시드 {seed}), 배치 {', '.join(p['id'] for p in parts)}"
            )
            started += parts
    if args.wait:
        for row in started:
            row = wait(db, row["id"], poll_interval=args.poll_interval)
            print(f"배치 {row['id']} 끝남: {row['status']}")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
