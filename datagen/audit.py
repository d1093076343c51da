"""Audited lots (issue 17, part 3): approve a job's clean lane per category from a random audit.

A **lot** is one job's clean lane (:mod:`datagen.triage`: training samples without any finding)
of one category, frozen when the audit starts: the clean training samples of that job and
category that no person has accepted or rejected yet and no other open lot holds. Gold samples
never go by lot.

The audit (statistics):

- the publisher sets the acceptable defect rate ``p0``, the confidence ``1 − α`` and the number of
  defects a passing audit may find, ``c`` (:func:`set_params`; defaults 5%, 95%, 0);
- the sample size is the smallest ``n`` such that, with ``c`` defects found in ``n`` draws, the
  one-sided upper confidence bound of the defect rate is ≤ ``p0`` (:func:`sample_size`). The bound
  is the exact binomial one of Clopper & Pearson (1934, "The use of confidence or fiducial limits
  illustrated in the case of the binomial", Biometrika 26(4):404–413), ``p_U = Beta⁻¹(1 − α; d + 1,
  n − d)`` (NIST/SEMATECH e-Handbook of Statistical Methods, §7.2.4.1; ``scipy.stats.beta.ppf``).
  For ``c = 0`` this is the "success run" rule ``n = ⌈ln α / ln(1 − p0)⌉``: 59 at 5% / 95%, 299
  at 1% / 95%; for ``c = 1, 2, 3`` at 5% / 95%: 93, 124, 153 (the standard attribute
  demonstration tables; ``tests/test_audit.py`` checks them);
- **no finite-population correction**: the lot is sampled without replacement, the bound treats
  the draws as binomial. That is conservative: the chance of seeing ≤ ``c`` defects is never
  larger without replacement (for ``c = 0``: ``Π (N − D − i)/(N − i) ≤ (1 − D/N)^n``), so the
  sample is at least as large as the hypergeometric plan would need. A lot no larger than its
  sample size is not audited (review it in full: :func:`start` refuses);
- the sample is drawn with ``random.Random(seed).sample`` over the members in arrival order; the
  seed is stored with the lot, so the draw can be repeated (:func:`draw`);
- auditors (annotators) review the drawn samples in the Review page with the normal accept /
  reject (``QueueFilter(lot_id=…)``); a reject is a defect. :func:`status` gives audited,
  defects, the bound and the verdict: ``pass`` once all ``n`` are audited with ≤ ``c`` defects
  (then the bound holds: ``p_U(d, n) ≤ p_U(c, n) ≤ p0``), ``fail`` as soon as more than ``c``
  defects are found, else ``in_progress``.

What follows:

- while the audit runs, the members not drawn are held out of the review queue
  (``sample_state.lane_rank`` 2);
- a lot fails the moment its audit finds more than ``c`` defects (the review that did it, in its
  transaction: :func:`after_state_change`): every member goes back to the human queue and the
  Review page says it comes from a failed lot (full review). A later undo does not reopen it;
- the publisher approves a passing lot (:func:`approve`, only when the bound holds): every held
  member still clean and without a person's accept or reject gets a ``lot_decisions`` approval
  (``approved_by = 'lot:<id>'``, the audit figures), which :mod:`datagen.review` folds into the
  sample's state (decided, accept): it ships like a person's accept; an error finding that
  arrives later holds it back (nobody saw it). A person's reject of a lot-approved or audited
  sample always wins (:func:`datagen.review.derive_state`);
- the publisher may revoke the approval (:func:`revoke`): every sample loses it (a ``revoke``
  row; the history keeps both) and goes back to the queue.

Roles (:mod:`datagen.auth`): a publisher sets the parameters, approves and revokes; an annotator
or a publisher starts an audit (it uses the publisher's parameters); annotators audit.
"""

from __future__ import annotations

import math
import random
import secrets
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import sqlite_utils

from . import auth, review, triage
from .errors import DatagenError, InputError
from .store import dumps, loads, now, write_transaction

DEFAULT_P0 = 0.05
DEFAULT_CONFIDENCE = 0.95
DEFAULT_ALLOWED_DEFECTS = 0
"""Defaults until a publisher sets them (issue 17: "defect rate ≤ 5% at 95% confidence")."""

MAX_SAMPLE = 1_000_000
"""Largest sample size computed (p0 of about 3·10⁻⁶ at 95%); smaller p0 is refused."""

LOT_KIND = "train"
STATES = ("auditing", "failed", "approved", "revoked")
VERDICT_KO = {"in_progress": "감사 중", "pass": "합격 (상한 ≤ p0)", "fail": "불합격"}


class AuditError(DatagenError, ValueError):
    """An audit action that cannot be done (bad parameters, unknown lot, wrong state); ``str(err)``
    is one Korean line shown to users."""


# ----------------------------------------------------------------------------- the statistics (pure)


def upper_bound(defects: int, n: int, confidence: float = DEFAULT_CONFIDENCE) -> float:
    """One-sided Clopper-Pearson upper confidence bound of a defect rate (0–1).

    ``Beta⁻¹(confidence; defects + 1, n − defects)``, 1.0 when ``defects == n`` (and for ``n == 0``:
    nothing audited, nothing known). Source: Clopper & Pearson (1934); NIST/SEMATECH e-Handbook §7.2.4.1.

    Raises:
        ValueError: ``defects`` < 0 or ``defects`` > ``n`` (a bug of the caller); InputError: ``confidence`` not in (0, 1).
    """
    from scipy.stats import beta

    _check_confidence(confidence)
    if defects < 0 or n < 0 or defects > n:
        raise ValueError(f"need 0 ≤ defects ≤ n, got defects={defects}, n={n}")
    if defects == n:
        return 1.0
    return float(beta.ppf(confidence, defects + 1, n - defects))


def _check_confidence(confidence: float) -> None:
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0 < confidence < 1 or math.isnan(confidence):
        raise InputError(f"신뢰도는 0과 1 사이의 수여야 합니다: {confidence!r}")


def _check_p0(p0: float) -> None:
    if isinstance(p0, bool) or not isinstance(p0, (int, float)) or not 0 < p0 < 1 or math.isnan(p0):
        raise InputError(f"허용 결함률 p0은 0과 1 사이의 수여야 합니다: {p0!r}")


def _check_allowed(allowed_defects: int) -> None:
    if isinstance(allowed_defects, bool) or not isinstance(allowed_defects, int) or allowed_defects < 0:
        raise InputError(f"허용 결함 수는 0 이상의 정수여야 합니다: {allowed_defects!r}")


def required_sample_size(p0: float = DEFAULT_P0, confidence: float = DEFAULT_CONFIDENCE, allowed_defects: int = DEFAULT_ALLOWED_DEFECTS) -> int:
    """The smallest ``n`` with ``upper_bound(allowed_defects, n, confidence) ≤ p0`` (the module
    docstring: 59 for 5% / 95% / 0 defects). Independent of the lot size (no finite-population
    correction).

    Raises:
        InputError: a parameter out of range, or ``n`` would exceed :data:`MAX_SAMPLE`.
    """
    _check_p0(p0)
    _check_confidence(confidence)
    _check_allowed(allowed_defects)
    c = allowed_defects

    class _Bounds:  # bisect over n: the bound falls as n grows (c fixed)
        def __getitem__(self, k: int) -> bool:
            return upper_bound(c, c + 1 + k, confidence) <= p0

        def __len__(self) -> int:
            return MAX_SAMPLE - c

    k = bisect_left(_Bounds(), True)
    if k >= MAX_SAMPLE - c:
        raise InputError(f"p0={p0}, 신뢰도 {confidence}에는 표본이 {MAX_SAMPLE:,}건보다 많이 필요합니다")
    return c + 1 + k


def sample_size(lot_size: int, p0: float = DEFAULT_P0, confidence: float = DEFAULT_CONFIDENCE, allowed_defects: int = DEFAULT_ALLOWED_DEFECTS) -> int:
    """Draws needed to audit a lot of ``lot_size`` samples: :func:`required_sample_size`, capped at
    the lot size (a lot no larger than that is reviewed in full: :func:`start` refuses to audit it).

    Raises:
        InputError: ``lot_size`` < 0 or a parameter out of range.
    """
    if isinstance(lot_size, bool) or not isinstance(lot_size, int) or lot_size < 0:
        raise InputError(f"로트 크기는 0 이상의 정수여야 합니다: {lot_size!r}")
    return min(lot_size, required_sample_size(p0, confidence, allowed_defects))


def verdict(audited: int, defects: int, sample_size: int, allowed_defects: int) -> str:
    """``fail`` once more than ``allowed_defects`` defects are found, ``pass`` when all
    ``sample_size`` draws are audited with no more than that, else ``in_progress`` (pure)."""
    if defects > allowed_defects:
        return "fail"
    return "pass" if audited >= sample_size else "in_progress"


def draw(members: Sequence[str], n: int, seed: int) -> list[str]:
    """The audit sample: ``random.Random(seed).sample(members, n)`` (members in arrival order), so
    the same lot and seed always give the same draws, in draw order.

    Raises:
        ValueError: ``n`` > ``len(members)`` or ``n`` < 0.
    """
    return random.Random(seed).sample(list(members), n)


# ----------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class AuditParams:
    """The publisher's audit parameters: ``p0`` (acceptable defect rate, 0–1), ``confidence``
    (0–1), ``allowed_defects`` (defects a passing audit may find), who set them and when
    (``None`` for the defaults)."""

    p0: float = DEFAULT_P0
    confidence: float = DEFAULT_CONFIDENCE
    allowed_defects: int = DEFAULT_ALLOWED_DEFECTS
    set_by: str | None = None
    set_at: str | None = None

    @property
    def sample_size(self) -> int:
        """:func:`required_sample_size` of these parameters."""
        return required_sample_size(self.p0, self.confidence, self.allowed_defects)


def params(db: sqlite_utils.Database) -> AuditParams:
    """The parameters in force: the newest ``audit_params`` row, else the defaults."""
    row = db.execute("SELECT p0, confidence, allowed_defects, set_by, set_at FROM audit_params ORDER BY id DESC LIMIT 1").fetchone()
    return AuditParams(*row) if row else AuditParams()


def set_params(db: sqlite_utils.Database, *, p0: float, confidence: float, allowed_defects: int = 0, actor: str | None) -> AuditParams:
    """Set the audit parameters (appended; the newest row is in force). Lots already started keep
    the parameters they were started with.

    Raises:
        auth.PermissionDenied: roles are in force and ``actor`` is not a publisher.
        InputError: a parameter out of range.
    """
    auth.require(db, actor, "publisher")
    required_sample_size(p0, confidence, allowed_defects)  # validates, and refuses an impossible plan
    with write_transaction(db):
        db.execute(
            "INSERT INTO audit_params (p0, confidence, allowed_defects, set_by, set_at) VALUES (?, ?, ?, ?, ?)",
            [float(p0), float(confidence), int(allowed_defects), actor or "", now()],
        )
    return params(db)


# ----------------------------------------------------------------------------- lots


@dataclass
class LotStatus:
    """One lot and its audit figures (:func:`status`).

    Attributes:
        state: stored lifecycle state: ``auditing``, ``failed``, ``approved``, ``revoked``.
        size: members (N); sample_size: draws (n); audited: draws accepted or rejected by a
            person; defects: draws rejected; upper_bound: :func:`upper_bound` of (defects,
            audited) at the lot's confidence (1.0 before any audit); verdict: :func:`verdict`
            (``fail`` for a failed lot even if an undo lowered the count since).
        approved: members whose standing approval is this lot's; held: members held out of the queue.
    """

    id: int
    job_id: str
    category: str
    state: str
    size: int
    sample_size: int
    p0: float
    confidence: float
    allowed_defects: int
    seed: int
    audited: int
    defects: int
    upper_bound: float
    verdict: str
    approved: int
    held: int
    created_by: str | None
    created_at: str | None

    @property
    def bound_holds(self) -> bool:
        """True when every draw is audited and the upper bound is ≤ p0."""
        return self.audited >= self.sample_size and self.upper_bound <= self.p0

    def figures(self) -> dict:
        """The audit figures recorded with an approval: ``{"defects", "audited", "sample_size",
        "size", "upper_bound", "p0", "confidence", "allowed_defects", "seed"}``."""
        return {
            "defects": self.defects,
            "audited": self.audited,
            "sample_size": self.sample_size,
            "size": self.size,
            "upper_bound": self.upper_bound,
            "p0": self.p0,
            "confidence": self.confidence,
            "allowed_defects": self.allowed_defects,
            "seed": self.seed,
        }


_LOT_COLUMNS = "id, job_id, category, state, size, sample_size, p0, confidence, allowed_defects, seed, created_by, created_at"


def _lot_row(db: sqlite_utils.Database, lot_id: int) -> dict:
    rows = list(db.query(f"SELECT {_LOT_COLUMNS} FROM lots WHERE id = ?", [int(lot_id)]))
    if not rows:
        raise AuditError(f"감사 로트 #{lot_id}가 없습니다.")
    return rows[0]


def _status_of(db: sqlite_utils.Database, row: dict) -> LotStatus:
    audited, defects = db.execute(
        "SELECT COUNT(*), COALESCE(SUM(st.decision = 'reject'), 0) FROM lot_items li JOIN sample_state st ON st.uid = li.uid "
        "WHERE li.lot_id = ? AND li.draw IS NOT NULL AND st.state = 'decided' AND st.decision IN ('accept', 'reject')",
        [row["id"]],
    ).fetchone()
    approved = db.execute("SELECT COUNT(*) FROM sample_state WHERE approved_by = ?", [f"lot:{row['id']}"]).fetchone()[0]
    held = db.execute("SELECT COUNT(*) FROM lot_items WHERE lot_id = ? AND held = 1", [row["id"]]).fetchone()[0]
    v = "fail" if row["state"] == "failed" else verdict(audited, defects, row["sample_size"], row["allowed_defects"])
    return LotStatus(
        id=row["id"],
        job_id=row["job_id"],
        category=row["category"],
        state=row["state"],
        size=row["size"],
        sample_size=row["sample_size"],
        p0=row["p0"],
        confidence=row["confidence"],
        allowed_defects=row["allowed_defects"],
        seed=row["seed"],
        audited=audited,
        defects=defects,
        upper_bound=upper_bound(defects, audited, row["confidence"]),
        verdict=v,
        approved=approved,
        held=held,
        created_by=row["created_by"],
        created_at=row["created_at"],
    )


def status(db: sqlite_utils.Database, lot_id: int) -> LotStatus:
    """A lot's state and audit figures (:class:`LotStatus`).

    Raises:
        AuditError: no such lot.
    """
    return _status_of(db, _lot_row(db, lot_id))


def lots(db: sqlite_utils.Database, job_id: str | None = None) -> list[LotStatus]:
    """Every lot (of one job when given), newest first."""
    sql = f"SELECT {_LOT_COLUMNS} FROM lots" + (" WHERE job_id = ?" if job_id else "") + " ORDER BY id DESC"
    return [_status_of(db, r) for r in db.query(sql, [job_id] if job_id else [])]


def events(db: sqlite_utils.Database, lot_id: int) -> list[dict]:
    """A lot's events, oldest first: ``[{"at", "action" (start / fail / approve / revoke), "actor",
    "figures": {...}, "note"}]``."""
    return [
        {**r, "figures": loads(r["figures"], {})}
        for r in db.query("SELECT at, action, actor, figures, note FROM lot_events WHERE lot_id = ? ORDER BY id", [int(lot_id)])
    ]


_CANDIDATES_SQL = (
    "FROM sample_state st WHERE st.job_id = ? AND st.category = ? AND st.kind <> 'gold' AND st.lane_rank = 1 "
    "AND st.rank <= 1 AND st.approved_by IS NULL "
    "AND NOT EXISTS (SELECT 1 FROM annotator_decisions ad WHERE ad.uid = st.uid AND ad.decision IN ('accept', 'reject')) "
    "AND NOT EXISTS (SELECT 1 FROM lot_items li JOIN lots l ON l.id = li.lot_id WHERE li.uid = st.uid AND l.state = 'auditing')"
)
"""A lot's would-be members: the job's clean training samples of the category that no person has
accepted or rejected (pending or skipped), in no lot still auditing (held, ``lane_rank`` 2, or drawn)."""


def candidates(db: sqlite_utils.Database, job_id: str, category: str) -> list[str]:
    """The uids a lot of this job and category would hold now, in arrival order (``_CANDIDATES_SQL``)."""
    return [r[0] for r in db.execute(f"SELECT st.uid {_CANDIDATES_SQL} ORDER BY st.seq", [job_id, category])]


def plan(db: sqlite_utils.Database, job_id: str, p: AuditParams | None = None) -> list[dict]:
    """The lots a job would give now, one per category of its training samples.

    Returns:
        ``[{"job_id", "category", "lanes": {"flagged", "clean"}, "size" (N: candidates now),
        "sample_size" (n, :func:`sample_size`), "share" (n / N), "census" (True when N ≤ n: review
        it in full instead), "open_lot" (id of a lot of this job and category still auditing, or
        None), "lots": [ids of every lot of this job and category]}]``, by category.

    Raises:
        AuditError: no job with that id.
    """
    if (
        not db.execute("SELECT 1 FROM jobs WHERE id = ?", [job_id]).fetchone()
        and not db.execute("SELECT 1 FROM sample_state WHERE job_id = ? LIMIT 1", [job_id]).fetchone()
    ):
        raise AuditError(f"작업 {job_id}이(가) 없습니다.")
    p = p or params(db)
    need = p.sample_size
    out = []
    cats = db.execute(
        "SELECT category, SUM(lane_rank = 0), SUM(lane_rank >= 1) FROM sample_state WHERE job_id = ? AND kind <> 'gold' GROUP BY category ORDER BY category",
        [job_id],
    ).fetchall()
    for category, flagged, clean in cats:
        n_cand = db.execute(f"SELECT COUNT(*) {_CANDIDATES_SQL}", [job_id, category]).fetchone()[0]
        lot_rows = db.execute("SELECT id, state FROM lots WHERE job_id = ? AND category = ? ORDER BY id", [job_id, category]).fetchall()
        out.append(
            {
                "job_id": job_id,
                "category": category,
                "lanes": {"flagged": flagged or 0, "clean": clean or 0},
                "size": n_cand,
                "sample_size": min(need, n_cand),
                "share": (min(need, n_cand) / n_cand) if n_cand else None,
                "census": n_cand <= need,
                "open_lot": next((i for i, s in reversed(lot_rows) if s == "auditing"), None),
                "lots": [i for i, _ in lot_rows],
            }
        )
    return out


def jobs(db: sqlite_utils.Database) -> list[dict]:
    """Jobs with training samples, newest first: ``[{"job_id", "samples", "created_at"}]``."""
    return list(
        db.query(
            "SELECT st.job_id AS job_id, COUNT(*) AS samples, j.created_at AS created_at FROM sample_state st "
            "LEFT JOIN jobs j ON j.id = st.job_id WHERE st.job_id IS NOT NULL AND st.kind <> 'gold' "
            "GROUP BY st.job_id ORDER BY j.created_at DESC, st.job_id DESC"
        )
    )


def _require_auditor_or_publisher(db: sqlite_utils.Database, actor: str | None) -> None:
    if actor:
        auth.check_identity(actor)
    if not ({"annotator", "publisher"} & auth.roles_of(db, actor)):
        raise auth.PermissionDenied(f"{actor or '(이름 없음)'}: 감사를 시작하려면 '검토자'(annotator) 또는 '게시자'(publisher) 권한이 필요합니다.")


def start(db: sqlite_utils.Database, job_id: str, category: str, *, actor: str | None, seed: int | None = None) -> int:
    """Start the audit of one lot: freeze its members (:func:`candidates`), draw the audit sample
    with the parameters in force (:func:`params`) and a seed (random when not given; stored), hold
    the members not drawn out of the review queue. Returns the lot id.

    Raises:
        auth.PermissionDenied: roles are in force and ``actor`` is neither annotator nor publisher.
        AuditError: no candidate samples, or the lot is no larger than its sample (review it in full).
    """
    _require_auditor_or_publisher(db, actor)
    p = params(db)
    need = p.sample_size
    seed = int(seed) if seed is not None else secrets.randbelow(2**31)
    with write_transaction(db):
        members = candidates(db, job_id, category)
        if not members:
            raise AuditError(f"{job_id} / {category}: 감사할 깨끗한 미검토 샘플이 없습니다.")
        if len(members) <= need:
            raise AuditError(f"{job_id} / {category}: 로트 {len(members)}건이 필요한 표본 {need}건보다 크지 않습니다. 감사 대신 전수 검토하세요.")
        drawn = draw(members, need, seed)
        ts = now()
        lot_id = db.execute(
            "INSERT INTO lots (job_id, category, kind, size, sample_size, p0, confidence, allowed_defects, seed, state, created_by, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'auditing', ?, ?, ?)",
            [job_id, category, LOT_KIND, len(members), need, p.p0, p.confidence, p.allowed_defects, seed, actor or "", ts, ts],
        ).lastrowid
        assert lot_id is not None  # an INSERT into a rowid table always has one
        order = {uid: i for i, uid in enumerate(drawn)}
        db.conn.executemany(
            "INSERT INTO lot_items (lot_id, uid, draw, held) VALUES (?, ?, ?, ?)", [(lot_id, uid, order.get(uid), int(uid not in order)) for uid in members]
        )
        db.execute(
            f"UPDATE sample_state SET lane_rank = {triage.HELD} WHERE lane_rank = 1 AND uid IN (SELECT uid FROM lot_items WHERE lot_id = ? AND held = 1)",
            [lot_id],
        )
        _event(
            db,
            lot_id,
            "start",
            actor,
            {"size": len(members), "sample_size": need, "p0": p.p0, "confidence": p.confidence, "allowed_defects": p.allowed_defects, "seed": seed},
        )
    return int(lot_id)


def _event(db: sqlite_utils.Database, lot_id: int, action: str, actor: str | None, figures: dict, note: str = "") -> None:
    db.execute(
        "INSERT INTO lot_events (lot_id, action, actor, figures, note, at) VALUES (?, ?, ?, ?, ?, ?)",
        [lot_id, action, actor or "", dumps(figures), note, now()],
    )


def _release(db: sqlite_utils.Database, lot_id: int) -> None:
    """Within the caller's transaction: the lot holds none of its members any more; those held
    go back to the review queue as clean (or flagged, if a finding arrived meanwhile)."""
    db.execute("UPDATE lot_items SET held = 0 WHERE lot_id = ? AND held = 1", [lot_id])
    db.execute(
        "UPDATE sample_state SET lane_rank = CASE WHEN kind = 'gold' OR EXISTS (SELECT 1 FROM findings f WHERE f.uid = sample_state.uid) "
        "THEN 0 WHEN EXISTS (SELECT 1 FROM lot_items li WHERE li.uid = sample_state.uid AND li.held = 1) THEN 2 ELSE 1 END "
        "WHERE lane_rank = 2 AND uid IN (SELECT uid FROM lot_items WHERE lot_id = ?)",
        [lot_id],
    )


def after_state_change(db: sqlite_utils.Database, uid: str) -> None:
    """Called by :func:`datagen.review.recompute_state` inside its transaction after a sample's
    state changed: when the sample is drawn for a lot still auditing and that audit now has more
    defects than allowed, the lot fails (``state`` failed, a ``fail`` event with the figures) and
    every member goes back to the human queue (full review)."""
    for (lot_id,) in db.execute(
        "SELECT l.id FROM lot_items li JOIN lots l ON l.id = li.lot_id WHERE li.uid = ? AND li.draw IS NOT NULL AND l.state = 'auditing'",
        [uid],
    ).fetchall():
        s = status(db, lot_id)
        if s.verdict == "fail":
            db.execute("UPDATE lots SET state = 'failed', updated_at = ? WHERE id = ?", [now(), lot_id])
            _event(db, lot_id, "fail", "", s.figures(), note=f"결함 {s.defects}건 > 허용 {s.allowed_defects}건: 전수 검토")
            _release(db, lot_id)


def approve(db: sqlite_utils.Database, lot_id: int, *, actor: str | None) -> int:
    """Approve a lot whose audit passed: every held member that is still clean and has no person's
    accept or reject gets the lot's approval (``lot_decisions`` row, ``approved_by = 'lot:<id>'``,
    the audit figures) and is decided accepted (:func:`datagen.review.recompute_state`). Members
    that left the clean lane or were decided by a person are not approved by the lot and no longer
    held. Returns how many samples the lot approved.

    Raises:
        auth.PermissionDenied: roles are in force and ``actor`` is not a publisher.
        AuditError: no such lot; it is not auditing; the audit is not finished or its bound does
            not hold (the message gives the figures).
    """
    auth.require(db, actor, "publisher")
    with write_transaction(db):
        s = status(db, lot_id)
        if s.state != "auditing":
            raise AuditError(f"감사 로트 #{lot_id}는 '{triage.LOT_STATE_KO.get(s.state, s.state)}' 상태라 승인할 수 없습니다.")
        if s.verdict != "pass" or not s.bound_holds:
            raise AuditError(
                f"감사 로트 #{lot_id}: 표본 {s.audited}/{s.sample_size}건 검토, 결함 {s.defects}건, 상한 {100 * s.upper_bound:.2f}% "
                f"(p0 {100 * s.p0:g}%): 상한이 p0 이하가 될 때까지 승인할 수 없습니다."
            )
        figures = s.figures()
        members = [
            r[0]
            for r in db.execute(
                f"SELECT li.uid FROM lot_items li JOIN sample_state st ON st.uid = li.uid WHERE li.lot_id = ? AND li.held = 1 "
                f"AND li.draw IS NULL AND st.kind <> 'gold' AND st.lane_rank = {triage.HELD} AND NOT EXISTS (SELECT 1 FROM annotator_decisions ad "
                "WHERE ad.uid = li.uid AND ad.decision IN ('accept', 'reject')) ORDER BY st.seq",
                [lot_id],
            )
        ]
        ts = now()
        db.conn.executemany(
            "INSERT INTO lot_decisions (uid, lot_id, action, approved_by, revision_id, actor, figures, created_at) "
            "SELECT ?, ?, 'approve', ?, revision_id, ?, ?, ? FROM sample_state WHERE uid = ?",
            [(uid, lot_id, f"lot:{lot_id}", actor or "", dumps(figures), ts, uid) for uid in members],
        )
        for uid in members:
            review.recompute_state(db, uid)
        db.execute(
            "UPDATE lot_items SET held = 0 WHERE lot_id = ? AND held = 1 AND uid NOT IN (SELECT uid FROM sample_state WHERE approved_by = ?)",
            [lot_id, f"lot:{lot_id}"],
        )
        db.execute("UPDATE lots SET state = 'approved', updated_at = ? WHERE id = ?", [ts, lot_id])
        _event(db, lot_id, "approve", actor, {**figures, "approved": len(members)})
        _release_unapproved_lanes(db, lot_id)
    return len(members)


def _release_unapproved_lanes(db: sqlite_utils.Database, lot_id: int) -> None:
    """Lane ranks of the members the lot no longer holds (after :func:`approve`)."""
    db.execute(
        "UPDATE sample_state SET lane_rank = CASE WHEN kind = 'gold' OR EXISTS (SELECT 1 FROM findings f WHERE f.uid = sample_state.uid) "
        "THEN 0 WHEN EXISTS (SELECT 1 FROM lot_items li WHERE li.uid = sample_state.uid AND li.held = 1) THEN 2 ELSE 1 END "
        "WHERE lane_rank = 2 AND uid IN (SELECT uid FROM lot_items WHERE lot_id = ? AND held = 0)",
        [lot_id],
    )


def revoke(db: sqlite_utils.Database, lot_id: int, *, actor: str | None, note: str = "") -> int:
    """Revoke an approved lot: every sample whose standing approval is this lot's gets a ``revoke``
    row (the approval row stays: the history shows both) and its state is derived again (pending,
    unless a person decided it), and the lot's members go back to the review queue. Returns how
    many samples lost the lot's approval.

    Raises:
        auth.PermissionDenied: roles are in force and ``actor`` is not a publisher.
        AuditError: no such lot, or it is not approved.
    """
    auth.require(db, actor, "publisher")
    with write_transaction(db):
        s = status(db, lot_id)
        if s.state != "approved":
            raise AuditError(f"감사 로트 #{lot_id}는 승인된 상태가 아니라 철회할 수 없습니다 ({triage.LOT_STATE_KO.get(s.state, s.state)}).")
        standing = [
            r[0]
            for r in db.execute(
                "SELECT d.uid FROM lot_decisions d WHERE d.lot_id = ? AND d.action = 'approve' AND d.id = "
                "(SELECT MAX(id) FROM lot_decisions d2 WHERE d2.uid = d.uid)",
                [lot_id],
            )
        ]
        ts = now()
        figures = {**s.figures(), "revoked": len(standing)}
        db.conn.executemany(
            "INSERT INTO lot_decisions (uid, lot_id, action, approved_by, revision_id, actor, figures, created_at) VALUES (?, ?, 'revoke', ?, NULL, ?, ?, ?)",
            [(uid, lot_id, f"lot:{lot_id}", actor or "", dumps(figures), ts) for uid in standing],
        )
        db.execute("UPDATE lot_items SET held = 0 WHERE lot_id = ?", [lot_id])
        for uid in standing:
            review.recompute_state(db, uid)
        _release(db, lot_id)
        db.execute("UPDATE lots SET state = 'revoked', updated_at = ? WHERE id = ?", [ts, lot_id])
        _event(db, lot_id, "revoke", actor, figures, note=note)
    return len(standing)


# ----------------------------------------------------------------------------- the dataset card


def approval_counts(db: sqlite_utils.Database, uids: set[str] | list[str]) -> dict:
    """How the given (shipped) samples were approved: ``{"person": n, "lot": n, "by_lot": {lot_id: n}}``."""
    wanted = set(uids)
    by_lot: dict[int, int] = {}
    for uid, approved_by in db.execute("SELECT uid, approved_by FROM sample_state WHERE approved_by IS NOT NULL"):
        if uid in wanted and approved_by.startswith("lot:"):
            lid = int(approved_by[4:])
            by_lot[lid] = by_lot.get(lid, 0) + 1
    n_lot = sum(by_lot.values())
    return {"person": len(wanted) - n_lot, "lot": n_lot, "by_lot": dict(sorted(by_lot.items()))}


def card_section(db: sqlite_utils.Database, shipped: set[str] | list[str]) -> list[str]:
    """Markdown lines of the dataset card's "승인 방식" section: rows approved by a person and by an
    audited lot, and each contributing lot's audit figures (size, sample, audited, defects, upper
    bound, p0, confidence, rows shipped). Empty when no shipped row came by lot."""
    counts = approval_counts(db, shipped)
    lines = ["## 승인 방식", "", f"- 사람이 승인한 레코드: {counts['person']}건", f"- 감사 로트로 승인된 레코드: {counts['lot']}건"]
    if not counts["lot"]:
        return lines + [""]
    lines += [
        "",
        "감사 로트: 한 생성 작업의 한 카테고리에서 자동 검사와 모델 판정에 아무 결과도 없는 샘플의 묶음입니다. "
        "무작위 표본을 사람이 검토해, 결함률의 단측 Clopper-Pearson 상한(Clopper & Pearson 1934)이 허용 결함률 p0 이하일 때 "
        "게시자가 나머지를 승인했습니다. 유한 모집단 보정은 하지 않았습니다(보수적).",
        "",
    ]
    rows = []
    for lid, n in counts["by_lot"].items():
        try:
            s = status(db, lid)
        except AuditError:
            continue
        f = _approval_figures(db, lid) or s.figures()
        rows.append(
            [
                f"lot:{lid}",
                s.job_id,
                s.category,
                f["size"],
                f["sample_size"],
                f"{f['defects']}/{f['audited']}",
                f"{100 * f['upper_bound']:.2f}%",
                f"{100 * f['p0']:g}%",
                f"{100 * f['confidence']:g}%",
                n,
            ]
        )
    header = ["로트", "job", "category", "로트 크기", "표본", "결함/검토", "결함률 상한", "p0", "신뢰도", "게시 레코드"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(v).replace("|", "\\|") for v in r) + " |" for r in rows]
    return lines + [""]


def _approval_figures(db: sqlite_utils.Database, lot_id: int) -> dict | None:
    """The figures recorded when the lot was approved (the latest ``approve`` event)."""
    row = db.execute("SELECT figures FROM lot_events WHERE lot_id = ? AND action = 'approve' ORDER BY id DESC LIMIT 1", [lot_id]).fetchone()
    return loads(row[0], None) if row else None


def as_dict(s: LotStatus) -> dict:
    """A :class:`LotStatus` as a plain dict (CLI JSON output, tables)."""
    return {**asdict(s), "bound_holds": s.bound_holds}


if __name__ == "__main__":  # python -m datagen.audit plan|status|start|approve|revoke|params (datagen/audit_cli.py)
    import sys

    from datagen.audit_cli import main
    from datagen.cli import run

    sys.exit(run(main))
