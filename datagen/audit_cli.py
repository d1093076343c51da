"""``python -m datagen.audit``: audited lots from the command line (the Audit page's actions).

    python -m datagen.audit plan --job-id job_20261121T120000_abc123
    python -m datagen.audit params --p0 0.05 --confidence 0.95 --allowed-defects 0 --operator boss
    python -m datagen.audit start --job-id job_… --category search --operator 민지 [--seed 7]
    python -m datagen.audit status [--lot 3 | --job-id job_…] [--json]
    python -m datagen.audit approve --lot 3 --operator boss
    python -m datagen.audit revoke --lot 3 --operator boss --note "표본 밖에서 결함 발견"

The acting identity is ``--operator`` or ``DATAGEN_OPERATOR`` (recorded); roles apply as in the app
(:mod:`datagen.audit`: publisher for params / approve / revoke, annotator or publisher for start).
The audit sample itself is reviewed with ``python -m datagen.review`` or in the app.
"""

from __future__ import annotations

import json
import sys

from . import audit
from .auth import cli_operator
from .cli import add_operator, parser, run
from .store import get_db


def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def _print_status(s: audit.LotStatus) -> None:
    print(
        f"로트 {s.id}  {s.job_id} / {s.category}  state={s.state}  verdict={s.verdict}  size={s.size}  sample={s.sample_size}  "
        f"audited={s.audited}  defects={s.defects}  upper_bound={_pct(s.upper_bound)}  p0={_pct(s.p0)}  "
        f"confidence={_pct(s.confidence)}  allowed_defects={s.allowed_defects}  approved={s.approved}  held={s.held}  seed={s.seed}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = parser(
        "audit", "Audited lots: plan, set parameters, start, status, approve, revoke.", "python -m datagen.audit plan --job-id job_20261121T120000_abc123"
    )
    sub = ap.add_subparsers(dest="command", required=True)
    pl = sub.add_parser("plan", help="the lots of a job: size, sample size (no change made)")
    pl.add_argument("--job-id", required=True)
    pa = sub.add_parser("params", help="set the audit parameters (publisher); without flags, print them")
    pa.add_argument("--p0", type=float, default=None, help="acceptable defect rate, e.g. 0.05")
    pa.add_argument("--confidence", type=float, default=None, help="one-sided confidence, e.g. 0.95")
    pa.add_argument("--allowed-defects", type=int, default=None, help="defects a passing audit may find (default 0)")
    stt = sub.add_parser("start", help="start the audit of one lot: draw its sample (annotator or publisher)")
    stt.add_argument("--job-id", required=True)
    stt.add_argument("--category", required=True)
    stt.add_argument("--seed", type=int, default=None, help="seed of the draw (default: random, stored)")
    st = sub.add_parser("status", help="lots with their audit figures")
    st.add_argument("--lot", type=int, default=None)
    st.add_argument("--job-id", default=None)
    st.add_argument("--json", action="store_true", help="one JSON object per lot")
    apr = sub.add_parser("approve", help="approve a lot whose audit bound holds (publisher)")
    apr.add_argument("--lot", type=int, required=True)
    rv = sub.add_parser("revoke", help="revoke a lot's approval (publisher)")
    rv.add_argument("--lot", type=int, required=True)
    rv.add_argument("--note", default="", help="why (recorded with the revocation)")
    for sp in (pa, stt, apr, rv):
        add_operator(sp)
    args = ap.parse_args(argv)
    db = get_db()
    if args.command == "plan":
        p = audit.params(db)
        print(f"감사 기준: p0={_pct(p.p0)} confidence={_pct(p.confidence)} allowed_defects={p.allowed_defects} → n={p.sample_size}")
        for row in audit.plan(db, args.job_id):
            note = "전수 검토" if row["census"] else f"{row['size']}건 중 {row['sample_size']}건 감사 ({_pct(row['share'])})"
            print(
                f"{row['category']}: 확인 필요 {row['lanes']['flagged']}건, 깨끗함 {row['lanes']['clean']}건, 로트 크기 {row['size']}건: {note}"
                + (f"; 로트 {row['open_lot']} 감사 중" if row["open_lot"] else "")
            )
        return 0
    if args.command == "params":
        if args.p0 is None and args.confidence is None and args.allowed_defects is None:
            p = audit.params(db)
        else:
            cur = audit.params(db)
            p = audit.set_params(
                db,
                p0=cur.p0 if args.p0 is None else args.p0,
                confidence=cur.confidence if args.confidence is None else args.confidence,
                allowed_defects=cur.allowed_defects if args.allowed_defects is None else args.allowed_defects,
                actor=cli_operator(args.operator),
            )
        print(
            f"감사 기준: p0={_pct(p.p0)} confidence={_pct(p.confidence)} allowed_defects={p.allowed_defects} sample_size={p.sample_size} "
            f"set_by={p.set_by or '-'} set_at={p.set_at or '-'}"
        )
        return 0
    if args.command == "start":
        lot_id = audit.start(db, args.job_id, args.category, actor=cli_operator(args.operator), seed=args.seed)
        _print_status(audit.status(db, lot_id))
        return 0
    if args.command == "status":
        found = [audit.status(db, args.lot)] if args.lot is not None else audit.lots(db, args.job_id)
        for s in found:
            if args.json:
                print(json.dumps(audit.as_dict(s), ensure_ascii=False))
            else:
                _print_status(s)
        if not found:
            print("로트가 없습니다")
        return 0
    if args.command == "approve":
        n = audit.approve(db, args.lot, actor=cli_operator(args.operator))
        print(f"로트 {args.lot}: 샘플 {n}건 승인")
        _print_status(audit.status(db, args.lot))
        return 0
    n = audit.revoke(db, args.lot, actor=cli_operator(args.operator), note=args.note)
    print(f"로트 {args.lot}: 샘플 {n}건의 승인 철회")
    _print_status(audit.status(db, args.lot))
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
