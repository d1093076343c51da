"""Review: the queue of samples to decide, the append-only decision log, edits and adjudication.

Every decision, undo and edit is an appended row (``reviews``, ``revisions``); nothing is updated in
place, so two annotators deciding at once lose nothing. What a sample's decision *is* follows from
those rows by the rules of :func:`derive_state`, and is materialised in ``sample_state`` (and
``annotator_decisions``) in the same transaction as the row that changed it, so picking the next
sample stays an index lookup at 100,000 samples.

Rules (issue "Review workbench"):

- a training sample's decision is the latest effective decision by anyone (accept / reject / skip);
- a gold sample needs ``GOLD_REQUIRED_VOTES`` accept/reject votes from different annotators
  (each annotator's latest effective vote counts once); agreeing votes decide it, disagreeing
  votes make it ``disputed`` until an adjudicator decides (``adjudication`` rows win);
- an ``undo`` row cancels the review it names; the one before it applies again;
- accepting after an edit ships the revision that was current when accepting;
- an audited lot's approval (:mod:`datagen.audit`) decides a training sample as accepted only while
  no person has an effective accept or reject on it: a person's decision always wins over the
  lot's, whichever came first; revoking the lot's approval removes it again.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field, replace

import sqlite_utils

from . import auth, triage
from .dialogue import Dialogue
from .errors import DatagenError
from .store import dumps, loads, now, write_transaction

DECISIONS = ("accept", "reject", "skip")
DECISION_KO = {
    "accept": "승인",
    "reject": "거절",
    "skip": "건너뜀",
    "pending": "미검토",
    "disputed": "불일치(조정 필요)",
    "partial": "추가 검토 필요",
}
STATE_KO = {
    "pending": "미검토",
    "partial": "추가 검토 필요",
    "skipped": "건너뜀",
    "disputed": "불일치",
    "decided": "결정됨",
}

# Gold samples need this many votes from different annotators (issue "Review workbench":
# "gold samples need two decisions by different annotators (configurable)").
GOLD_REQUIRED_VOTES = int(os.environ.get("DATAGEN_GOLD_REQUIRED_VOTES", "2"))

# The reject-reason taxonomy (issue "Review workbench"): stored by key, shown in Korean, chosen by
# number keys 1–9, 0 and O in this order.
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
REASON_KEYS = dict(zip(REJECT_REASONS, ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "O"]))


class ReviewError(DatagenError, ValueError):
    """A decision that cannot be recorded (no annotator, unknown uid, decision or reason)."""


class StaleDecision(ReviewError):
    """A decision made on a screen that no longer shows the sample as it is: a newer revision or a
    new error-level finding arrived after the page was rendered (:func:`record_decision`)."""


NOT_SHOWN = object()
"""``record_decision(shown_revision=NOT_SHOWN)`` (the default): no revision check (CLI, scripts)."""


# ----------------------------------------------------------------------------- user input in queries

SQLITE_MAX_INT = 2**63 - 1
_NOT_SEARCHABLE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
"""Characters dropped from search words: control characters (a NUL ends FTS5's query string:
"unterminated string") and lone surrogates (not text: SQLite cannot be handed them). No stored
text holds either where search looks (the index holds valid UTF-8 words)."""


def _param(value: str):
    """A filter value as an SQL parameter that never raises: a text with a lone surrogate cannot be
    UTF-8, so it cannot equal any stored text; it is passed as bytes (a BLOB never equals a TEXT
    value), and the filter simply matches nothing (issue 14: it raised UnicodeEncodeError)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogatepass")
    return value


def _clamp(n: int) -> int:
    """A LIMIT / OFFSET within SQLite's 64-bit integers; negative counts as 0 (SQLite would read a
    negative LIMIT as no limit at all)."""
    return max(0, min(int(n), SQLITE_MAX_INT))


def search_words(text: str | None) -> list[str]:
    """The words a search text looks for: split on whitespace, NUL, other control characters and
    lone surrogates removed, empty words dropped."""
    return [w for w in (_NOT_SEARCHABLE.sub("", w) for w in (text or "").split()) if w]


# ----------------------------------------------------------------------------- state

# Queue order of the states (sample_state.rank): what needs a decision first.
_RANK = {"pending": 0, "partial": 0, "skipped": 1, "disputed": 2, "decided": 3}

BUCKETS = ("accept", "reject", "skip", "pending", "disputed")
"""Where a sample stands, as every count and publishing read it (:func:`bucket_sql`)."""


def bucket_sql(alias: str = "st") -> str:
    """The bucket of a ``sample_state`` row (one of :data:`BUCKETS`) as an SQL expression over
    ``{alias}.state`` and ``{alias}.decision`` (no alias: ``""``). The one place this mapping is
    written; the review page's counts (:func:`decision_counts`), the funnel
    (:func:`datagen.stats.funnel`), the yield table (:func:`datagen.yields.yield_table`) and the
    publishing rules (:func:`datagen.publish.shipping_status`) all read it.

    - ``decided`` → its decision: ``accept`` / ``reject``, or ``skip`` (an adjudicator's skip);
    - ``skipped`` → ``skip``; ``disputed`` (gold votes disagree) → ``disputed``;
    - ``pending`` and ``partial`` (gold waiting for another vote) → ``pending``.
    """
    p = f"{alias}." if alias else ""
    return (
        f"(CASE WHEN {p}state = 'decided' THEN (CASE {p}decision WHEN 'accept' THEN 'accept' "
        f"WHEN 'reject' THEN 'reject' ELSE 'skip' END) WHEN {p}state = 'skipped' THEN 'skip' "
        f"WHEN {p}state = 'disputed' THEN 'disputed' ELSE 'pending' END)"
    )


def derive_state(rows, *, kind: str, required_votes: int, lot: tuple | None = None) -> dict:
    """The live review rules (module docstring): a sample's state from its review rows. Pure: no
    database access, no settings read.

    Args:
        rows: the sample's ``reviews`` rows as ``(id, annotator, decision, undoes, adjudication,
            revision_id)`` tuples in id order (decision: accept / reject / skip / undo).
        kind: ``train`` or ``gold`` (only gold needs ``required_votes``).
        required_votes: accept/reject votes of different annotators a gold sample needs
            (:data:`GOLD_REQUIRED_VOTES` in the app).
        lot: the audited-lot approval that stands for the sample, ``(lot_decisions.id, lot_id,
            revision_id)`` (:func:`datagen.triage.active_lot_approval`), or ``None``. It decides a
            training sample (accept, ``approved_by`` ``lot:<id>``) only when no person has an
            effective accept or reject and nobody adjudicated; gold ignores it. Without it the
            rules are exactly the ones above.

    Returns:
        ``{"state", "rank", "decision", "n_votes", "accepted_revision_id", "annotators"}``: state one
        of pending, partial, skipped, disputed, decided; rank its queue rank (:data:`_RANK`);
        decision None, accept, reject or skip; n_votes the counted accept/reject votes;
        accepted_revision_id the revision an accept ships (or None); accepted_review_id the review
        whose accept decided the sample (or None: what publishing judges findings against); annotators
        ``{annotator: (decision, review_id)}``, each annotator's latest effective decision;
        approved_by ``lot:<id>`` when the lot's approval decided the sample, else None.
    """
    undone = {r[3] for r in rows if r[2] == "undo" and r[3] is not None}
    effective = [r for r in rows if r[2] in DECISIONS and r[0] not in undone]
    per_annotator: dict[str, tuple] = {}
    for r in effective:
        per_annotator[r[1]] = r
    adjudicated = [r for r in effective if r[4]]
    votes = [r for r in per_annotator.values() if r[2] in ("accept", "reject")]
    final = None
    if lot is not None and kind != "gold" and not adjudicated and not votes:
        return {
            "state": "decided",
            "rank": _RANK["decided"],
            "decision": "accept",
            "n_votes": 0,
            "accepted_revision_id": lot[2],
            "accepted_review_id": None,
            "annotators": {a: (r[2], r[0]) for a, r in per_annotator.items()},
            "approved_by": f"lot:{lot[1]}",
        }
    if adjudicated:
        final, state = adjudicated[-1], "decided"
    elif kind != "gold" or required_votes <= 1:
        if effective:
            final = effective[-1]
            state = "skipped" if final[2] == "skip" else "decided"
        else:
            state = "pending"
    elif len({v[2] for v in votes}) > 1:
        state = "disputed"
    elif len(votes) >= required_votes:
        final, state = max(votes, key=lambda v: v[0]), "decided"
    elif votes:
        state = "partial"
    elif per_annotator:
        final, state = effective[-1], "skipped"
    else:
        state = "pending"
    return {
        "state": state,
        "rank": _RANK[state],
        "decision": final[2] if final else None,
        "n_votes": len(votes),
        "accepted_revision_id": final[5] if final and final[2] == "accept" else None,
        "accepted_review_id": final[0] if final and final[2] == "accept" else None,
        "annotators": {a: (r[2], r[0]) for a, r in per_annotator.items()},
        "approved_by": None,
    }


def recompute_state(db: sqlite_utils.Database, uid: str) -> dict:
    """Derive ``sample_state`` and ``annotator_decisions`` of one sample from its review rows
    and its standing lot approval (:func:`derive_state` with :data:`GOLD_REQUIRED_VOTES`) and write
    them (joins the caller's transaction, else its own); then let an audit lot the sample is drawn
    for see the change (:func:`datagen.audit.after_state_change`: a lot whose audit found too many
    defects fails there and then).

    Returns:
        ``{"state", "decision", "n_votes"}`` with state one of pending, partial, skipped,
        disputed, decided and decision one of None, accept, reject, skip.
    """
    rows = db.execute(
        "SELECT id, annotator, decision, undoes, adjudication, revision_id FROM reviews WHERE uid = ? ORDER BY id",
        [uid],
    ).fetchall()
    kind_row = db.execute("SELECT kind FROM sample_state WHERE uid = ?", [uid]).fetchone()
    with write_transaction(db):
        d = derive_state(rows, kind=kind_row[0] if kind_row else "train", required_votes=GOLD_REQUIRED_VOTES, lot=triage.active_lot_approval(db, uid))
        db.execute(
            "UPDATE sample_state SET state = ?, rank = ?, decision = ?, n_votes = ?, accepted_revision_id = ?, "
            "accepted_review_id = ?, approved_by = ?, updated_at = ? WHERE uid = ?",
            [d["state"], d["rank"], d["decision"], d["n_votes"], d["accepted_revision_id"], d["accepted_review_id"], d["approved_by"], now(), uid],
        )
        db.execute("DELETE FROM annotator_decisions WHERE uid = ?", [uid])
        db.conn.executemany(
            "INSERT INTO annotator_decisions (uid, annotator, decision, review_id) VALUES (?, ?, ?, ?)",
            [(uid, a, decision, rid) for a, (decision, rid) in d["annotators"].items()],
        )
        from .audit import after_state_change  # audit imports review: imported here

        after_state_change(db, uid)
    return {"state": d["state"], "decision": d["decision"], "n_votes": d["n_votes"]}


# ----------------------------------------------------------------------------- queue


@dataclass
class QueueFilter:
    """Which samples the queue shows, and in what order.

    Attributes:
        kind: ``train`` / ``gold`` / ``None`` (all).
        category: a category key or ``None``.
        decision: ``todo`` (needs a decision from ``annotator``: undecided, partial gold, skipped,
            minus what this annotator already decided), ``pending`` (no decision at all), ``accept``,
            ``reject``, ``skip``, ``disputed``, or ``None`` (all).
        annotator: whose queue it is (``todo`` hides what they decided); with ``decided_by`` only.
        decided_by: only samples this annotator decided.
        batch_id / job_id: only samples of this batch / job.
        check_id: only samples with a finding of this check (``"error"``: any error finding).
        text: full-text search over user and assistant turns (FTS5; every word is a prefix query,
            so 짜장면 finds 짜장면을; all words must occur).
        order: ``queue`` (undecided first, then by arrival), ``findings`` (error findings first),
            ``underfilled`` (categories furthest below their target first). Within each of these,
            and before arrival order, gold and flagged samples come before clean ones
            (:mod:`datagen.triage`: ``sample_state.lane_rank``).
        lane: ``gold`` / ``flagged`` / ``clean`` (:data:`datagen.triage.LANES`) or ``None`` (all).
        lot_id: only samples of this audit lot (:mod:`datagen.audit`): its audit sample when
            ``lot_sample`` (default), else every member (a failed lot's full review).
        skip_errors: leave out samples with an error-level finding (any source). Such a sample
            never ships without a person's accept that saw those findings
            (:func:`datagen.publish.shipping_status`, ``unreviewed_error``), so a team that trusts
            its error checks (calibrated to be precise on real data, ``python -m datagen.validate
            --calibration``) spends people on warnings, the judge's findings and lot audits only;
            the skipped samples stay pending and can be reviewed later (issue 17, part 4:
            ``benchmarks/bench_triage.py`` strategy (c)).

    The ``todo`` queue leaves out clean samples held by an open audit lot (``lane_rank`` 2): they
    are decided by the lot's audit, or come back when it fails or its approval is revoked.
    """

    kind: str | None = None
    category: str | None = None
    decision: str | None = "todo"
    annotator: str | None = None
    decided_by: str | None = None
    batch_id: str | None = None
    job_id: str | None = None
    check_id: str | None = None
    text: str | None = None
    order: str = "queue"
    targets: dict[str, int] = field(default_factory=dict)
    lane: str | None = None
    lot_id: int | None = None
    lot_sample: bool = True
    skip_errors: bool = False

    def where(self) -> tuple[str, list]:
        """``(WHERE clause, params)`` over ``sample_state st``."""
        c: list[str] = []
        p: list = []
        for col in ("kind", "category", "batch_id", "job_id"):
            v = getattr(self, col)
            if v:
                c.append(f"st.{col} = ?")
                p.append(_param(v))
        d = self.decision
        if d == "todo":
            c.append("st.rank <= 1")
            c.append(f"st.lane_rank < {triage.HELD}")
            if self.annotator:
                c.append("NOT EXISTS (SELECT 1 FROM annotator_decisions ad WHERE ad.uid = st.uid AND ad.annotator = ? AND ad.decision IN ('accept', 'reject'))")
                p.append(_param(self.annotator))
        elif d == "pending":
            c.append("st.state = 'pending'")
        elif d == "disputed":
            c.append("st.state = 'disputed'")
        elif d in DECISIONS:
            c.append("st.decision = ?")
            p.append(d)
        if self.decided_by:
            c.append("EXISTS (SELECT 1 FROM annotator_decisions ad2 WHERE ad2.uid = st.uid AND ad2.annotator = ?)")
            p.append(_param(self.decided_by))
        if self.check_id == "error":
            c.append("EXISTS (SELECT 1 FROM findings f WHERE f.uid = st.uid AND f.severity = 'error')")
        elif self.check_id:
            c.append("EXISTS (SELECT 1 FROM findings f WHERE f.uid = st.uid AND f.check_id = ?)")
            p.append(_param(self.check_id))
        if self.skip_errors:
            c.append("NOT EXISTS (SELECT 1 FROM findings f WHERE f.uid = st.uid AND f.severity = 'error')")
        if self.lane:
            c.append(triage.lane_sql(self.lane))
        if self.lot_id is not None:
            c.append("st.uid IN (SELECT li.uid FROM lot_items li WHERE li.lot_id = ?" + (" AND li.draw IS NOT NULL)" if self.lot_sample else ")"))
            p.append(int(self.lot_id))
        words = search_words(self.text)
        if words:
            c.append("st.seq IN (SELECT rowid FROM samples_fts WHERE samples_fts MATCH ?)")
            p.append(" ".join('"' + w.replace('"', '""') + '"*' for w in words))
        return (" WHERE " + " AND ".join(c)) if c else "", p

    def order_by(self) -> tuple[str, list]:
        """``(ORDER BY clause, params)``."""
        keys = ["st.rank", "st.lane_rank"]
        params: list = []
        if self.order == "findings":
            keys.insert(0, "(SELECT COUNT(*) FROM findings f WHERE f.uid = st.uid AND f.severity = 'error') DESC")
        elif self.order == "underfilled" and self.targets:
            ranked = sorted(self.targets, key=lambda c: -self.targets[c])
            keys.insert(0, "CASE st.category " + " ".join("WHEN ? THEN ?" for _ in ranked) + " ELSE 999999 END")
            for i, cat in enumerate(ranked):
                params += [cat, i]
        return " ORDER BY " + ", ".join(keys) + ", st.seq", params


def queue(db: sqlite_utils.Database, flt: QueueFilter | None = None, *, limit: int = 1000, offset: int = 0) -> list[str]:
    """uids in review order for a filter (see :class:`QueueFilter`).

    ``limit`` and ``offset`` are clamped to 0 … 2**63 − 1 (a huge value raised OverflowError; a
    negative limit gives no rows rather than SQLite's "no limit"). Filter values never raise:
    a value that is not valid text matches nothing, search words lose NUL and lone surrogates."""
    flt = flt or QueueFilter(decision=None)
    where, params = flt.where()
    order, oparams = flt.order_by()
    sql = f"SELECT st.uid FROM sample_state st{where}{order} LIMIT ? OFFSET ?"
    return [r[0] for r in db.execute(sql, [*params, *oparams, _clamp(limit), _clamp(offset)])]


def next_uid(db: sqlite_utils.Database, flt: QueueFilter, *, exclude: str | None = None) -> str | None:
    """The first uid of the queue other than ``exclude`` (the one just decided), or ``None``."""
    for uid in queue(db, flt, limit=2):
        if uid != exclude:
            return uid
    return None


def neighbour(db: sqlite_utils.Database, uid: str, flt: QueueFilter, step: int) -> str | None:
    """The sample before (``step=-1``) or after (``step=1``) ``uid`` in arrival order within the
    filter's kind / category / batch (previous / next navigation, independent of decisions)."""
    nav = QueueFilter(kind=flt.kind, category=flt.category, batch_id=flt.batch_id, job_id=flt.job_id, decision=None)
    where, params = nav.where()
    seq = db.execute("SELECT seq FROM sample_state WHERE uid = ?", [uid]).fetchone()
    if not seq:
        return None
    cmp, direction = (">", "ASC") if step > 0 else ("<", "DESC")
    clause = (where + " AND " if where else " WHERE ") + f"st.seq {cmp} ?"
    row = db.execute(f"SELECT st.uid FROM sample_state st{clause} ORDER BY st.seq {direction} LIMIT 1", [*params, seq[0]]).fetchone()
    return row[0] if row else None


def count(db: sqlite_utils.Database, flt: QueueFilter) -> int:
    """How many samples match a filter.

    For an annotator's ``todo`` queue this is (needs a decision) − (of those, decided by them), two
    index-driven counts instead of a per-row NOT EXISTS over the whole table.
    """
    if flt.decision == "todo" and flt.annotator:
        everyone = QueueFilter(**{**flt.__dict__, "annotator": None})
        where, params = everyone.where()
        mine = db.execute(
            f"SELECT COUNT(*) FROM annotator_decisions ad JOIN sample_state st ON st.uid = ad.uid{where} "
            f"{'AND' if where else 'WHERE'} ad.annotator = ? AND ad.decision IN ('accept', 'reject')",
            [*params, _param(flt.annotator)],
        ).fetchone()[0]
        return db.execute(f"SELECT COUNT(*) FROM sample_state st{where}", params).fetchone()[0] - mine
    where, params = flt.where()
    return db.execute(f"SELECT COUNT(*) FROM sample_state st{where}", params).fetchone()[0]


def skipped_errors(db: sqlite_utils.Database, flt: QueueFilter) -> int:
    """How many samples ``flt`` leaves out only because of ``skip_errors`` (they have an error
    finding and stay pending); 0 when the option is off."""
    if not flt.skip_errors:
        return 0
    return count(db, replace(flt, skip_errors=False)) - count(db, flt)


def progress(db: sqlite_utils.Database, flt: QueueFilter | None = None) -> tuple[int, int]:
    """``(decided, total)`` over the filter's kind / category / batch / job (decision filter ignored):
    decided = state ``decided`` (accepted or rejected, gold with its votes or adjudicated)."""
    flt = flt or QueueFilter()
    scope = QueueFilter(kind=flt.kind, category=flt.category, batch_id=flt.batch_id, job_id=flt.job_id, decision=None)
    where, params = scope.where()
    total = db.execute(f"SELECT COUNT(*) FROM sample_state st{where}", params).fetchone()[0]
    decided = db.execute(
        f"SELECT COUNT(*) FROM sample_state st{where} {'AND' if where else 'WHERE'} st.rank = 3 AND st.decision IN ('accept', 'reject')",
        params,
    ).fetchone()[0]
    return int(decided), int(total)


def category_progress(db: sqlite_utils.Database, kind: str | None = None) -> list[dict]:
    """Per (kind, category): accepted, rejected, decided, total and the target count.

    The target is the number of requests generated for that kind and category (the PM's mix), or
    the sample count when nothing was requested (imports).
    """
    where = "WHERE st.kind = ?" if kind else ""
    params = [kind] if kind else []
    rows = db.query(
        f"""SELECT st.kind, st.category, COUNT(*) AS total,
                   SUM(st.decision = 'accept' AND st.state = 'decided') AS accepted,
                   SUM(st.decision = 'reject' AND st.state = 'decided') AS rejected,
                   (SELECT COUNT(*) FROM requests q WHERE q.kind = st.kind AND q.category = st.category) AS requested
            FROM sample_state st {where} GROUP BY st.kind, st.category ORDER BY st.kind, st.category""",
        params,
    )
    out = []
    for r in rows:
        r["target"] = r.pop("requested") or r["total"]
        r["accepted"] = r["accepted"] or 0
        r["rejected"] = r["rejected"] or 0
        out.append(r)
    return out


def filter_options(db: sqlite_utils.Database) -> dict[str, list[str]]:
    """Values the queue can be filtered by: ``{"batches": [batch ids], "annotators": [names]}``."""
    return {
        "batches": [r[0] for r in db.execute("SELECT DISTINCT batch_id FROM sample_state WHERE batch_id IS NOT NULL ORDER BY 1")],
        "annotators": [r[0] for r in db.execute("SELECT DISTINCT annotator FROM annotator_decisions ORDER BY 1")],
    }


def shortfall(db: sqlite_utils.Database, kind: str | None = None) -> dict[str, int]:
    """Per category, accepted samples still missing to reach the target (``order="underfilled"``)."""
    return {r["category"]: r["target"] - r["accepted"] for r in category_progress(db, kind)}


def find_uid(db: sqlite_utils.Database, prefix: str) -> str | None:
    """The uid equal to ``prefix``, else the first uid (by arrival) starting with it, else ``None``
    (also for a prefix that is not valid text, e.g. with a lone surrogate: no uid starts with it)."""
    if not prefix or not isinstance(_param(prefix), str):
        return None
    row = db.execute(
        "SELECT uid FROM samples WHERE uid = ? UNION ALL SELECT uid FROM (SELECT uid FROM samples WHERE uid >= ? AND uid < ? ORDER BY uid LIMIT 1)",
        [prefix, prefix, prefix + "\uffff"],
    ).fetchone()
    return row[0] if row else None


def find_uids(db: sqlite_utils.Database, prefix: str, *, limit: int = 20) -> list[str]:
    """Every uid a jump text could mean: ``[prefix]`` when it is a whole uid, else the uids starting
    with it in uid order, at most ``limit + 1`` (so a caller can tell "more than ``limit``").

    Time-ordered uids (UUIDv7, ULID) share their first characters, so a short prefix is often
    ambiguous; the Review page lists the matches instead of opening the first one. Text that cannot
    be a uid (blank, NUL, unpaired surrogates) matches nothing.
    """
    prefix = (prefix or "").strip()
    if not prefix or "\x00" in prefix:
        return []
    try:
        prefix.encode("utf-8")
    except UnicodeEncodeError:
        return []
    if db.execute("SELECT 1 FROM samples WHERE uid = ?", [prefix]).fetchone():
        return [prefix]
    return [r[0] for r in db.execute("SELECT uid FROM samples WHERE uid >= ? AND uid < ? ORDER BY uid LIMIT ?", [prefix, prefix + "\uffff", limit + 1])]


def sample_label(db: sqlite_utils.Database, uid: str) -> str:
    """A short id that tells samples apart in toasts and lists: the sample's ``custom_id`` (e.g.
    ``train-search-00012``), else the uid's last 12 characters (``…`` + tail): time-ordered uids
    share their head, never their tail."""
    row = db.execute("SELECT custom_id FROM samples WHERE uid = ?", [uid]).fetchone()
    if row and row[0]:
        return str(row[0])
    return uid if len(uid) <= 13 else "…" + uid[-12:]


def decided_by_count(db: sqlite_utils.Database, flt: QueueFilter | None, annotator: str) -> int:
    """How many samples in the filter's kind / category / batch / job scope ``annotator`` has a
    current (not undone) accept, reject or skip on: "my decisions", shown apart from
    :func:`progress`'s *decided*, which for gold samples needs every required vote."""
    if not annotator:
        return 0
    flt = flt or QueueFilter()
    scope = QueueFilter(kind=flt.kind, category=flt.category, batch_id=flt.batch_id, job_id=flt.job_id, decision=None)
    where, params = scope.where()
    return int(
        db.execute(
            f"SELECT COUNT(*) FROM annotator_decisions ad JOIN sample_state st ON st.uid = ad.uid{where} {'AND' if where else 'WHERE'} ad.annotator = ?",
            [*params, annotator],
        ).fetchone()[0]
    )


# ----------------------------------------------------------------------------- samples and revisions


def get_dialogue(db: sqlite_utils.Database, uid: str) -> Dialogue:
    """The stored Dialogue of a sample (the original, not an edit).

    Raises:
        ReviewError: no sample with that uid.
    """
    row = db.execute("SELECT dialogue FROM sample_dialogues WHERE uid = ?", [uid]).fetchone()
    if not row:
        raise ReviewError(f"uid가 {uid}인 샘플이 없습니다")
    return Dialogue.model_validate_json(row[0])


def current_revision(db: sqlite_utils.Database, uid: str) -> tuple[int | None, Dialogue]:
    """``(revision id, dialogue)``: the latest saved edit, or ``(None, original)``."""
    row = db.execute("SELECT id, dialogue FROM revisions WHERE uid = ? ORDER BY id DESC LIMIT 1", [uid]).fetchone()
    if row:
        return row[0], Dialogue.model_validate_json(row[1])
    return None, get_dialogue(db, uid)


def save_revision(db: sqlite_utils.Database, uid: str, edited: Dialogue, *, annotator: str, note: str = "", seconds: float | None = None) -> int:
    """Append an edited version of a sample; returns the revision id. The original stays as it was.

    Raises:
        ReviewError: blank annotator, unknown uid, the uid of ``edited`` differs, or nothing changed.
        auth.PermissionDenied: roles are in force and the annotator is not an annotator.
    """
    annotator = _require_annotator(annotator)
    auth.require(db, annotator, "annotator")
    _, current = current_revision(db, uid)
    if edited.uid != uid:
        raise ReviewError(f"수정본의 uid가 {edited.uid}입니다: {uid}여야 합니다")
    if edited.model_dump() == current.model_dump():
        raise ReviewError("바뀐 내용이 없습니다")
    with write_transaction(db):
        cur = db.execute(
            "INSERT INTO revisions (uid, annotator, dialogue, note, seconds, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            [uid, annotator, edited.model_dump_json(), note, seconds, now()],
        )
        rid = cur.lastrowid
        assert rid is not None  # an INSERT into a rowid table always has one
        db.execute("UPDATE sample_state SET revision_id = ?, updated_at = ? WHERE uid = ?", [rid, now(), uid])
    from .quality import check_samples  # the checks judge the version that would ship

    check_samples(db, uids=[uid], corpus=False)
    return rid


def edit_pairs(db: sqlite_utils.Database):
    """Yield ``(original, edited)`` Dialogues for every sample with a saved edit (latest edit)."""
    for uid, text in db.execute(
        "SELECT s.uid, r.dialogue FROM samples s JOIN revisions r ON r.id = (SELECT MAX(id) FROM revisions WHERE uid = s.uid) ORDER BY s.rowid"
    ):
        yield get_dialogue(db, uid), Dialogue.model_validate_json(text)


# ----------------------------------------------------------------------------- decisions


def _require_annotator(annotator: str) -> str:
    """The annotator's name, exactly as given (:func:`auth.check_identity`: ``"boss "`` is refused,
    not recorded as ``boss``)."""
    if not (annotator or "").strip():
        raise ReviewError("결정하기 전에 검토자 이름이 필요합니다")
    try:
        return auth.check_identity(annotator, what="검토자 이름")
    except auth.IdentityError as exc:
        raise ReviewError(str(exc)) from None


def state_of(db: sqlite_utils.Database, uid: str) -> dict | None:
    """The ``sample_state`` row of a sample (``state``, ``decision``, ``n_votes``, …) or ``None``."""
    rows = list(db.query("SELECT * FROM sample_state WHERE uid = ?", [uid]))
    return rows[0] if rows else None


def latest_decision(db: sqlite_utils.Database, uid: str) -> dict | None:
    """The latest effective (not undone) decision row of a sample, reasons decoded; ``None`` if none."""
    rows = list(
        db.query(
            "SELECT * FROM reviews r WHERE uid = ? AND decision IN ('accept', 'reject', 'skip') AND NOT EXISTS "
            "(SELECT 1 FROM reviews u WHERE u.uid = r.uid AND u.decision = 'undo' AND u.undoes = r.id) "
            "ORDER BY id DESC LIMIT 1",
            [uid],
        )
    )
    if not rows:
        return None
    rows[0]["reasons"] = loads(rows[0]["reasons"], [])
    return rows[0]


def record_decision(
    db: sqlite_utils.Database,
    uid: str,
    *,
    annotator: str,
    decision: str,
    reasons: list[str] | tuple[str, ...] = (),
    note: str = "",
    seconds: float | None = None,
    adjudication: bool = False,
    findings_seen: list[str] | None = None,
    shown_revision: int | None | object = NOT_SHOWN,
    shown_findings: list[str] | tuple[str, ...] | None = None,
) -> int:
    """Append one decision and update the sample's state in the same transaction; returns its id.

    Args:
        annotator: who decided (required, non-blank).
        decision: ``accept`` / ``reject`` / ``skip``.
        reasons: keys of :data:`REJECT_REASONS` (rejections).
        seconds: time spent on the sample, in seconds.
        adjudication: an adjudicator's final word on a disputed gold sample.
        findings_seen: error-level check ids that were on screen when deciding (an accept then
            counts as a person overriding those findings; see :func:`datagen.publish`).
        shown_revision: the revision id the person was shown (``None``: the sample as stored, no
            edit). When given, the decision is bound to it: if the sample has another current
            revision now (someone saved an edit since the page was rendered), nothing is written
            and :class:`StaleDecision` is raised.
        shown_findings: the error-level check ids the person was shown. When given, they are what
            is recorded as ``findings_seen`` (unless that is given too), and an error-level finding
            of a check not among them (the gate found something new since the page was rendered)
            refuses the decision the same way.

    Raises:
        ReviewError: blank annotator, unknown decision or reason, or unknown uid.
        StaleDecision (a ReviewError): ``shown_revision`` / ``shown_findings`` no longer describe
            the sample (optimistic check inside the write transaction; nothing written).
        auth.PermissionDenied: roles are in force and the annotator lacks the role (annotator, or
            adjudicator for an adjudication).
    """
    annotator = _require_annotator(annotator)
    auth.require(db, annotator, "adjudicator" if adjudication else "annotator")
    if decision not in DECISIONS:
        raise ReviewError(f"결정은 {', '.join(DECISIONS)} 중 하나여야 합니다: {decision!r}")
    unknown = [r for r in reasons if r not in REJECT_REASONS]
    if unknown:
        raise ReviewError(f"알 수 없는 거절 사유: {', '.join(unknown)}")
    with write_transaction(db):
        row = db.execute("SELECT revision_id FROM sample_state WHERE uid = ?", [uid]).fetchone()
        if not row:
            raise ReviewError(f"uid가 {uid}인 샘플이 없습니다")
        if shown_revision is not NOT_SHOWN and row[0] != shown_revision:
            raise StaleDecision("화면에 표시된 뒤 이 대화의 수정본이 저장되었습니다. 결정을 기록하지 않았습니다: 새 버전을 확인하고 다시 결정하세요.")
        if shown_findings is not None:
            errors = {c for (c,) in db.execute("SELECT DISTINCT check_id FROM findings WHERE uid = ? AND severity = 'error'", [uid])}
            new = sorted(errors - set(shown_findings))
            if new:
                raise StaleDecision(
                    f"화면에 표시된 뒤 새 오류가 발견되었습니다 ({', '.join(new)}). 결정을 기록하지 않았습니다: 검사 결과를 확인하고 다시 결정하세요."
                )
            if findings_seen is None:
                findings_seen = list(shown_findings)
        cur = db.execute(
            "INSERT INTO reviews (uid, annotator, decision, reasons, note, edited, seconds, created_at, revision_id, "
            "adjudication, findings_seen) VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?)",
            [uid, annotator, decision, dumps(list(reasons)), note or "", seconds, now(), row[0], int(adjudication), dumps(sorted(set(findings_seen or [])))],
        )
        rid = cur.lastrowid
        assert rid is not None  # an INSERT into a rowid table always has one
        recompute_state(db, uid)
    return rid


def undo(db: sqlite_utils.Database, *, annotator: str, uid: str | None = None) -> dict | None:
    """Undo this annotator's latest effective decision (on ``uid``, or on any sample); appends an
    ``undo`` row. Returns the undone review row, or ``None`` when there is nothing to undo.

    Raises:
        ReviewError: blank annotator.
    """
    annotator = _require_annotator(annotator)
    auth.require(db, annotator, "annotator")
    with write_transaction(db):
        sql = (
            "SELECT * FROM reviews r WHERE annotator = ? AND decision IN ('accept', 'reject', 'skip') "
            + ("AND uid = ? " if uid else "")
            + "AND NOT EXISTS (SELECT 1 FROM reviews u WHERE u.decision = 'undo' AND u.undoes = r.id) "
            "ORDER BY id DESC LIMIT 1"
        )
        rows = list(db.query(sql, [annotator, uid] if uid else [annotator]))
        if not rows:
            return None
        target = rows[0]
        db.execute(
            "INSERT INTO reviews (uid, annotator, decision, reasons, note, seconds, created_at, undoes) VALUES (?, ?, 'undo', '[]', '', NULL, ?, ?)",
            [target["uid"], annotator, now(), target["id"]],
        )
        recompute_state(db, target["uid"])
    return target


def history(db: sqlite_utils.Database, uid: str) -> list[dict]:
    """Every decision, undo and edit of a sample, oldest first:
    ``[{"at", "who", "what", "reasons", "note", "seconds", "id"}]`` (``what``: accept, reject, skip,
    undo, edit; adjudications are marked ``adjudicate:<decision>``; an audited lot's approval and its
    revocation are ``lot-approve`` / ``lot-revoke`` by ``lot:<id>``, :func:`datagen.triage.lot_history`)."""
    events = triage.lot_history(db, uid)
    for r in db.query("SELECT * FROM reviews WHERE uid = ? ORDER BY id", [uid]):
        what = r["decision"] if not r["adjudication"] else f"adjudicate:{r['decision']}"
        events.append(
            {
                "at": r["created_at"],
                "who": r["annotator"],
                "what": what,
                "reasons": loads(r["reasons"], []),
                "note": (r["note"] or "") + (f" (#{r['undoes']} 취소)" if r["undoes"] else ""),
                "seconds": r["seconds"],
                "id": r["id"],
            }
        )
    for r in db.query("SELECT id, annotator, note, seconds, created_at FROM revisions WHERE uid = ? ORDER BY id", [uid]):
        events.append(
            {
                "at": r["created_at"],
                "who": r["annotator"],
                "what": "edit",
                "reasons": [],
                "note": r["note"] or "",
                "seconds": r["seconds"],
                "id": f"rev{r['id']}",
            }
        )
    return sorted(events, key=lambda e: e["at"])


def votes(db: sqlite_utils.Database, uid: str) -> list[dict]:
    """Each annotator's effective decision on a sample, with reasons and note (adjudication view)."""
    return [
        {**r, "reasons": loads(r["reasons"], [])}
        for r in db.query(
            "SELECT ad.annotator, ad.decision, r.reasons, r.note, r.created_at, r.adjudication FROM annotator_decisions ad "
            "JOIN reviews r ON r.id = ad.review_id WHERE ad.uid = ? ORDER BY r.id",
            [uid],
        )
    ]


def decision_counts(db: sqlite_utils.Database) -> dict[str, int]:
    """Samples per bucket (:func:`bucket_sql`): ``{"accept", "reject", "skip", "pending", "disputed"}``
    (partial gold counts as pending)."""
    out = dict.fromkeys(BUCKETS, 0)
    for bucket, n in db.execute(f"SELECT {bucket_sql('')}, COUNT(*) FROM sample_state GROUP BY 1"):
        out[bucket] += n
    return out


# ----------------------------------------------------------------------------- team statistics


def agreement(db: sqlite_utils.Database) -> list[dict]:
    """Inter-annotator agreement on gold samples per category: the first two annotators' votes.

    Returns ``[{"category", "pairs", "percent", "kappa"}]``; kappa is Cohen's kappa (Cohen 1960,
    κ = (p_o − p_e) / (1 − p_e), p_e from each rater's marginal accept rate); ``None`` when
    undefined (fewer than 2 pairs, or p_e = 1).
    """
    pairs: dict[str, list[tuple[str, str]]] = {}
    for uid, category, decisions in db.execute(
        "SELECT st.uid, st.category, (SELECT json_group_array(decision) FROM (SELECT ad.decision FROM annotator_decisions ad "
        "WHERE ad.uid = st.uid AND ad.decision IN ('accept', 'reject') ORDER BY ad.review_id LIMIT 2)) "
        "FROM sample_state st WHERE st.kind = 'gold' AND st.n_votes >= 2"
    ):
        d = json.loads(decisions)
        if len(d) == 2:
            pairs.setdefault(category, []).append((d[0], d[1]))
    out = []
    for category, ps in sorted(pairs.items()):
        n = len(ps)
        po = sum(a == b for a, b in ps) / n
        pa = sum(a == "accept" for a, _ in ps) / n
        pb = sum(b == "accept" for _, b in ps) / n
        pe = pa * pb + (1 - pa) * (1 - pb)
        kappa = (po - pe) / (1 - pe) if n >= 2 and pe < 1 else None
        out.append({"category": category, "pairs": n, "percent": round(100 * po, 1), "kappa": None if kappa is None else round(kappa, 3)})
    return out


def throughput(db: sqlite_utils.Database) -> list[dict]:
    """Decisions per annotator: total, active hours (clock hours with a decision), decisions per
    active hour, median seconds per decision. ``[{"annotator", "decisions", "hours", "per_hour",
    "median_seconds"}]``, busiest first."""
    out = []
    for annotator, n, hours in db.execute(
        "SELECT annotator, COUNT(*), COUNT(DISTINCT substr(created_at, 1, 13)) FROM reviews "
        "WHERE decision IN ('accept', 'reject', 'skip') GROUP BY annotator ORDER BY 2 DESC"
    ):
        secs = sorted(
            s
            for (s,) in db.execute(
                "SELECT seconds FROM reviews WHERE annotator = ? AND seconds IS NOT NULL AND decision IN ('accept', 'reject', 'skip')",
                [annotator],
            )
        )
        median = secs[len(secs) // 2] if secs else None
        out.append({"annotator": annotator, "decisions": n, "hours": hours, "per_hour": round(n / hours, 1) if hours else None, "median_seconds": median})
    return out


# Review speed: a pause longer than this between two decisions is a break, not review time. Ten
# minutes is our choice (long enough for a hard gold sample, short enough that lunch does not count).
IDLE_SECONDS = 600


def review_speed(db: sqlite_utils.Database, *, idle_seconds: float = IDLE_SECONDS) -> list[dict]:
    """Decisions per annotator measured over active time, not clock hours.

    Active time = the seconds recorded on the first decision (time on that sample, when known) + the
    gaps between consecutive decisions, each capped at ``idle_seconds``. Six decisions in five
    minutes are 72 per hour, not "6 in 1 active clock hour".

    Returns:
        ``[{"annotator", "decisions", "active_minutes", "per_hour", "median_seconds"}]``, busiest
        first; ``per_hour`` is ``None`` under one active minute (too little to rate).
    """
    from datetime import datetime

    out = []
    for (annotator,) in db.execute(
        "SELECT annotator FROM reviews WHERE decision IN ('accept', 'reject', 'skip') GROUP BY annotator ORDER BY COUNT(*) DESC, annotator"
    ).fetchall():
        rows = db.execute(
            "SELECT created_at, seconds FROM reviews WHERE annotator = ? AND decision IN ('accept', 'reject', 'skip') ORDER BY created_at",
            [annotator],
        ).fetchall()
        times = [datetime.fromisoformat(r[0]) for r in rows]
        active = float(rows[0][1] or 0) + sum(min((b - a).total_seconds(), idle_seconds) for a, b in zip(times, times[1:]))
        secs = sorted(r[1] for r in rows if r[1] is not None)
        out.append(
            {
                "annotator": annotator,
                "decisions": len(rows),
                "active_minutes": round(active / 60, 1),
                "per_hour": round(len(rows) / (active / 3600), 1) if active >= 60 else None,
                "median_seconds": secs[len(secs) // 2] if secs else None,
            }
        )
    return out


if __name__ == "__main__":  # python -m datagen.review accept|reject|accept-clean … (datagen/review_cli.py)
    import sys

    from datagen.cli import run
    from datagen.review_cli import main

    sys.exit(run(main))
