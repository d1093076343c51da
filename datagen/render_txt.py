"""Step 5: render each ``dataset.jsonl`` record as Qwen2.5 chat-template text, one file per record.

    python -m datagen.render_txt
    python -m datagen.render_txt --input datagen/output/gold_dataset.jsonl --output-dir /tmp/gold_txt

Output: ``datagen/output/samples/sample_0001.txt``, ``sample_0002.txt``, … (seed 001). A line that is
not a record is reported as ``<file>:<line>: <reason>`` and skipped; the exit status is 1 then.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from . import settings
from .cli import announce_backend, parser, run
from .dialogue import FormatError, from_seed_record, render_qwen_text
from .errors import MissingFileError


def render_file(input_path: Path, output_dir: Path) -> tuple[int, list[str]]:
    """Render every record of a seed 001 JSONL; returns ``(files written, error lines)``.

    Raises:
        MissingFileError: the input file does not exist (also a ``FileNotFoundError``).
    """
    if not input_path.is_file():
        raise MissingFileError(f"{input_path}: 파일이 없습니다 (먼저 preprocess를 실행하세요)")
    output_dir.mkdir(parents=True, exist_ok=True)
    for old in output_dir.glob("sample_*.txt"):
        old.unlink()
    written, errors = 0, []
    with input_path.open(encoding="utf-8", errors="replace") as fh:
        for no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                d = from_seed_record(json.loads(line))
            except json.JSONDecodeError as exc:
                errors.append(f"{input_path}:{no}: 올바른 JSON이 아닙니다 ({exc.msg})")
                continue
            except FormatError as exc:
                errors.append(f"{input_path}:{no}: {exc}")
                continue
            written += 1
            (output_dir / f"sample_{written:04d}.txt").write_text(render_qwen_text(d), encoding="utf-8")
    return written, errors


def default_input() -> Path:
    """``dataset.jsonl``, or ``gold_dataset.jsonl`` when the latest job is a gold job (preprocess
    writes the two files apart): bare steps 1–5 after ``generate_gold_batch`` render the gold set."""
    from .jobs import latest_job
    from .store import get_db

    job = latest_job(get_db())
    return settings.output_dir() / ("gold_dataset.jsonl" if job and job["kind"] == "gold" else "dataset.jsonl")


def main(argv: list[str] | None = None) -> int:
    ap = parser(
        "render_txt", "Render dataset.jsonl records as Qwen chat-template .txt files.", "python -m datagen.render_txt --input datagen/output/dataset.jsonl"
    )
    ap.add_argument("--input", default=None, help="seed 001 JSONL (default datagen/output/dataset.jsonl; gold_dataset.jsonl when the latest job is gold)")
    ap.add_argument("--output-dir", default=None, help="folder (default datagen/output/samples)")
    args = ap.parse_args(argv)
    announce_backend()  # every step that reads or makes batch data says which backend is active
    input_path = Path(args.input or default_input())
    if not args.input:
        print(f"입력 {input_path}", file=sys.stderr)
    out_dir = Path(args.output_dir or settings.output_dir() / "samples")
    written, errors = render_file(input_path, out_dir)
    for e in errors:
        print(e, file=sys.stderr)
    print(f"파일 {written}개 → {out_dir}" + (f"; 건너뛴 줄 {len(errors)}" if errors else ""))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(run(main))
