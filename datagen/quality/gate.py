"""The whole quality gate in one call (:func:`run_gate`), as ``python -m datagen.validate`` runs it.

Order: the per-dialogue and closing-line checks (:mod:`datagen.quality.per_sample`), then duplicates
(:mod:`datagen.quality.dedup`), then decontamination (:mod:`datagen.quality.decontam`).
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from ..errors import InputError
from .decontam import decontaminate
from .dedup import find_duplicates
from .findings import uids_with_errors
from .per_sample import check_samples


def run_gate(
    db: sqlite_utils.Database,
    *,
    workers: int = 1,
    duplicates: bool = True,
    decontamination: bool = True,
) -> dict:
    """Run the whole quality gate on every stored sample, in the order publishing relies on.

    Steps: :func:`check_samples` (every per-dialogue check and the repeated-closing-line check),
    then, unless switched off, :func:`find_duplicates` (within the training set) and
    :func:`decontaminate` (training samples against the gold set). Each step replaces only its own
    findings, so the gate can be re-run at any time (``python -m datagen.validate`` calls this).

    Args:
        workers: processes for the per-dialogue checks (≥ 1).
        duplicates / decontamination: run those steps (default both).

    Returns:
        ``{"checks": <check_samples result>, "duplicates": <find_duplicates result>,
        "decontamination": <decontaminate result>, "errors": <samples with an error-level finding>}``;
        a skipped step's key is absent.

    Raises:
        InputError: ``workers`` < 1.
    """
    if workers < 1:
        raise InputError("workers는 1 이상이어야 합니다")
    summary: dict[str, Any] = {"checks": check_samples(db, workers=workers)}
    if duplicates:
        summary["duplicates"] = find_duplicates(db)
    if decontamination:
        summary["decontamination"] = decontaminate(db)
    summary["errors"] = len(uids_with_errors(db))
    return summary
