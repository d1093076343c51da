"""The seed 001 fixture (``fixtures/seed001_dataset.jsonl``): which sample each of its lines became.

A seed record's ``uid`` is the customer's id (kept as ``Dialogue.user_id``), not the sample's: the
sample uid of an imported line is looked up by its raw line.
"""

from __future__ import annotations

from pathlib import Path

SEED = Path(__file__).parent / "fixtures" / "seed001_dataset.jsonl"


def seed_uid(db, line_no: int) -> str:
    """The sample uid stored from line ``line_no`` (from 1) of the imported seed fixture.

    Raises:
        LookupError: that line was not imported (or did not become a sample).
    """
    row = db.execute(
        "SELECT sample_uid FROM raw_results WHERE origin = ? AND line_no = ? AND sample_uid IS NOT NULL",
        [f"import:{SEED.resolve()}", line_no],
    ).fetchone()
    if row is None:
        raise LookupError(f"line {line_no} of {SEED.name} is not a stored sample")
    return row[0]
