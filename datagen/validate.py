"""Re-run the quality gate on every stored sample and print what it found.

    python -m datagen.validate                 # counts per check (a table)
    python -m datagen.validate --json          # one JSON line per sample
    python -m datagen.validate --workers 2     # check with two processes
    python -m datagen.validate --calibration   # precision / recall on the labelled corpora (no database)

Runs, in order: every per-dialogue check and the repeated-closing-line check
(:func:`datagen.quality.check_samples`), duplicates within the training set
(:func:`~datagen.quality.find_duplicates`) and decontamination against the gold set
(:func:`~datagen.quality.decontaminate`), as one call, :func:`datagen.quality.run_gate`; all findings are stored in the database (``findings``).

Output: a table ``check  severity  reason  samples  title`` and a summary line; with ``--json``, one
line per sample ``{"uid": ..., "findings": [{"check", "severity", "turn", "reason", "message"}]}``
(``turn`` is the 0-based index into the dialogue's turns, or null) and the summary on stderr.
Exit status 0 (findings are data, not failures); 1 with a one-line message when the database
cannot be used.
"""

from __future__ import annotations

import json
import sys

from . import quality
from .checks import CHECKS
from .cli import announce_backend, pad, parser, run
from .errors import InputError
from .store import get_db


def _json_lines(db) -> None:
    out = sys.stdout
    for uid, findings in quality.findings_by_uid(db):
        out.write(json.dumps({"uid": uid, "findings": findings}, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = parser("validate", "Re-run all checks, duplicates and decontamination; print counts per check.", "python -m datagen.validate --json")
    ap.add_argument("--json", action="store_true", help="one JSON line per sample with its findings")
    ap.add_argument("--workers", type=int, default=1, help="processes for the per-dialogue checks (default 1)")
    ap.add_argument("--no-duplicates", action="store_true", help="skip duplicate detection")
    ap.add_argument("--no-decontamination", action="store_true", help="skip the comparison with the gold set")
    ap.add_argument(
        "--calibration",
        action="store_true",
        help="print per-check precision / recall on the real and the scripted labelled corpora (datagen.calibration; reads tests/fixtures, not the database)",
    )
    args = ap.parse_args(argv)
    if args.calibration:
        from . import calibration

        result = calibration.calibrate()
        if args.json:
            print(json.dumps(result, ensure_ascii=False))
        else:
            for line in calibration.format_report(result):
                print(line)
        return 0
    if args.workers < 1:
        raise InputError("--workers는 1 이상이어야 합니다")
    announce_backend()  # every step that reads or makes batch data says which backend is active
    db = get_db()
    summary = quality.run_gate(db, workers=args.workers, duplicates=not args.no_duplicates, decontamination=not args.no_decontamination)
    counts = quality.finding_counts(db)
    errors = summary["errors"]
    line = f"샘플 {summary['checks']['checked']:,}건을 {summary['checks']['seconds']:.1f}초 동안 검사: 오류 수준 검사 결과가 있는 샘플 {errors:,}건"
    if args.json:
        _json_lines(db)
        print(line, file=sys.stderr)
        return 0
    print(f"{pad('검사', 28)} {pad('심각도', 8)} {pad('거절 사유', 24)} {pad('샘플 수', 8, right=True)}  제목")
    for check_id, spec in CHECKS.items():
        print(f"{check_id:28} {spec.severity:8} {spec.reason:24} {counts.get(check_id, 0):>8,}  {spec.title}")
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
