"""Step 1 (evaluation): write the gold-set request JSONL: 8 categories × 10 = 80 requests (seed 001).

    python -m datagen.generate_gold_batch

Output: ``datagen/output/gold_batch_input.jsonl``.
"""

from __future__ import annotations

import sys

from . import config, settings
from .auth import cli_operator
from .cli import add_operator, announce_backend, parser, run
from .jobs import create_job
from .store import get_db


def main(argv: list[str] | None = None) -> int:
    ap = parser("generate_gold_batch", "Write the gold-set request JSONL (8 categories x 10).", "python -m datagen.generate_gold_batch --seed 1")
    ap.add_argument("--per-category", type=int, default=config.GOLD_COUNT_PER_CATEGORY, help="requests per category (default 10)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--model", default=config.DEFAULT_MODEL)
    ap.add_argument("--temperature", type=float, default=config.DEFAULT_TEMPERATURE)
    ap.add_argument("--output", default=None, help="request file (default datagen/output/gold_batch_input.jsonl)")
    add_operator(ap)
    args = ap.parse_args(argv)
    announce_backend()  # every step that reads or makes batch data says which backend is active
    output = args.output or settings.output_dir() / "gold_batch_input.jsonl"
    counts = {c: args.per_category for c in config.CATEGORIES}
    job = create_job(
        get_db(),
        kind="gold",
        counts=counts,
        seed=args.seed,
        model=args.model,
        temperature=args.temperature,
        input_path=output,
        backend=settings.backend_name(),
        operator=cli_operator(args.operator) or "cli",
    )
    print(f"작업 {job['id']}: 골드 요청 {job['n_requests']}건 → {output}")
    return 0


if __name__ == "__main__":
    sys.exit(run(main))
