"""Review: the queue of samples to decide and the append-only decision log.

A decision is an appended ``reviews`` row (uid, annotator, decision, reasons, note, seconds); the
latest row per uid is the sample's decision (DESIGN.md, Storage). Nothing is updated in place, so
two annotators deciding at once lose nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from .dialogue import Dialogue
from .store import dumps, loads, now

DECISIONS = ("accept", "reject", "skip")
DECISION_KO = {"accept": "승인", "reject": "거절", "skip": "건너뜀", "pending": "미검토"}

# The reject-reason taxonomy (issue "Review workbench"): stored by key, shown in Korean.
REJECT_REASONS: dict[str, str] = {
    "wrong_tool": "잘못된 도구",
    "bad_arguments": "잘못된 인자",
    "unsaid_value": "사용자가 말하지 않은 값",
    "ungrounded_id": "근거 없는 ID",
    "result_contradicts_call": "호출과 모순된 결과",
    "unnatural_korean": "부자연스러운 한국어",
    "unsupported_handling": "비지원 요청 처리 잘못",
    "incomplete": "미완성 대화",
    "duplicate": "중복",
    "contamination": "평가셋 오염",
    "other": "기타",
}


class ReviewError(ValueError):
    """A decision that cannot be recorded (no annotator, unknown uid, decision or reason)."""


@dataclass
class QueueFilter:
    """Which samples the queue shows.

    Attributes:
        kind: ``train`` / ``gold`` / ``None`` (all).
        category: a category key or ``None``.
        decision: ``pending`` (no decision yet), ``accept``, ``reject``, ``skip`` or ``None`` (all).
    """

    kind: str | None = None
    category: str | None = None
    decision: str | None = None

    def sql(self) -> tuple[str, list]:
        """``(WHERE clause, params)`` over ``samples s LEFT JOIN latest_reviews r``."""
        clauses, params = [], []
        if self.kind:
            clauses.append("s.kind = ?")
            params.append(self.kind)
        if self.category:
            clauses.append("s.category = ?")
            params.append(self.category)
        if self.decision == "pending":
            clauses.append("r.decision IS NULL")
        elif self.decision:
            clauses.append("r.decision = ?")
            params.append(self.decision)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


_BASE = "FROM samples s LEFT JOIN latest_reviews r ON r.uid = s.uid"


def queue(db: sqlite_utils.Database, flt: QueueFilter | None = None, *, limit: int = 1000) -> list[str]:
    """uids in review order for a filter: undecided first, then skipped, then decided; then by arrival."""
    where, params = (flt or QueueFilter()).sql()
    sql = (
        f"SELECT s.uid {_BASE}{where} ORDER BY CASE WHEN r.decision IS NULL THEN 0 "
        f"WHEN r.decision = 'skip' THEN 1 ELSE 2 END, s.rowid LIMIT ?"
    )
    return [row[0] for row in db.execute(sql, [*params, limit])]


def progress(db: sqlite_utils.Database, flt: QueueFilter | None = None) -> tuple[int, int]:
    """``(decided, total)`` for a filter; a skip does not count as decided."""
    where, params = (flt or QueueFilter()).sql()
    row = db.execute(
        f"SELECT SUM(CASE WHEN r.decision IN ('accept', 'reject') THEN 1 ELSE 0 END), COUNT(*) {_BASE}{where}",
        params,
    ).fetchone()
    return int(row[0] or 0), int(row[1] or 0)


def get_dialogue(db: sqlite_utils.Database, uid: str) -> Dialogue:
    """The stored Dialogue of a sample (the original, not an edit).

    Raises:
        ReviewError: no sample with that uid.
    """
    row = db.execute("SELECT dialogue FROM samples WHERE uid = ?", [uid]).fetchone()
    if not row:
        raise ReviewError(f"no sample with uid {uid}")
    return Dialogue.model_validate_json(row[0])


def find_uid(db: sqlite_utils.Database, prefix: str) -> str | None:
    """The uid equal to ``prefix``, else the first uid (by arrival) starting with it, else ``None``."""
    row = db.execute(
        "SELECT uid FROM samples WHERE uid = ? UNION ALL SELECT uid FROM "
        "(SELECT uid FROM samples WHERE uid >= ? AND uid < ? ORDER BY uid LIMIT 1)",
        [prefix, prefix, prefix + "\uffff"],
    ).fetchone()
    return row[0] if row else None


def latest_decision(db: sqlite_utils.Database, uid: str) -> dict | None:
    """The latest review row of a sample (reasons decoded), or ``None`` when undecided."""
    rows = list(db.query("SELECT * FROM reviews WHERE uid = ? ORDER BY id DESC LIMIT 1", [uid]))
    if not rows:
        return None
    row = rows[0]
    row["reasons"] = loads(row["reasons"], [])
    return row


def history(db: sqlite_utils.Database, uid: str) -> list[dict]:
    """Every review row of a sample, oldest first."""
    return list(db.query("SELECT * FROM reviews WHERE uid = ? ORDER BY id", [uid]))


def record_decision(
    db: sqlite_utils.Database,
    uid: str,
    *,
    annotator: str,
    decision: str,
    reasons: list[str] | tuple[str, ...] = (),
    note: str = "",
    seconds: float | None = None,
    edited: Dialogue | None = None,
) -> int:
    """Append one decision; returns the new review id.

    Args:
        annotator: who decided (required, non-blank).
        decision: ``accept`` / ``reject`` / ``skip``.
        reasons: keys of :data:`REJECT_REASONS` (rejections).
        seconds: time spent on the sample, in seconds.
        edited: the corrected Dialogue when the annotator edited the sample.

    Raises:
        ReviewError: blank annotator, unknown decision or reason, or unknown uid.
    """
    annotator = (annotator or "").strip()
    if not annotator:
        raise ReviewError("annotator name is required before deciding")
    if decision not in DECISIONS:
        raise ReviewError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
    unknown = [r for r in reasons if r not in REJECT_REASONS]
    if unknown:
        raise ReviewError(f"unknown reject reason(s): {', '.join(unknown)}")
    if not db.execute("SELECT 1 FROM samples WHERE uid = ?", [uid]).fetchone():
        raise ReviewError(f"no sample with uid {uid}")
    with db.conn:
        cur = db["reviews"].insert(
            {
                "uid": uid,
                "annotator": annotator,
                "decision": decision,
                "reasons": dumps(list(reasons)),
                "note": note or "",
                "edited": edited.model_dump_json() if edited else None,
                "seconds": seconds,
                "created_at": now(),
            }
        )
    return cur.last_pk


def decision_counts(db: sqlite_utils.Database) -> dict[str, int]:
    """Samples per current decision: ``{"accept", "reject", "skip", "pending"}``."""
    out = {"accept": 0, "reject": 0, "skip": 0, "pending": 0}
    for decision, n in db.execute(f"SELECT COALESCE(r.decision, 'pending'), COUNT(*) {_BASE} GROUP BY 1"):
        out[decision] = n
    return out
