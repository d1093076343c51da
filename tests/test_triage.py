"""Triage (issue 17, part 2): the lane rule, the lane the database keeps for it, the queue serving
flagged before clean, the lane filter, and what the Review page says."""

from __future__ import annotations

import sqlite3

import sqlite_utils
from audit_data import finding, job_samples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datagen import migrations, review, triage

ALL = review.QueueFilter(decision=None)


def test_lane_rule():
    assert triage.lane("gold", []) == "gold"
    assert triage.lane("gold", [{"check_id": "x", "severity": "error"}]) == "gold"  # gold is always two people
    assert triage.lane("train", []) == "clean"
    assert triage.lane("train", 0) == "clean"
    assert triage.lane("train", [{"check_id": "x", "severity": "warning"}]) == "flagged"  # any severity
    assert triage.lane("train", [{"check_id": "rubric", "severity": "warning", "source": "judge:gpt-x"}]) == "flagged"  # any source
    assert triage.lane("train", 3) == "flagged"


def _memory_db() -> sqlite_utils.Database:
    db = sqlite_utils.Database(sqlite3.connect(":memory:", isolation_level=None))
    migrations.migrate(db)
    return db


ops = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(0, 3), st.sampled_from(["error", "warning"])),
        st.tuples(st.just("delete"), st.integers(0, 3), st.none()),
        st.tuples(st.just("delete_one"), st.integers(0, 3), st.none()),
        st.tuples(st.just("gold"), st.integers(0, 3), st.none()),
    ),
    max_size=25,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=ops, findings_first=st.booleans())
def test_the_stored_lane_follows_the_findings_whoever_writes_them(ops, findings_first):
    """Whatever order findings rows are inserted and deleted in (before or after the sample's state
    row exists, a kind changed to gold), ``sample_state.lane_rank`` says what :func:`triage.lane`
    says from the findings table: 0 for gold / flagged, 1 for clean."""
    db = _memory_db()
    uids = [f"u{i}" for i in range(4)]
    if findings_first:  # findings rows of samples whose state rows are written later (ingest's order is the other one)
        for uid in uids[:2]:
            db.execute("INSERT INTO findings (uid, check_id, severity) VALUES (?, 'c', 'warning')", [uid])
    for uid in uids:
        db.execute("INSERT INTO samples (uid, kind, category, dialogue) VALUES (?, 'train', 'search', '{}')", [uid])
    for op, i, sev in ops:
        uid = uids[i]
        if op == "add":
            db.execute("INSERT INTO findings (uid, check_id, severity) VALUES (?, 'c', ?)", [uid, sev])
        elif op == "delete":
            db.execute("DELETE FROM findings WHERE uid = ?", [uid])
        elif op == "delete_one":
            db.execute("DELETE FROM findings WHERE id = (SELECT MIN(id) FROM findings WHERE uid = ?)", [uid])
        else:
            db.execute("UPDATE sample_state SET kind = 'gold' WHERE uid = ?", [uid])
    for uid in uids:
        kind, rank = db.execute("SELECT kind, lane_rank FROM sample_state WHERE uid = ?", [uid]).fetchone()
        found = list(db.query("SELECT * FROM findings WHERE uid = ?", [uid]))
        assert rank == (1 if triage.lane(kind, found) == "clean" else 0), (uid, kind, found)


def test_migration_013_gives_existing_samples_their_lane():
    db = sqlite_utils.Database(sqlite3.connect(":memory:", isolation_level=None))
    migrations.migrate(db, stop_before="013_audit_lots")
    for uid, kind in [("a", "train"), ("b", "train"), ("g", "gold")]:
        db.execute("INSERT INTO samples (uid, kind, category, dialogue) VALUES (?, ?, 'search', '{}')", [uid, kind])
    db.execute("INSERT INTO findings (uid, check_id, severity) VALUES ('b', 'c', 'warning')")
    migrations.migrate(db)
    assert dict(db.execute("SELECT uid, lane_rank FROM sample_state").fetchall()) == {"a": 1, "b": 0, "g": 0}


def test_queue_serves_flagged_before_clean_then_arrival(db):
    uids = job_samples(db, 5)
    finding(db, uids[3], severity="warning")
    finding(db, uids[4], "judge_rubric", "warning")  # a model judge's finding is a finding like any other
    assert review.queue(db) == [uids[3], uids[4], uids[0], uids[1], uids[2]]
    assert review.next_uid(db, review.QueueFilter(annotator="민지")) == uids[3]
    review.record_decision(db, uids[3], annotator="민지", decision="accept")
    assert review.queue(db, ALL)[-1] == uids[3]  # decided samples still come after undecided ones
    assert review.queue(db, review.QueueFilter(lane="flagged")) == [uids[4]]
    assert review.queue(db, review.QueueFilter(lane="clean")) == uids[:3]
    assert review.count(db, review.QueueFilter(decision=None, lane="flagged")) == 2


def test_lane_filter_and_counts_with_gold(db):
    train = job_samples(db, 3)
    gold = job_samples(db, 2, job_id="job_g", kind="gold")
    finding(db, train[0])
    assert triage.lane_counts(db) == {"gold": 2, "flagged": 1, "clean": 2}
    assert triage.lane_counts(db, job_id="job_t") == {"gold": 0, "flagged": 1, "clean": 2}
    assert review.queue(db, review.QueueFilter(lane="gold")) == gold
    # gold needs people too: it is served with the flagged samples, before clean ones
    assert review.queue(db, ALL) == [train[0], *gold, *train[1:]]


def test_review_page_text_names_the_lane_and_its_findings(db):
    uids = job_samples(db, 2)
    finding(db, uids[0], "unknown_tool", "error")
    finding(db, uids[0], "claimed_action", "warning")
    info = triage.describe(db, uids[0])
    assert info["lane"] == "flagged" and info["lane_ko"] == "검사 결과 있음"
    assert "검사 결과 2건" in info["why"] and "rule:unknown_tool (오류)" in info["why"] and "rule:claimed_action (경고)" in info["why"]
    clean = triage.describe(db, uids[1])
    assert clean["lane"] == "clean" and "결과가 하나도 없습니다" in clean["why"] and clean["lot_note"] == ""


def test_why_names_a_judge_source_once_findings_have_one(db):
    """Findings carry ``source`` (migration 012); the lane text names a judge's."""
    uids = job_samples(db, 1)
    with db.conn:
        db.execute(
            "INSERT INTO findings (uid, check_id, severity, turn, reason, message, created_at, source) "
            "VALUES (?, 'unnatural_korean', 'warning', 2, 'unnatural_korean', 'x', 't', 'judge:gpt-5-mini')",
            [uids[0]],
        )
    info = triage.describe(db, uids[0])
    assert info["lane"] == "flagged" and "judge:gpt-5-mini:unnatural_korean (경고)" in info["why"]


def test_skip_errors_serves_warnings_and_clean_and_the_skipped_never_ship(db):
    """Issue 17, part 4 (strategy (c)): a queue that leaves out error-flagged samples; they stay
    pending, do not ship, and come back when the filter is off."""
    from datagen import publish

    uids = job_samples(db, 4)
    finding(db, uids[0], "unknown_tool", "error")
    finding(db, uids[1], "claimed_action", "warning")
    finding(db, uids[2], "unknown_tool", "error")
    finding(db, uids[2], "claimed_action", "warning")  # an error and a warning: still skipped
    skip = review.QueueFilter(annotator="민지", skip_errors=True)
    assert review.queue(db, skip) == [uids[1], uids[3]]
    assert review.skipped_errors(db, skip) == 2 and review.skipped_errors(db, review.QueueFilter(annotator="민지")) == 0
    assert review.count(db, skip) == 2
    assert review.queue(db, review.QueueFilter(annotator="민지", skip_errors=True, lane="flagged")) == [uids[1]]
    for uid in review.queue(db, skip):
        review.record_decision(db, uid, annotator="민지", decision="accept")
    assert review.queue(db, skip) == []
    assert review.queue(db, review.QueueFilter(annotator="민지")) == [uids[0], uids[2]]  # still there to review
    status = publish.shipping_status(db)
    assert status[uids[1]] == status[uids[3]] == publish.SHIPS
    assert status[uids[0]] != publish.SHIPS and status[uids[2]] != publish.SHIPS
