"""Step 1 (training): write the Batch API request JSONL for a scenario mix and record the job.

    python -m datagen.generate_batch --count 400
    python -m datagen.generate_batch --mix search=50,checkout=20 --seed 7

Output: ``datagen/output/batch_input.jsonl`` (seed 001). No API call is made.
"""

from __future__ import annotations

import sys

from . import config, scenarios, settings
from .auth import cli_operator
from .cli import add_operator, announce_backend, parser, run
from .errors import InputError
from .jobs import create_job, part_paths
from .store import get_db


def parse_mix(text: str) -> dict[str, int]:
    """``"search=10,menu=5"`` → ``{"search": 10, "menu": 5}``.

    Raises:
        InputError: an item is not ``category=count``, the category is unknown or the count negative.
    """
    mix: dict[str, int] = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = item.partition("=")
        if not sep or not value.strip().isdigit():
            raise InputError(f"--mix 항목 {item!r}은(는) category=count 꼴이어야 합니다")
        if name.strip() not in config.CATEGORIES:
            raise InputError(f"--mix: 알 수 없는 카테고리 {name.strip()!r} (가능한 값: {', '.join(config.CATEGORIES)})")
        mix[name.strip()] = int(value)
    return mix


def main(argv: list[str] | None = None) -> int:
    ap = parser("generate_batch", "Write the training request JSONL (no API call).", "python -m datagen.generate_batch --count 400 --seed 42")
    ap.add_argument("--count", type=int, default=400, help="total requests, spread over the categories (default 400)")
    ap.add_argument("--mix", default="", help="explicit counts per category, e.g. search=10,cart=5 (overrides --count)")
    ap.add_argument("--seed", type=int, default=42, help="sampling seed (default 42)")
    ap.add_argument("--model", default=config.DEFAULT_MODEL, help=f"generator model (default {config.DEFAULT_MODEL})")
    ap.add_argument("--temperature", type=float, default=config.DEFAULT_TEMPERATURE)
    ap.add_argument("--output", default=None, help="request file (default datagen/output/batch_input.jsonl)")
    add_operator(ap)
    args = ap.parse_args(argv)
    announce_backend()  # every step that reads or makes batch data says which backend is active
    if args.count < 0:
        raise InputError("--count는 0 이상이어야 합니다")
    counts = parse_mix(args.mix) if args.mix else scenarios.default_train_counts(args.count)
    output = args.output or settings.output_dir() / "batch_input.jsonl"
    job = create_job(
        get_db(),
        kind="train",
        counts=counts,
        seed=args.seed,
        model=args.model,
        temperature=args.temperature,
        input_path=output,
        backend=settings.backend_name(),
        operator=cli_operator(args.operator) or "cli",
    )
    parts = part_paths(get_db(), job["id"])
    if parts:
        print(f"작업 {job['id']}: 요청 {job['n_requests']}건, 배치 하나의 한도를 넘어 파일 {len(parts)}개로 나눴습니다:")
        for path in parts:
            print(f"  {path}   (python -m datagen.submit_batch --input {path})")
    else:
        print(f"작업 {job['id']}: 요청 {job['n_requests']}건 → {output}")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
