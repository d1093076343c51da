"""Import dialogues made elsewhere from a JSONL file or a JSON document.

    python -m datagen.import_file path/to/batch_output.jsonl
    python -m datagen.import_file path/to/dataset.jsonl
    python -m datagen.import_file path/to/dialogues.json

Accepts OpenAI-compatible batch output (chat.completions bodies), seed 001 ``dataset.jsonl`` records
(whose repeating ``uid`` is kept as the customer's ``user_id``), OpenAI / Hugging Face messages records
or bare messages arrays, function-calling benchmark records (``turns`` of ``query`` + ``ground_truth``),
and ``.json`` documents holding one such record or an array of them. Each line is stored raw, then parsed; a line that is not
a dialogue is a failure with a reason, never a crash. The last stdout line is one JSON object
``{"read", "imported", "failed", "errors": [{"line", "reason"}]}``. Exit status 0 when the file
could be read, 1 with a one-line message when it could not.
"""

from __future__ import annotations

import json
import sys

from .cli import parser, run
from .ingest import import_file
from .store import get_db


def main(argv: list[str] | None = None) -> int:
    ap = parser("import_file", "Import dialogues from a JSONL file.", "python -m datagen.import_file datagen/output/dataset.jsonl")
    ap.add_argument("path", help="JSONL file, or a .json document (one record or an array)")
    args = ap.parse_args(argv)
    summary = import_file(get_db(), args.path)
    for e in summary["errors"][:20]:
        element = f"원소 {e['element']}: " if "element" in e else ""
        print(f"{args.path}:{e['line']}: {element}{e['reason']}", file=sys.stderr)
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
