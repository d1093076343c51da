"""The ``findings`` table: writing rule findings, reading every finding back.

Tables from migration ``002_quality_gate``; ``findings.source`` from migration ``012_judge``: ``rule``
(:data:`RULE_SOURCE`) for what the checks and this package write, ``judge:<model>`` for a judge
model's (:mod:`datagen.judge` writes those, :data:`JUDGE_CHECK`).

Each writer in the package owns its check ids (``per_sample.PER_SAMPLE``, ``closing.CLOSING``,
``dedup.DUPLICATE``, ``decontam.CONTAMINATION``) and replaces only those, and only rule rows
(:func:`_replace_findings`), so re-running one never drops another's findings nor a judge's. A finding
that is found again unchanged (same check, turn and message) keeps its first ``created_at``: "a person
accepted it after the finding was shown" can be decided by comparing a review's time with the
finding's (:func:`latest_error_at`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import sqlite_utils

from .. import checks
from ..checks.core import CHECKS
from ..store import insert_values, now
from .samples import _chunks

RULE_SOURCE = "rule"
"""``findings.source`` of everything this module and the checks write (migration 012: the default)."""
JUDGE_CHECK = "judge"
"""``findings.check_id`` of a judge model's finding (source ``judge:<model>``, :mod:`datagen.judge`);
its reject reason key is in ``findings.reason``."""
JUDGE_TITLE = "판정 모델"
"""The Korean title of :data:`JUDGE_CHECK` findings (not a registered check: a model, not a rule)."""


FINDINGS_INSERT_SQL = "INSERT INTO findings (uid, check_id, severity, turn, reason, message, created_at) {values}"
"""Rule findings ``(uid, check_id, severity, turn, reason, message, created_at)`` for :func:`store.insert_values`."""


def _replace_findings(db: sqlite_utils.Database, uids: Sequence[str], check_ids: Sequence[str], rows: list[tuple]) -> None:
    """Within the caller's transaction: delete ``check_ids`` findings of ``uids`` whose source is
    :data:`RULE_SOURCE` (a judge model's findings are never touched: :mod:`datagen.judge` replaces
    its own), insert ``rows`` ``(uid, check_id, severity, turn, reason, message)`` as rule findings,
    keeping ``created_at`` of unchanged ones."""
    ids_sql = ",".join("?" * len(check_ids))
    old: dict[tuple, str] = {}
    for part in _chunks(uids, 500):
        marks = ",".join("?" * len(part))
        for uid, cid, turn, message, created in db.execute(
            f"SELECT uid, check_id, turn, message, created_at FROM findings WHERE uid IN ({marks}) AND check_id IN ({ids_sql}) AND source = 'rule'",
            [*part, *check_ids],
        ):
            old.setdefault((uid, cid, turn, message), created)
        db.execute(f"DELETE FROM findings WHERE uid IN ({marks}) AND check_id IN ({ids_sql}) AND source = 'rule'", [*part, *check_ids])
    ts = now()
    insert_values(
        db,
        FINDINGS_INSERT_SQL,
        [(u, c, s, t, r, m, old.get((u, c, t, m), ts)) for u, c, s, t, r, m in rows],
    )


def _rows(uid: str, findings: Iterable[checks.Finding]) -> list[tuple]:
    return [(uid, f.check, f.severity, f.turn, f.reason, f.message) for f in findings]


_SEVERITY_ORDER = "CASE severity WHEN 'error' THEN 0 ELSE 1 END"


def findings_for(db: sqlite_utils.Database, uid: str) -> list[dict]:
    """The stored findings of one sample, rule checks' and judge models' alike.

    Returns:
        ``[{"id", "uid", "check_id", "title", "severity", "turn", "reason", "message", "created_at",
        "source"}]`` ordered by turn (findings about the whole dialogue, ``turn`` None, last), errors
        before warnings, rule findings before a judge's, then id. ``title`` is the check's short
        Korean name (:data:`JUDGE_TITLE` and the model for a judge's). ``source``: ``rule`` or
        ``judge:<model>``. ``[]`` for an unknown uid.
    """
    out = []
    for r in db.query(
        f"SELECT id, uid, check_id, severity, turn, reason, message, created_at, source FROM findings WHERE uid = ? "
        f"ORDER BY turn IS NULL, turn, {_SEVERITY_ORDER}, source != 'rule', id",
        [uid],
    ):
        spec = CHECKS.get(r["check_id"])
        if r["source"] != RULE_SOURCE:
            title = f"{JUDGE_TITLE} {r['source'].partition(':')[2]}"
        else:
            title = spec.title if spec else r["check_id"]
        out.append({**r, "title": title})
    return out


def findings_by_uid(db: sqlite_utils.Database) -> Iterator[tuple[str, list[dict]]]:
    """Every sample's stored findings, in sample insertion order (samples without one included).

    Yields:
        ``(uid, [{"check", "severity", "turn", "reason", "message"}])``, findings ordered by turn
        (whole-dialogue findings, ``turn`` None, last), errors before warnings, then id.
    """
    by_uid: dict[str, list[dict]] = {}
    for uid, check_id, severity, turn, reason, message in db.execute(
        f"SELECT uid, check_id, severity, turn, reason, message FROM findings ORDER BY uid, turn IS NULL, turn, {_SEVERITY_ORDER}, id"
    ):
        by_uid.setdefault(uid, []).append({"check": check_id, "severity": severity, "turn": turn, "reason": reason, "message": message})
    for (uid,) in db.execute("SELECT uid FROM samples ORDER BY rowid"):
        yield uid, by_uid.get(uid, [])


def finding_counts(db: sqlite_utils.Database, *, severity: str | None = None) -> dict[str, int]:
    """``{check_id: samples having at least one finding of it}`` (optionally one severity), in
    registry order; checks with no finding are left out."""
    sql = "SELECT check_id, COUNT(DISTINCT uid) FROM findings" + (" WHERE severity = ?" if severity else "") + " GROUP BY check_id"
    counts = dict(db.execute(sql, [severity] if severity else []).fetchall())
    order = {c: n for n, c in enumerate(CHECKS)}
    return {c: counts[c] for c in sorted(counts, key=lambda c: order.get(c, len(order)))}


def uids_with_errors(db: sqlite_utils.Database) -> set[str]:
    """uids of samples having at least one error-level finding."""
    return {u for (u,) in db.execute("SELECT DISTINCT uid FROM findings WHERE severity = 'error'")}


def uids_with_findings(db: sqlite_utils.Database, check_ids: Iterable[str] | None = None, *, severity: str | None = None) -> set[str]:
    """uids having a finding of any of ``check_ids`` (default: any check), optionally of one severity
    (for Review filters)."""
    clauses, params = [], []
    ids = list(check_ids) if check_ids is not None else None
    if ids is not None:
        if not ids:
            return set()
        clauses.append(f"check_id IN ({','.join('?' * len(ids))})")
        params += ids
    if severity:
        clauses.append("severity = ?")
        params.append(severity)
    sql = "SELECT DISTINCT uid FROM findings" + (" WHERE " + " AND ".join(clauses) if clauses else "")
    return {u for (u,) in db.execute(sql, params)}


def latest_error_at(db: sqlite_utils.Database) -> dict[str, str]:
    """``{uid: created_at of its newest error-level finding}``: a sample may be published only if
    a person accepted it after that time (the finding was on screen when they decided)."""
    return dict(db.execute("SELECT uid, MAX(created_at) FROM findings WHERE severity = 'error' GROUP BY uid").fetchall())
