"""``python -m datagen.review``: accept or reject samples from the command line, and accept a job's
samples that no check flagged — so a CLI-only run can reach a publish.

    python -m datagen.review accept 0192f0c1-… train-search-00012 --operator 민지
    python -m datagen.review reject train-menu-00003 --reason wrong_tool --reason other --note "…" --operator 민지
    python -m datagen.review accept-clean --job-id job_20261121T120000_abc123 --operator 민지 [--dry-run]

Every decision goes through :func:`datagen.review.record_decision`, one per sample, recorded with the
operator (``--operator`` or ``DATAGEN_OPERATOR``): roles apply (``annotator``), the history shows it,
gold samples still need their second vote from another person, and ``undo`` in the app undoes it.
``accept-clean`` accepts the job's samples in the operator's queue (not yet decided by them) that have
no finding at all — no error, no warning, no duplicate, no gold overlap — and lists what it left.
Samples are named by uid or by custom_id.
"""

from __future__ import annotations

import sys

from . import review
from .auth import cli_operator
from .cli import add_operator, announce_backend, parser, run
from .store import get_db

CLI_NOTE = "CLI"


def resolve(db, name: str) -> str:
    """The uid a command-line name means: a whole uid, or a sample's custom_id.

    Raises:
        review.ReviewError: no sample has that uid or custom_id, or several share the custom_id.
    """
    if db.execute("SELECT 1 FROM samples WHERE uid = ?", [name]).fetchone():
        return name
    rows = [r[0] for r in db.execute("SELECT uid FROM samples WHERE custom_id = ? LIMIT 2", [name])]
    if len(rows) == 1:
        return rows[0]
    if rows:
        raise review.ReviewError(f"{name}: 이 custom_id를 가진 샘플이 여럿입니다; uid를 주세요")
    raise review.ReviewError(f"{name}: 이 uid나 custom_id를 가진 샘플이 없습니다")


def clean_candidates(db, job_id: str, operator: str) -> tuple[list[str], int]:
    """``(uids, flagged)``: the job's samples in ``operator``'s queue (undecided, partial gold,
    skipped — minus what they already accepted or rejected) with no finding, no duplicate cluster
    and no gold overlap, in queue order; ``flagged`` counts the queue's samples left out.

    Raises:
        review.ReviewError: no job with that id.
    """
    if not db.execute("SELECT 1 FROM jobs WHERE id = ?", [job_id]).fetchone():
        raise review.ReviewError(f"작업 {job_id}이(가) 없습니다")
    flt = review.QueueFilter(job_id=job_id, decision="todo", annotator=operator)
    where, params = flt.where()
    clean = (
        "NOT EXISTS (SELECT 1 FROM findings f WHERE f.uid = st.uid) AND NOT EXISTS (SELECT 1 FROM duplicates d "
        "WHERE d.uid = st.uid) AND NOT EXISTS (SELECT 1 FROM contamination c WHERE c.uid = st.uid)"
    )
    order, oparams = flt.order_by()
    uids = [r[0] for r in db.execute(f"SELECT st.uid FROM sample_state st{where} AND {clean}{order}", [*params, *oparams])]
    total = db.execute(f"SELECT COUNT(*) FROM sample_state st{where}", params).fetchone()[0]
    return uids, total - len(uids)


def main(argv: list[str] | None = None) -> int:
    ap = parser(
        "review",
        "Accept or reject samples; accept a job's samples without findings.",
        "python -m datagen.review accept-clean --job-id job_20261121T120000_abc123 --operator minji",
    )
    sub = ap.add_subparsers(dest="command", required=True)
    acc = sub.add_parser("accept", help="accept samples (uid or custom_id)")
    rej = sub.add_parser("reject", help="reject samples with one or more reasons")
    cln = sub.add_parser("accept-clean", help="accept every sample of a job that no check flagged")
    for p in (acc, rej):
        p.add_argument("samples", nargs="+", metavar="UID", help="uid or custom_id")
        p.add_argument("--note", default="", help="memo stored with each decision")
    acc.add_argument(
        "--override-findings",
        action="store_true",
        help="I have read these samples' error findings (python -m datagen.validate, the app): accept over them, "
        "so they ship; without it such a sample is accepted but held back as unreviewed_error",
    )
    rej.add_argument("--reason", action="append", required=True, choices=list(review.REJECT_REASONS), help="reject reason (repeat for several)")
    cln.add_argument("--job-id", required=True, help="the job (see the Batches page or `python -m datagen.stats`)")
    cln.add_argument("--dry-run", action="store_true", help="list what would be accepted, record nothing")
    for p in (acc, rej, cln):
        add_operator(p)
    args = ap.parse_args(argv)
    announce_backend()
    operator = cli_operator(args.operator)
    if not operator:
        raise review.ReviewError("작업자가 필요합니다: --operator NAME 또는 DATAGEN_OPERATOR")
    db = get_db()
    if args.command == "accept-clean":
        uids, flagged = clean_candidates(db, args.job_id, operator)
        for uid in uids:
            if not args.dry_run:
                review.record_decision(db, uid, annotator=operator, decision="accept", note=f"{CLI_NOTE}: accept-clean (no finding)", findings_seen=[])
            print(f"{'승인 예정' if args.dry_run else '승인'} {uid} ({review.sample_label(db, uid)})")
        print(
            f"작업 {args.job_id}: 검사 결과 없는 샘플 {len(uids)}건을 {operator}(으)로 {'승인 예정' if args.dry_run else '승인'}; "
            f"사람이 볼 샘플 {flagged}건 남음 (검사 결과, 중복, 골드 겹침)"
        )
        return 0
    uids = [resolve(db, name) for name in args.samples]  # all names checked before anything is recorded
    for uid in uids:
        errors = sorted({f["check_id"] for f in _findings(db, uid) if f["severity"] == "error"})
        seen = errors if args.command == "accept" and args.override_findings else []
        review.record_decision(
            db,
            uid,
            annotator=operator,
            decision=args.command,
            reasons=args.reason if args.command == "reject" else (),
            note=f"{CLI_NOTE}: {args.note}".strip(),
            findings_seen=seen,
        )
        state = review.state_of(db, uid) or {}
        line = f"{args.command} {uid} ({review.sample_label(db, uid)}) → {state.get('state')}"
        if errors and args.command == "accept":
            line += (
                f"; 오류 검사 결과 {', '.join(errors)}를 확인하고 승인"
                if seen
                else f"; 게시 보류 (오류 검사 결과 {', '.join(errors)}를 확인하지 않음: 읽은 뒤 --override-findings)"
            )
        print(line)
    return 0


def _findings(db, uid: str) -> list[dict]:
    from .quality import findings_for

    return findings_for(db, uid)


if __name__ == "__main__":
    sys.exit(run(main))
