"""Triage (issue 17, part 2): every sample lands in one lane, and people look where it matters.

Lanes (:data:`LANES`):

- ``gold``: a gold (test-set) sample; always decided by people (``review.GOLD_REQUIRED_VOTES``
  votes of different annotators), whatever its findings; never approved by an audited lot;
- ``flagged``: a training sample with at least one finding — any row of ``findings`` for it,
  whatever its source (the rule checks, corpus checks, a model judge ``judge:<model>``) or
  severity (error or warning);
- ``clean``: a training sample without any finding. Clean samples are what audited lots
  (:mod:`datagen.audit`) are made of.

:func:`lane` is the rule, pure. The database keeps the same rule as ``sample_state.lane_rank``
(migration ``013_audit_lots``: triggers on ``findings`` and ``sample_state``, so any code that
writes findings keeps it current), which orders the review queue: ``(rank, lane_rank, seq)`` —
undecided before decided as before, and within that gold and flagged samples before clean ones,
then arrival order. ``lane_rank`` 2 marks a clean sample held out of the review queue by an open
audit lot (it is approved or failed as part of the lot; see :mod:`datagen.audit`).

This module imports only the store layer, so :mod:`datagen.review` can use it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

import sqlite_utils

from .errors import InputError
from .store import loads

LANES = ("gold", "flagged", "clean")
LANE_KO = {
    "gold": "골드",
    "flagged": "검사 결과 있음",
    "clean": "깨끗함",
}
"""Lane → Korean label (the Review page, the Audit page)."""

HELD = 2
"""``sample_state.lane_rank`` of a clean sample held out of the queue by an open audit lot."""

SEVERITY_KO = {"error": "오류", "warning": "경고"}


def lane(kind: str, findings: Iterable[Mapping] | int) -> str:
    """The lane of one sample (pure).

    Args:
        kind: ``train`` or ``gold`` (anything other than ``gold`` is treated as training data).
        findings: the sample's findings (rows of ``findings`` as mappings, any source or
            severity), or their number.

    Returns:
        ``gold`` for a gold sample; else ``flagged`` when there is at least one finding; else ``clean``.
    """
    if kind == "gold":
        return "gold"
    n = findings if isinstance(findings, int) else sum(1 for _ in findings)
    return "flagged" if n > 0 else "clean"


def _source(f: Mapping) -> str:
    """Where a finding came from: its ``source`` column when the findings table has one (a model
    judge writes ``judge:<model>``), else ``rule`` (the checks)."""
    return str(f.get("source") or "rule")


def why(kind: str, findings: Sequence[Mapping]) -> str:
    """One Korean sentence saying why a sample is in its lane (:func:`lane`), naming its findings
    (source, check id, severity; at most 6, then a count)."""
    which = lane(kind, findings)
    if which == "gold":
        tail = f" (검사 결과 {len(findings)}건도 함께 표시됩니다)" if findings else ""
        return "골드(평가셋) 샘플: 감사 로트 없이 항상 서로 다른 두 사람이 검토합니다" + tail + "."
    if which == "clean":
        return "자동 검사와 모델 판정 결과가 하나도 없습니다: 감사 로트의 무작위 표본 검사로 승인될 수 있습니다."
    by = Counter((_source(f), f.get("check_id") or f.get("check") or "?", f.get("severity") or "?") for f in findings)
    parts = [f"{src}:{check} ({SEVERITY_KO.get(sev, sev)}{f' ×{n}' if n > 1 else ''})" for (src, check, sev), n in sorted(by.items())]
    shown = ", ".join(parts[:6]) + (f" 외 {len(parts) - 6}종" if len(parts) > 6 else "")
    return f"검사 결과 {len(findings)}건이 있어 사람이 먼저 검토합니다: {shown}."


def lane_sql(which: str, alias: str = "st") -> str:
    """An SQL condition over ``sample_state {alias}`` selecting one lane (no parameters).

    Raises:
        InputError: not one of :data:`LANES`.
    """
    p = f"{alias}." if alias else ""
    if which == "gold":
        return f"{p}kind = 'gold'"
    if which == "flagged":
        return f"({p}kind <> 'gold' AND {p}lane_rank = 0)"
    if which == "clean":
        return f"({p}kind <> 'gold' AND {p}lane_rank >= 1)"
    raise InputError(f"레인은 {', '.join(LANES)} 중 하나여야 합니다: {which!r}")


def lane_counts(db: sqlite_utils.Database, *, job_id: str | None = None, kind: str | None = None) -> dict[str, int]:
    """Samples per lane (``{"gold", "flagged", "clean"}``), of one job / kind when given."""
    where, params = [], []
    if job_id:
        where.append("job_id = ?")
        params.append(job_id)
    if kind:
        where.append("kind = ?")
        params.append(kind)
    sql = (
        "SELECT CASE WHEN kind = 'gold' THEN 'gold' WHEN lane_rank = 0 THEN 'flagged' ELSE 'clean' END, COUNT(*) "
        "FROM sample_state" + (" WHERE " + " AND ".join(where) if where else "") + " GROUP BY 1"
    )
    out = dict.fromkeys(LANES, 0)
    out.update(dict(db.execute(sql, params).fetchall()))
    return out


def findings_of(db: sqlite_utils.Database, uid: str) -> list[dict]:
    """Every findings row of a sample (all columns, so a ``source`` column is included once it
    exists), errors first."""
    return list(db.query("SELECT * FROM findings WHERE uid = ? ORDER BY severity = 'error' DESC, turn, id", [uid]))


def lot_membership(db: sqlite_utils.Database, uid: str) -> list[dict]:
    """The audit lots a sample belongs to, newest first: ``[{"lot_id", "state", "job_id",
    "category", "in_sample": bool, "held": bool}]`` (state: auditing, failed, approved, revoked)."""
    return [
        {**r, "in_sample": r["draw"] is not None, "held": bool(r["held"])}
        for r in db.query(
            "SELECT l.id AS lot_id, l.state, l.job_id, l.category, li.draw, li.held FROM lot_items li JOIN lots l ON l.id = li.lot_id "
            "WHERE li.uid = ? ORDER BY l.id DESC",
            [uid],
        )
    ]


def describe(db: sqlite_utils.Database, uid: str) -> dict:
    """What the Review page says about a sample's lane.

    Returns:
        ``{"lane", "lane_ko", "why" (Korean), "findings": [rows], "lots": [:func:`lot_membership`],
        "lot_note" (Korean, "" when the sample is in no lot), "approved_by" ("lot:<id>" or None)}``.
        Unknown uid: lane ``clean`` with no findings.
    """
    row = db.execute("SELECT kind, approved_by FROM sample_state WHERE uid = ?", [uid]).fetchone()
    kind, approved_by = (row[0], row[1]) if row else ("train", None)
    found = findings_of(db, uid)
    which = lane(kind, found)
    lots = lot_membership(db, uid)
    notes = []
    for m in lots:
        n = f"감사 로트 #{m['lot_id']}"
        if m["state"] == "failed":
            notes.append(f"{n}는 감사에서 불합격했습니다: 이 샘플은 전수 검토 대상입니다" + (" (감사 표본이었습니다)" if m["in_sample"] else "") + ".")
        elif m["in_sample"] and m["state"] == "auditing":
            notes.append(f"{n}의 감사 표본입니다: 승인/거절이 로트 전체의 판정에 쓰입니다.")
        elif m["in_sample"]:
            notes.append(f"{n}의 감사 표본이었습니다 (로트 상태: {LOT_STATE_KO.get(m['state'], m['state'])}).")
        elif m["state"] == "auditing":
            notes.append(f"{n}에 속해 감사가 끝날 때까지 검토 대기열에서 빠져 있습니다.")
        else:
            notes.append(f"{n}에 속합니다 (로트 상태: {LOT_STATE_KO.get(m['state'], m['state'])}).")
    if approved_by:
        notes.append(f"{approved_by}: 감사 로트의 표본 검사로 승인되었습니다 (사람이 거절하면 거절이 우선합니다).")
    return {
        "lane": which,
        "lane_ko": LANE_KO[which],
        "why": why(kind, found),
        "findings": found,
        "lots": lots,
        "lot_note": " ".join(notes),
        "approved_by": approved_by,
    }


LOT_STATE_KO = {"auditing": "감사 중", "failed": "불합격 (전수 검토)", "approved": "승인됨", "revoked": "승인 철회됨"}
"""Stored lot state → Korean label."""


# ----------------------------------------------------------------------------- lot approvals (read by review)


def active_lot_approval(db: sqlite_utils.Database, uid: str) -> tuple[int, int, int | None] | None:
    """The audited-lot approval that stands for a sample: ``(lot_decisions.id, lot_id,
    revision_id)`` when the sample's latest ``lot_decisions`` row is an ``approve``, else ``None``
    (never approved, or revoked since)."""
    row = db.execute("SELECT id, lot_id, action, revision_id FROM lot_decisions WHERE uid = ? ORDER BY id DESC LIMIT 1", [uid]).fetchone()
    if not row or row[2] != "approve":
        return None
    return row[0], row[1], row[3]


def lot_history(db: sqlite_utils.Database, uid: str) -> list[dict]:
    """A sample's lot approvals and revocations as history events (the shape of
    :func:`datagen.review.history`): ``who`` is ``lot:<id>``, ``what`` ``lot-approve`` /
    ``lot-revoke``, ``note`` names the publisher and the audit figures."""
    out = []
    for r in db.query("SELECT * FROM lot_decisions WHERE uid = ? ORDER BY id", [uid]):
        f = loads(r["figures"], {}) or {}
        figures = (
            (
                f"결함 {f.get('defects')}/{f.get('audited')}, 상한 {100 * float(f.get('upper_bound') or 0):.2f}%, "
                f"p0 {100 * float(f.get('p0') or 0):g}%, 신뢰도 {100 * float(f.get('confidence') or 0):g}%"
            )
            if f
            else ""
        )
        verb = "승인" if r["action"] == "approve" else "승인 철회"
        out.append(
            {
                "at": r["created_at"],
                "who": r["approved_by"],
                "what": f"lot-{r['action']}",
                "reasons": [],
                "note": f"감사 로트 {verb} (게시자 {r['actor']}; {figures})",
                "seconds": None,
                "id": f"lot{r['id']}",
            }
        )
    return out
