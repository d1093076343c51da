"""Step 3: download a finished batch's output and error lines into the database.

    python -m datagen.retrieve_batch
    python -m datagen.retrieve_batch --status-file datagen/output/gold_batch_input_status.json

Every line is stored raw before parsing; retrieving twice adds nothing. Also writes seed 001's
``datagen/output/result_lst.json``. Expired and cancelled batches deliver their finished lines.
"""

from __future__ import annotations

import sys

from . import settings
from .batches import load_status_file, retrieve
from .cli import announce_backend, parser, run
from .store import get_db


def main(argv: list[str] | None = None) -> int:
    ap = parser(
        "retrieve_batch", "Download a finished batch's results.", "python -m datagen.retrieve_batch --status-file datagen/output/batch_input_status.json"
    )
    ap.add_argument("--status-file", default=None, help="status JSON from submit_batch (default: the batch submitted last)")
    ap.add_argument("--batch-id", default=None, help="batch id (instead of --status-file)")
    ap.add_argument("--output", default=None, help="result list JSON (default datagen/output/result_lst.json)")
    args = ap.parse_args(argv)
    announce_backend()
    db = get_db()
    if args.batch_id or args.status_file:
        batch_id = args.batch_id or load_status_file(args.status_file)["batch_id"]
    else:  # the batch submitted last (training or gold), else seed 001's status file
        row = db.execute("SELECT id, status_file FROM batches ORDER BY created_at DESC, rowid DESC LIMIT 1").fetchone()
        batch_id = row[0] if row else load_status_file(settings.output_dir() / "batch_input_status.json")["batch_id"]
        if row:
            print(f"마지막으로 제출한 배치 {batch_id}" + (f" (상태 파일 {row[1]})" if row[1] else ""), file=sys.stderr)
    summary = retrieve(db, batch_id, result_path=args.output or settings.output_dir() / "result_lst.json")
    print(f"배치 {batch_id} ({summary['status']}): 출력 {summary['output_lines']}줄, 오류 {summary['error_lines']}줄, 새로 받은 줄 {summary['new_lines']}")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
