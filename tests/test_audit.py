"""Audited lots (issue 17, part 3): the sample size and bound against published values, the seeded
draw, the lifecycle (start → audit → pass / fail → approve → revoke), what ships, a person's reject
winning, the card, the roles (library and CLI), and the property that a failed lot's samples ship
only when a person accepted them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from audit_data import finding, job_samples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datagen import audit, auth, publish, review
from datagen.errors import InputError
from datagen.store import connect

ROOT = Path(__file__).resolve().parents[1]

# ----------------------------------------------------------------------------- the statistics


@pytest.mark.parametrize(
    "p0, confidence, allowed, n",
    [
        # zero-failure ("success run") sample sizes, n = ceil(ln(1 - C) / ln(1 - p0)): the 59 of the
        # 95/95 rule, 299 for 1%/95%, 29 for 10%/95%, 22 for 10%/90%
        (0.05, 0.95, 0, 59),
        (0.01, 0.95, 0, 299),
        (0.10, 0.95, 0, 29),
        (0.10, 0.90, 0, 22),
        # attribute demonstration tables at 95% confidence / 5% defects with 1, 2, 3 failures allowed
        (0.05, 0.95, 1, 93),
        (0.05, 0.95, 2, 124),
        (0.05, 0.95, 3, 153),
    ],
)
def test_sample_size_matches_published_tables(p0, confidence, allowed, n):
    assert audit.required_sample_size(p0, confidence, allowed) == n
    assert audit.upper_bound(allowed, n, confidence) <= p0 < audit.upper_bound(allowed, n - 1, confidence)


@given(n=st.integers(1, 5000), confidence=st.floats(0.5, 0.999))
def test_zero_defect_bound_is_the_closed_form(n, confidence):
    """With no defect the Clopper-Pearson upper bound is 1 − α^(1/n) (α = 1 − confidence)."""
    assert audit.upper_bound(0, n, confidence) == pytest.approx(1 - (1 - confidence) ** (1 / n), rel=1e-9, abs=1e-12)


def test_bound_and_sample_size_edges():
    assert audit.upper_bound(0, 0) == 1.0 and audit.upper_bound(5, 5) == 1.0
    # the bound with 3 defects in 10 draws at 95%, one-sided: 0.6066 (Clopper-Pearson tables)
    assert audit.upper_bound(3, 10, 0.95) == pytest.approx(0.6066, abs=1e-4)
    assert audit.sample_size(30, 0.05, 0.95) == 30  # capped at the lot size
    assert audit.sample_size(10_000, 0.05, 0.95) == 59  # no finite-population correction: N does not matter
    for bad in [
        dict(p0=0),
        dict(p0=1),
        dict(p0=float("nan")),
        dict(confidence=1.0),
        dict(confidence=0),
        dict(allowed_defects=-1),
        dict(allowed_defects=1.5),
        dict(p0=True),
    ]:
        with pytest.raises(InputError):  # a user error: the CLI prints it as one line
            audit.required_sample_size(**{"p0": 0.05, "confidence": 0.95, "allowed_defects": 0, **bad})
    with pytest.raises(ValueError):
        audit.upper_bound(3, 2)
    assert audit.verdict(3, 0, 5, 0) == "in_progress"
    assert audit.verdict(5, 0, 5, 0) == "pass"
    assert audit.verdict(2, 1, 5, 0) == "fail"
    assert audit.verdict(5, 1, 5, 1) == "pass"


def test_draw_is_reproducible_from_its_seed():
    members = [f"u{i}" for i in range(100)]
    a = audit.draw(members, 10, seed=7)
    assert a == audit.draw(members, 10, seed=7) and len(set(a)) == 10 and set(a) <= set(members)
    assert a != audit.draw(members, 10, seed=8)


# ----------------------------------------------------------------------------- lifecycle

SMALL = dict(p0=0.3, confidence=0.9)  # n = ceil(ln 0.1 / ln 0.7) = 7: lots of a few dozen samples


@pytest.fixture
def lot(db):
    """A job of 30 clean samples and one flagged, parameters for a sample of 7, and the lot started."""
    uids = job_samples(db, 31)
    finding(db, uids[30], severity="warning")
    audit.set_params(db, actor=None, **SMALL)
    lot_id = audit.start(db, "job_t", "search", actor="민지", seed=11)
    return db, lot_id, uids


def _audit_sample(db, lot_id):
    return [r[0] for r in db.execute("SELECT uid FROM lot_items WHERE lot_id = ? AND draw IS NOT NULL ORDER BY draw", [lot_id])]


def _held(db, lot_id):
    return [r[0] for r in db.execute("SELECT uid FROM lot_items WHERE lot_id = ? AND draw IS NULL ORDER BY uid", [lot_id])]


def test_start_freezes_the_clean_lane_draws_the_sample_and_holds_the_rest(lot):
    db, lot_id, uids = lot
    s = audit.status(db, lot_id)
    assert (s.size, s.sample_size, s.state, s.verdict, s.audited, s.upper_bound) == (30, 7, "auditing", "in_progress", 0, 1.0)
    sample = _audit_sample(db, lot_id)
    assert sample == audit.draw(uids[:30], 7, seed=11)  # the stored seed repeats the draw
    assert uids[30] not in sample and uids[30] not in _held(db, lot_id)  # the flagged sample is not in the lot
    todo = review.queue(db, review.QueueFilter(annotator="준호"))
    assert set(todo) == {uids[30], *sample}  # held members are out of the queue
    assert todo[0] == uids[30]  # flagged first
    assert review.queue(db, review.QueueFilter(lot_id=lot_id)) == sorted(sample, key=uids.index)
    plan = audit.plan(db, "job_t")[0]
    assert plan["open_lot"] == lot_id and plan["size"] == 0  # nothing left to put in a second lot
    with pytest.raises(audit.AuditError, match="감사할"):
        audit.start(db, "job_t", "search", actor="민지")


def test_a_passing_lot_is_approved_per_sample_and_ships(lot):
    db, lot_id, uids = lot
    with pytest.raises(audit.AuditError, match="상한"):
        audit.approve(db, lot_id, actor="boss")  # audit not finished
    for uid in _audit_sample(db, lot_id):
        review.record_decision(db, uid, annotator="민지", decision="accept")
    s = audit.status(db, lot_id)
    assert s.verdict == "pass" and s.bound_holds and s.upper_bound == pytest.approx(1 - 0.1 ** (1 / 7))
    assert audit.approve(db, lot_id, actor="boss") == 23
    held = _held(db, lot_id)
    status = publish.shipping_status(db)
    assert all(status[u] == "ships" for u in uids[:30]) and status[uids[30]] == "pending"
    st_row = review.state_of(db, held[0])
    assert (st_row["state"], st_row["decision"], st_row["approved_by"], st_row["accepted_review_id"]) == ("decided", "accept", f"lot:{lot_id}", None)
    events = review.history(db, held[0])
    assert [e["what"] for e in events] == ["lot-approve"] and events[0]["who"] == f"lot:{lot_id}"
    assert "결함 0/7" in events[0]["note"] and "p0 30%" in events[0]["note"] and "신뢰도 90%" in events[0]["note"] and "boss" in events[0]["note"]
    assert audit.status(db, lot_id).approved == 23 and audit.status(db, lot_id).state == "approved"
    card = publish.prepare(db).card
    assert "- 사람이 승인한 레코드: 7건" in card and "- 감사 로트로 승인된 레코드: 23건" in card
    assert f"| lot:{lot_id} | job_t | search | 30 | 7 | 0/7 | {100 * (1 - 0.1 ** (1 / 7)):.2f}% | 30% | 90% | 23 |" in card


def test_a_persons_reject_wins_over_the_lot_whichever_comes_first(lot):
    db, lot_id, uids = lot
    held = _held(db, lot_id)
    review.record_decision(db, held[0], annotator="준호", decision="reject", reasons=["other"])  # before the approval
    for uid in _audit_sample(db, lot_id):
        review.record_decision(db, uid, annotator="민지", decision="accept")
    assert audit.approve(db, lot_id, actor="boss") == 22  # the rejected one is not approved by the lot
    review.record_decision(db, held[1], annotator="준호", decision="reject", reasons=["unnatural_korean"])  # after it
    status = publish.shipping_status(db)
    assert status[held[0]] == "rejected" and status[held[1]] == "rejected" and status[held[2]] == "ships"
    review.undo(db, annotator="준호", uid=held[1])  # the person's reject undone: the lot's approval stands again
    assert publish.shipping_status(db)[held[1]] == "ships"
    review.record_decision(db, held[2], annotator="준호", decision="skip")  # a skip is not a decision over the lot's
    assert publish.shipping_status(db)[held[2]] == "ships"
    # an audited sample rejected after the approval: rejected (it ships only by a person's accept)
    sample = _audit_sample(db, lot_id)
    review.record_decision(db, sample[0], annotator="준호", decision="reject", reasons=["other"])
    assert publish.shipping_status(db)[sample[0]] == "rejected"


def test_an_error_finding_after_approval_holds_a_lot_approved_sample_back(lot):
    db, lot_id, _ = lot
    for uid in _audit_sample(db, lot_id):
        review.record_decision(db, uid, annotator="민지", decision="accept")
    audit.approve(db, lot_id, actor="boss")
    held = _held(db, lot_id)
    finding(db, held[0], "result_contradicts_call", "error")  # e.g. a judge run later
    finding(db, held[1], "claimed_action", "warning")
    status = publish.shipping_status(db)
    assert status[held[0]] == "unreviewed_error" and status[held[1]] == "ships"


def test_revoke_removes_the_lot_approval_and_keeps_both_events(lot):
    db, lot_id, uids = lot
    sample = _audit_sample(db, lot_id)
    for uid in sample:
        review.record_decision(db, uid, annotator="민지", decision="accept")
    audit.approve(db, lot_id, actor="boss")
    held = _held(db, lot_id)
    with pytest.raises(audit.AuditError):
        audit.approve(db, lot_id, actor="boss")  # once
    assert audit.revoke(db, lot_id, actor="boss", note="표본 밖 결함") == 23
    status = publish.shipping_status(db)
    assert all(status[u] == "pending" for u in held) and all(status[u] == "ships" for u in sample)  # persons' accepts stay
    assert [e["what"] for e in review.history(db, held[0])] == ["lot-approve", "lot-revoke"]
    assert review.state_of(db, held[0])["approved_by"] is None
    assert set(held) <= set(review.queue(db, review.QueueFilter(annotator="준호")))  # back in the queue
    s = audit.status(db, lot_id)
    assert (s.state, s.approved, s.held) == ("revoked", 0, 0)
    assert [e["action"] for e in audit.events(db, lot_id)] == ["start", "approve", "revoke"]
    assert "감사 로트로 승인된 레코드: 0건" in publish.prepare(db).card
    with pytest.raises(audit.AuditError, match="철회"):
        audit.revoke(db, lot_id, actor="boss")
    # the samples can form a new lot
    assert audit.plan(db, "job_t")[0]["size"] == 23


def test_a_lot_fails_on_its_first_defect_and_goes_to_full_review(lot):
    db, lot_id, uids = lot
    sample = _audit_sample(db, lot_id)
    review.record_decision(db, sample[0], annotator="민지", decision="accept")
    review.record_decision(db, sample[1], annotator="민지", decision="reject", reasons=["unnatural_korean"])
    s = audit.status(db, lot_id)
    assert (s.state, s.verdict, s.defects, s.audited, s.held) == ("failed", "fail", 1, 2, 0)
    todo = review.queue(db, review.QueueFilter(annotator="준호"), limit=100)
    assert set(_held(db, lot_id)) <= set(todo)  # every unaudited member is back with people
    assert review.queue(db, review.QueueFilter(lot_id=lot_id, lot_sample=False), limit=100)  # the full-review filter
    from datagen import triage

    assert "불합격" in triage.describe(db, _held(db, lot_id)[0])["lot_note"]
    with pytest.raises(audit.AuditError):
        audit.approve(db, lot_id, actor="boss")
    review.undo(db, annotator="민지", uid=sample[1])  # an undo does not reopen a failed lot
    assert audit.status(db, lot_id).state == "failed"
    assert [e["action"] for e in audit.events(db, lot_id)] == ["start", "fail"]


def test_defects_within_the_allowance_pass_when_the_bound_holds(db):
    job_samples(db, 40)
    audit.set_params(db, p0=0.3, confidence=0.9, allowed_defects=1, actor=None)  # n = 12 (binom.cdf(1, 12, 0.3) ≤ 0.1)
    lot_id = audit.start(db, "job_t", "search", actor=None, seed=3)
    sample = _audit_sample(db, lot_id)
    assert len(sample) == 12
    review.record_decision(db, sample[0], annotator="a", decision="reject", reasons=["other"])
    for uid in sample[1:]:
        review.record_decision(db, uid, annotator="a", decision="accept")
    s = audit.status(db, lot_id)
    assert (s.verdict, s.defects, s.bound_holds) == ("pass", 1, True) and s.upper_bound <= 0.3
    assert audit.approve(db, lot_id, actor=None) == 28
    assert publish.shipping_status(db)[sample[0]] == "rejected"


def test_a_lot_no_larger_than_its_sample_is_refused_and_gold_never_goes_by_lot(db):
    job_samples(db, 50)
    job_samples(db, 80, job_id="job_g", kind="gold")
    with pytest.raises(audit.AuditError, match="전수 검토"):
        audit.start(db, "job_t", "search", actor=None)  # 50 ≤ 59
    assert audit.plan(db, "job_t")[0]["census"] is True
    with pytest.raises(audit.AuditError, match="감사할"):
        audit.start(db, "job_g", "search", actor=None)
    assert audit.plan(db, "job_g") == []


# ----------------------------------------------------------------------------- roles


@pytest.fixture
def team(db):
    auth.grant(db, "boss", "admin", by=None)
    auth.grant(db, "pub", "publisher", by="boss")
    auth.grant(db, "민지", "annotator", by="boss")
    auth.grant(db, "pm", "pm", by="boss")
    job_samples(db, 31)
    return db


def test_roles_publisher_sets_and_approves_annotators_audit(team):
    db = team
    with pytest.raises(auth.PermissionDenied):
        audit.set_params(db, actor="민지", **SMALL)
    with pytest.raises(auth.PermissionDenied):
        audit.set_params(db, actor=None, **SMALL)
    audit.set_params(db, actor="pub", **SMALL)
    with pytest.raises(auth.PermissionDenied):
        audit.start(db, "job_t", "search", actor="pm")
    lot_id = audit.start(db, "job_t", "search", actor="민지")
    for uid in _audit_sample(db, lot_id):
        with pytest.raises(auth.PermissionDenied):
            review.record_decision(db, uid, annotator="pub", decision="accept")  # a publisher does not audit
        review.record_decision(db, uid, annotator="민지", decision="accept")
    with pytest.raises(auth.PermissionDenied):
        audit.approve(db, lot_id, actor="민지")
    assert audit.status(db, lot_id).state == "auditing"
    assert audit.approve(db, lot_id, actor="pub") == 24
    with pytest.raises(auth.PermissionDenied):
        audit.revoke(db, lot_id, actor="민지")
    assert audit.revoke(db, lot_id, actor="boss") == 24  # admin implies publisher
    assert audit.params(db).set_by == "pub"


def _cli(*args, env_extra=None):
    import os

    env = dict(os.environ, PYTHONPATH=str(ROOT), **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "datagen.audit", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_cli_plan_start_status_approve_revoke_with_roles(team):
    db = team
    audit.set_params(db, actor="pub", **SMALL)
    out = _cli("plan", "--job-id", "job_t")
    assert out.returncode == 0, out.stderr
    assert "search: 확인 필요 0건, 깨끗함 31건, 로트 크기 31건: 31건 중 7건 감사" in out.stdout
    refused = _cli("params", "--p0", "0.1", "--operator", "민지")
    assert refused.returncode == 1 and "게시자" in refused.stderr and audit.params(db).p0 == 0.3
    started = _cli("start", "--job-id", "job_t", "--category", "search", "--seed", "5", "--operator", "민지")
    assert started.returncode == 0, started.stderr
    lot_id = audit.lots(db)[0].id
    assert _audit_sample(db, lot_id) == audit.draw([f"job_t-search-{i:05d}" for i in range(31)], 7, seed=5)
    for uid in _audit_sample(db, lot_id):
        review.record_decision(db, uid, annotator="민지", decision="accept")
    status = _cli("status", "--lot", str(lot_id), "--json")
    assert status.returncode == 0 and '"verdict": "pass"' in status.stdout and '"bound_holds": true' in status.stdout
    refused = _cli("approve", "--lot", str(lot_id), "--operator", "민지")
    assert refused.returncode == 1 and "게시자" in refused.stderr and audit.status(db, lot_id).state == "auditing"
    ok = _cli("approve", "--lot", str(lot_id), "--operator", "pub")
    assert ok.returncode == 0 and "샘플 24건 승인" in ok.stdout, ok.stderr
    ok = _cli("revoke", "--lot", str(lot_id), "--note", "다시 보기", "--operator", "pub")
    assert ok.returncode == 0 and "샘플 24건의 승인 철회" in ok.stdout
    assert _cli("revoke", "--lot", "999", "--operator", "pub").returncode == 1


# ----------------------------------------------------------------------------- property: a failed lot ships only what a person accepted

step = st.one_of(
    st.tuples(st.just("decide"), st.integers(0, 19), st.sampled_from(["accept", "accept", "reject", "skip"]), st.sampled_from(["a", "b"])),
    st.tuples(st.just("undo"), st.integers(0, 19), st.none(), st.sampled_from(["a", "b"])),
    st.tuples(st.just("finding"), st.integers(0, 19), st.sampled_from(["error", "warning"]), st.none()),
    st.tuples(st.just("approve"), st.none(), st.none(), st.none()),
    st.tuples(st.just("revoke"), st.none(), st.none(), st.none()),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**31 - 1),
    steps=st.lists(step, max_size=25),
    audit_first=st.lists(st.sampled_from(["accept"] * 5 + ["reject"]), min_size=0, max_size=3).map(lambda xs: xs + ["accept"] * (3 - len(xs)) if xs else xs),
    approve_first=st.booleans(),
)
def test_no_sample_of_a_failed_lot_ships_unless_a_person_accepted_it(tmp_path_factory, seed, steps, audit_first, approve_first):
    """Random audits and decisions on a lot of 20 (sample 3: p0 0.6 at 90%), approvals and
    revocations attempted at random. After every step: a sample of a lot that failed its audit
    ships only when its deciding decision is a person's accept; a sample ships by a lot only while
    that lot is approved, with no person's accept or reject on it and no error finding; and the
    lot's recorded state matches its audit (failed exactly when a defect beyond the allowance was
    found while it was auditing)."""
    db = connect(tmp_path_factory.mktemp("prop") / "p.db")
    uids = job_samples(db, 20)
    audit.set_params(db, p0=0.6, confidence=0.9, allowed_defects=0, actor=None)
    lot_id = audit.start(db, "job_t", "search", actor=None, seed=seed)
    sample = _audit_sample(db, lot_id)
    assert len(sample) == 3
    ever_failed = False
    for decision, uid in zip(audit_first, sample):
        review.record_decision(db, uid, annotator="a", decision=decision, reasons=["other"] if decision == "reject" else [])
    if approve_first:
        steps = [("approve", None, None, None), *steps]
    for op, i, arg, who in steps:
        state_before = audit.status(db, lot_id).state
        try:
            if op == "decide":
                review.record_decision(db, uids[i], annotator=who, decision=arg, reasons=["other"] if arg == "reject" else [])
            elif op == "undo":
                review.undo(db, annotator=who, uid=uids[i])
            elif op == "finding":
                finding(db, uids[i], "x", arg)
            elif op == "approve":
                audit.approve(db, lot_id, actor=None)
            else:
                audit.revoke(db, lot_id, actor=None)
        except audit.AuditError:
            pass
        s = audit.status(db, lot_id)
        if state_before == "auditing" and s.state != "approved":
            defects = db.execute(
                "SELECT COUNT(*) FROM lot_items li JOIN sample_state st ON st.uid = li.uid WHERE li.lot_id = ? "
                "AND li.draw IS NOT NULL AND st.state = 'decided' AND st.decision = 'reject'",
                [lot_id],
            ).fetchone()[0]
            assert (s.state == "failed") == (defects > 0 or state_before == "failed")
        ever_failed = ever_failed or s.state == "failed"
        status = publish.shipping_status(db)
        person_accepts = {
            u for (u,) in db.execute("SELECT st.uid FROM sample_state st JOIN reviews r ON r.id = st.accepted_review_id WHERE r.decision = 'accept'")
        }
        person_decided = {u for (u,) in db.execute("SELECT uid FROM annotator_decisions WHERE decision IN ('accept', 'reject')")}
        errors = {u for (u,) in db.execute("SELECT uid FROM findings WHERE severity = 'error'")}
        for uid in uids:
            if status[uid] != "ships":
                continue
            if s.state == "failed" or ever_failed:
                assert uid in person_accepts, (uid, s)
            if uid not in person_accepts:
                assert s.state == "approved" and uid not in person_decided and uid not in errors
                assert review.state_of(db, uid)["approved_by"] == f"lot:{lot_id}"
                approved = [e["figures"] for e in audit.events(db, lot_id) if e["action"] == "approve"]
                assert approved and approved[-1]["audited"] == approved[-1]["sample_size"] == 3  # approved only after a full audit
                assert approved[-1]["defects"] == 0 and approved[-1]["upper_bound"] <= 0.6  # … whose bound held


_REJECTER = """
import sys
from datagen import review
from datagen.store import connect
db = connect(sys.argv[1])
for uid in sys.argv[2:]:
    review.record_decision(db, uid, annotator="준호", decision="reject", reasons=["other"])
"""
_APPROVER = """
import sys
from datagen import audit
from datagen.store import connect
print(audit.approve(connect(sys.argv[1]), int(sys.argv[2]), actor=None))
"""


def test_a_reject_racing_the_approval_in_another_process_still_wins(lot, isolated_env):
    """Two processes at once: a publisher approves the lot while an annotator rejects held members.
    Whichever transaction comes first, every rejected member ends rejected, the rest lot-approved,
    and no decision is lost."""
    import os

    db, lot_id, _ = lot
    for uid in _audit_sample(db, lot_id):
        review.record_decision(db, uid, annotator="민지", decision="accept")
    held = _held(db, lot_id)
    rejected = held[::2]
    path = str(isolated_env / "output" / "datagen.db")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    procs = [
        subprocess.Popen([sys.executable, "-c", _REJECTER, path, *rejected], env=env, stderr=subprocess.PIPE, text=True),
        subprocess.Popen([sys.executable, "-c", _APPROVER, path, str(lot_id)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1] for o in outs]
    approved_now = int(outs[1][0].strip())
    status = publish.shipping_status(db)
    assert all(status[u] == "rejected" for u in rejected)
    assert all(status[u] == "ships" for u in held if u not in rejected)
    assert db.execute("SELECT COUNT(*) FROM reviews WHERE annotator = '준호' AND decision = 'reject'").fetchone()[0] == len(rejected)
    assert len(held) - len(rejected) <= approved_now <= len(held)
