"""Step 4: parse downloaded batch lines into Dialogues and write ``dataset.jsonl`` (seed 001 format).

    python -m datagen.preprocess

Every line that fails is stored with its reason and counted; the counts are printed. Writes
``datagen/output/dataset.jsonl`` (training samples) and ``gold_dataset.jsonl`` (gold samples).
"""

from __future__ import annotations

import sys
from collections import Counter

from . import settings
from .cli import announce_backend, parser, run
from .ingest import preprocess, write_dataset_jsonl
from .store import get_db


def main(argv: list[str] | None = None) -> int:
    ap = parser("preprocess", "Parse downloaded batch lines; write dataset.jsonl.", "python -m datagen.preprocess")
    ap.add_argument("--batch-id", default=None, help="only this batch (default: every downloaded batch)")
    ap.add_argument("--output", default=None, help="training records (default datagen/output/dataset.jsonl)")
    ap.add_argument("--gold-output", default=None, help="gold records (default datagen/output/gold_dataset.jsonl)")
    args = ap.parse_args(argv)
    announce_backend()  # every step that reads or makes batch data says which backend is active
    db = get_db()
    summary = preprocess(db, batch_id=args.batch_id)
    out = args.output or settings.output_dir() / "dataset.jsonl"
    gold_out = args.gold_output or settings.output_dir() / "gold_dataset.jsonl"
    n_train = write_dataset_jsonl(db, out, kind="train")
    n_gold = write_dataset_jsonl(db, gold_out, kind="gold")
    print(
        f"{summary['read']}줄 읽음: 파싱 {summary['imported']}건, 실패 {summary['failed']}건"
        + (f", 판정 {summary['judged']}건 저장" if summary.get("judged") else "")
    )
    for reason, n in Counter(e["reason"].split(":")[0] for e in summary["errors"]).most_common(10):
        print(f"  실패: {reason} ×{n}")
    print(f"{out}: 레코드 {n_train}건; {gold_out}: 레코드 {n_gold}건")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
