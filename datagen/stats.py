"""Counts per kind, category and state: the funnel requested → returned → parsed → accepted → published.

CLI::

    python -m datagen.stats          # a table
    python -m datagen.stats --json   # one JSON object

States (ARCHITECTURE.md, "The funnel"):
    requested  requests planned or submitted (rows in ``requests``)
    returned   requests with at least one output or error line downloaded
    parsed     samples stored (from batches or imports)
    failed     raw lines that could not be parsed (each with its reason)
    accepted / rejected / skipped / pending   samples by their review bucket (datagen.review.bucket_sql;
               disputed gold counts as pending)
    published  samples in at least one publish (local export or Hub)
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict

import sqlite_utils

from .review import bucket_sql
from .store import get_db

STATES = ("requested", "returned", "parsed", "failed", "accepted", "rejected", "skipped", "pending", "published")

_STATE_OF_BUCKET = {"accept": "accepted", "reject": "rejected", "skip": "skipped", "pending": "pending", "disputed": "pending"}
"""Funnel state of each review bucket (:func:`datagen.review.bucket_sql`); the funnel has no
disputed column: gold whose votes disagree is still waiting for a decision."""


def funnel(db: sqlite_utils.Database) -> dict[str, dict[str, dict[str, int]]]:
    """``{kind: {category: {state: count}}}`` for every kind and category seen; see module docstring."""
    out: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: dict.fromkeys(STATES, 0)))

    def add(sql: str, state: str) -> None:
        for kind, category, n in db.execute(sql):
            out[kind or "unknown"][category or "unknown"][state] += n

    # judge requests (kind 'judge', custom_id 'judge:…': datagen.judge) ask about dialogues, they do
    # not make any: the funnel leaves them out (python -m datagen.judge status counts them)
    add("SELECT kind, category, COUNT(*) FROM requests WHERE kind != 'judge' GROUP BY 1, 2", "requested")
    add(
        "SELECT q.kind, q.category, COUNT(*) FROM requests q WHERE q.kind != 'judge' AND q.custom_id IN "
        "(SELECT custom_id FROM raw_results WHERE origin LIKE 'batch:%' AND custom_id IS NOT NULL) GROUP BY 1, 2",
        "returned",
    )
    add("SELECT kind, category, COUNT(*) FROM samples GROUP BY 1, 2", "parsed")
    add(
        "SELECT COALESCE(q.kind, 'train'), COALESCE(q.category, 'unknown'), COUNT(*) FROM raw_results r "
        "LEFT JOIN requests q ON q.custom_id = r.custom_id WHERE r.status = 'failed' "
        "AND (r.custom_id IS NULL OR substr(r.custom_id, 1, 6) != 'judge:') GROUP BY 1, 2",
        "failed",
    )
    for kind, category, bucket, n in db.execute(f"SELECT kind, category, {bucket_sql('')}, COUNT(*) FROM sample_state GROUP BY 1, 2, 3"):
        out[kind][category][_STATE_OF_BUCKET[bucket]] += n
    add(
        "SELECT s.kind, s.category, COUNT(DISTINCT s.uid) FROM samples s JOIN publish_items p ON p.uid = s.uid GROUP BY 1, 2",
        "published",
    )
    return {k: {c: dict(v) for c, v in sorted(cats.items())} for k, cats in sorted(out.items())}


def totals(f: dict[str, dict[str, dict[str, int]]]) -> dict[str, int]:
    """Sum a :func:`funnel` over kinds and categories: ``{state: count}``."""
    tot = dict.fromkeys(STATES, 0)
    for cats in f.values():
        for states in cats.values():
            for s, n in states.items():
                tot[s] += n
    return tot


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; see the module docstring. Example: ``python -m datagen.stats --json``."""
    ap = argparse.ArgumentParser(
        prog="python -m datagen.stats",
        description="Counts per kind, category and state.",
        epilog="example: python -m datagen.stats --json",
    )
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    from .cli import announce_backend  # (datagen.cli imports the library; stats is part of it)

    announce_backend()  # every step that reads or makes batch data says which backend is active
    f = funnel(get_db())
    if args.json:
        print(json.dumps({"by_kind": f, "total": totals(f)}, ensure_ascii=False))
        return 0
    from .cli import pad

    header = f"{pad('종류', 6)} {pad('카테고리', 14)} " + " ".join(f"{s:>9}" for s in STATES)
    print(header)
    for kind, cats in f.items():
        for cat, states in cats.items():
            print(f"{kind:6} {cat:14} " + " ".join(f"{states[s]:>9}" for s in STATES))
    tot = totals(f)
    print(f"{pad('합계', 6)} {'':14} " + " ".join(f"{tot[s]:>9}" for s in STATES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
