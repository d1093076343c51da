"""Review: decisions, undo, edits, gold double annotation and adjudication, queue filters, statistics."""

import json
import threading
from pathlib import Path

import pytest
from seed_fixture import seed_uid

from datagen import publish, quality, review
from datagen.ingest import import_file
from datagen.store import connect

FIX = Path(__file__).parent / "fixtures"
ALL = review.QueueFilter(decision=None)


@pytest.fixture
def loaded(db):
    import_file(db, FIX / "seed001_dataset.jsonl")
    return db


def _as_gold(db, uids):
    with db.conn:
        for u in uids:
            db.execute("UPDATE samples SET kind = 'gold' WHERE uid = ?", [u])
            db.execute("UPDATE sample_state SET kind = 'gold' WHERE uid = ?", [u])


def test_decision_needs_annotator_known_uid_and_reasons(loaded):
    uid = review.queue(loaded)[0]
    with pytest.raises(review.ReviewError, match="검토자 이름"):
        review.record_decision(loaded, uid, annotator="  ", decision="accept")
    with pytest.raises(review.ReviewError, match="결정은"):
        review.record_decision(loaded, uid, annotator="민지", decision="maybe")
    with pytest.raises(review.ReviewError, match="거절 사유: ugly"):
        review.record_decision(loaded, uid, annotator="민지", decision="reject", reasons=["ugly"])
    with pytest.raises(review.ReviewError, match="샘플이 없습니다"):
        review.record_decision(loaded, "nope", annotator="민지", decision="accept")
    assert loaded["reviews"].count == 0


def test_latest_decision_wins_and_history_is_kept(loaded):
    uid = review.queue(loaded)[0]
    review.record_decision(loaded, uid, annotator="민지", decision="reject", reasons=["ungrounded_id", "unsaid_value"], note="ID 근거 없음", seconds=3.5)
    review.record_decision(loaded, uid, annotator="준호", decision="accept")
    assert review.latest_decision(loaded, uid)["decision"] == "accept"
    assert review.state_of(loaded, uid)["decision"] == "accept"
    hist = review.history(loaded, uid)
    assert [(h["who"], h["what"]) for h in hist] == [("민지", "reject"), ("준호", "accept")]
    assert hist[0]["seconds"] == 3.5 and hist[0]["reasons"] == ["ungrounded_id", "unsaid_value"]
    assert review.decision_counts(loaded) == {"accept": 1, "reject": 0, "skip": 0, "pending": 2, "disputed": 0}


def test_undo_restores_the_previous_decision_and_is_logged(loaded):
    uid = review.queue(loaded)[0]
    review.record_decision(loaded, uid, annotator="민지", decision="reject", reasons=["other"])
    review.record_decision(loaded, uid, annotator="민지", decision="accept")
    undone = review.undo(loaded, annotator="민지")
    assert undone["decision"] == "accept"
    assert review.state_of(loaded, uid)["decision"] == "reject"
    review.undo(loaded, annotator="민지")
    assert review.state_of(loaded, uid)["state"] == "pending"
    assert review.undo(loaded, annotator="민지") is None
    assert [h["what"] for h in review.history(loaded, uid)] == ["reject", "accept", "undo", "undo"]
    assert loaded["reviews"].count == 4  # appended, never deleted


def test_queue_todo_hides_what_the_annotator_decided(loaded):
    first, second, third = review.queue(loaded, ALL)
    review.record_decision(loaded, first, annotator="a", decision="accept")
    review.record_decision(loaded, second, annotator="a", decision="skip")
    assert review.queue(loaded, review.QueueFilter(annotator="a")) == [third, second]  # undecided, then skipped
    assert review.queue(loaded, ALL) == [third, second, first]
    assert review.queue(loaded, review.QueueFilter(decision="accept")) == [first]
    assert review.queue(loaded, review.QueueFilter(decision=None, decided_by="a")) == [second, first]
    assert review.progress(loaded) == (1, 3)


def test_gold_needs_two_annotators_and_disputes_go_to_adjudication(loaded):
    a, b, c = review.queue(loaded, ALL)
    _as_gold(loaded, [a, b])
    review.record_decision(loaded, a, annotator="민지", decision="accept")
    assert review.state_of(loaded, a)["state"] == "partial"
    # the same annotator again does not count twice; someone else still sees it
    review.record_decision(loaded, a, annotator="민지", decision="accept")
    assert review.state_of(loaded, a)["state"] == "partial"
    assert a not in review.queue(loaded, review.QueueFilter(annotator="민지"))
    assert a in review.queue(loaded, review.QueueFilter(annotator="준호"))
    review.record_decision(loaded, a, annotator="준호", decision="accept")
    assert review.state_of(loaded, a) | {} and review.state_of(loaded, a)["decision"] == "accept"
    review.record_decision(loaded, b, annotator="민지", decision="accept")
    review.record_decision(loaded, b, annotator="준호", decision="reject", reasons=["unnatural_korean"])
    assert review.state_of(loaded, b)["state"] == "disputed"
    assert review.queue(loaded, review.QueueFilter(decision="disputed")) == [b]
    assert {v["annotator"]: v["decision"] for v in review.votes(loaded, b)} == {"민지": "accept", "준호": "reject"}
    assert {r.uid for r in publish.accepted_dialogues(loaded)} == {a}  # disputed gold never ships
    review.record_decision(loaded, b, annotator="서연", decision="reject", reasons=["unnatural_korean"], adjudication=True)
    assert review.state_of(loaded, b)["decision"] == "reject" and review.state_of(loaded, b)["state"] == "decided"


def test_agreement_percent_and_kappa(loaded):
    uids = review.queue(loaded, ALL)
    _as_gold(loaded, uids)
    for uid, (x, y) in zip(uids, [("accept", "accept"), ("reject", "reject"), ("accept", "reject")]):
        review.record_decision(loaded, uid, annotator="a", decision=x, reasons=["other"] if x == "reject" else [])
        review.record_decision(loaded, uid, annotator="b", decision=y, reasons=["other"] if y == "reject" else [])
    (row,) = review.agreement(loaded)
    assert row["pairs"] == 3 and row["percent"] == pytest.approx(66.7)
    # p_o = 2/3, p_a = 2/3, p_b = 1/3 → p_e = 2/9 + 2/9 = 4/9 → kappa = (2/3 - 4/9) / (5/9) = 0.4
    assert row["kappa"] == pytest.approx(0.4)


def test_edit_then_accept_ships_the_edited_version_and_keeps_the_original(loaded):
    uid = seed_uid(loaded, 3)
    original = review.get_dialogue(loaded, uid)
    edited = original.model_copy(deep=True)
    edited.turns[1].tool_calls[0].arguments = {"order_id": "O20261121"}
    edited.turns[-1].content = "주문하신 음식이 배달 중입니다."
    with pytest.raises(review.ReviewError, match="바뀐 내용이 없습니다"):
        review.save_revision(loaded, uid, original, annotator="민지")
    rid = review.save_revision(loaded, uid, edited, annotator="민지", note="주문번호 수정")
    assert review.current_revision(loaded, uid) == (rid, edited)
    review.record_decision(loaded, uid, annotator="민지", decision="accept")
    (shipped,) = list(publish.accepted_dialogues(loaded))
    assert shipped.turns[1].tool_calls[0].arguments == {"order_id": "O20261121"}
    assert review.get_dialogue(loaded, uid) == original
    assert [(o.uid, e.turns[-1].content) for o, e in review.edit_pairs(loaded)] == [(uid, "주문하신 음식이 배달 중입니다.")]
    assert [h["what"] for h in review.history(loaded, uid)] == ["edit", "accept"]


def _errors_shown(db, uid):
    return [f["check_id"] for f in quality.findings_for(db, uid) if f["severity"] == "error"]


def test_a_decision_is_bound_to_the_revision_and_findings_that_were_shown(loaded):
    uid = seed_uid(loaded, 3)
    shown = _errors_shown(loaded, uid)
    assert shown  # the fixture's third dialogue has an ungrounded id
    before = review.state_of(loaded, uid)
    edited = review.get_dialogue(loaded, uid).model_copy(deep=True)
    edited.turns[-1].content = "주문하신 음식이 배달 중입니다."
    rid = review.save_revision(loaded, uid, edited, annotator="지훈")  # saved while 민지 still looks at the original
    for decision in ("accept", "reject"):
        with pytest.raises(review.StaleDecision, match="수정본"):
            review.record_decision(
                loaded, uid, annotator="민지", decision=decision, reasons=["other"] if decision == "reject" else [], shown_revision=None, shown_findings=shown
            )
    assert loaded["reviews"].count == 0 and review.state_of(loaded, uid)["state"] == before["state"]
    # a new error-level finding since rendering: refused the same way, nothing written
    loaded["findings"].insert(
        {
            "uid": uid,
            "check_id": "unsaid_value",
            "severity": "error",
            "turn": 1,
            "reason": "unsaid_value",
            "message": "새 오류",
            "created_at": "2099-01-01T00:00:00+00:00",
        }
    )
    with pytest.raises(review.StaleDecision, match="unsaid_value"):
        review.record_decision(loaded, uid, annotator="민지", decision="accept", shown_revision=rid, shown_findings=shown)
    assert loaded["reviews"].count == 0
    # the reloaded screen: the current revision and every error on it; what was shown is what is recorded
    shown = _errors_shown(loaded, uid)
    review.record_decision(loaded, uid, annotator="민지", decision="accept", shown_revision=rid, shown_findings=shown)
    row = review.latest_decision(loaded, uid)
    assert row["revision_id"] == rid and json.loads(row["findings_seen"]) == sorted(set(shown)) and "unsaid_value" in shown
    # a finding that went away since rendering is no reason to refuse; callers without a screen are not checked
    other = seed_uid(loaded, 2)
    review.record_decision(loaded, other, annotator="민지", decision="accept", shown_revision=None, shown_findings=["ungrounded_id"])
    review.record_decision(loaded, uid, annotator="지훈", decision="skip")
    assert loaded["reviews"].count == 3


def test_full_text_search_and_short_queries(loaded):
    assert review.queue(loaded, review.QueueFilter(decision=None, text="페퍼로니")) == [seed_uid(loaded, 2)]
    assert review.queue(loaded, review.QueueFilter(decision=None, text="피자")) == [seed_uid(loaded, 2)]
    assert review.queue(loaded, review.QueueFilter(decision=None, text="없는말입니다")) == []


def test_previous_and_next_follow_arrival_order(loaded):
    # arrival order, not the queue's (the queue serves flagged samples before clean ones: issue 17)
    a, b, c = [r[0] for r in loaded.execute("SELECT uid FROM sample_state ORDER BY seq")]
    assert review.neighbour(loaded, b, ALL, 1) == c and review.neighbour(loaded, b, ALL, -1) == a
    assert review.neighbour(loaded, c, ALL, 1) is None


def test_category_progress_and_throughput(loaded):
    uid = review.queue(loaded)[0]
    review.record_decision(loaded, uid, annotator="민지", decision="accept", seconds=2.0)
    (row,) = review.category_progress(loaded)
    assert (row["category"], row["accepted"], row["total"], row["target"]) == ("imported", 1, 3, 3)
    (t,) = review.throughput(loaded)
    assert t["annotator"] == "민지" and t["decisions"] == 1 and t["median_seconds"] == 2.0


def test_two_annotators_at_the_same_moment_lose_nothing(loaded, isolated_env):
    uids = review.queue(loaded, ALL)
    path = isolated_env / "output" / "datagen.db"
    errors = []

    def work(name):
        db = connect(path)
        try:
            for i in range(60):
                review.record_decision(db, uids[i % 3], annotator=name, decision=("accept", "reject", "skip")[i % 3], reasons=["other"] if i % 3 == 1 else [])
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"a{k}",)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert loaded["reviews"].count == 240
    assert loaded.execute("SELECT COUNT(*) FROM annotator_decisions").fetchone()[0] == 12


def test_underfilled_categories_come_first(loaded):
    uids = review.queue(loaded, ALL)
    with loaded.conn:
        loaded.execute("UPDATE sample_state SET category = 'menu' WHERE uid = ?", [uids[2]])
    short = review.shortfall(loaded)
    assert short == {"imported": 2, "menu": 1}
    flt = review.QueueFilter(decision=None, order="underfilled", targets={"imported": 0, "menu": 5})
    assert review.queue(loaded, flt)[0] == uids[2]
    assert review.filter_options(loaded) == {"batches": [], "annotators": []}


# ----------------------------------------------------------------------------- hostile filter inputs (issue 14, item 6)

HOSTILE_INPUTS = ["\x00", "짜장\x00면", "\ud800", "a\udfffb", "\x00\ud800", '"', "NEAR(", "*", "\x1b[31m"]
EQUALITY_FIELDS = ["kind", "category", "batch_id", "job_id", "check_id", "annotator", "decided_by"]


@pytest.mark.parametrize("value", HOSTILE_INPUTS)
def test_search_jump_and_filter_inputs_never_raise(loaded, value):
    everything = set(review.queue(loaded, ALL))
    got = review.queue(loaded, review.QueueFilter(decision=None, text=value))
    assert set(got) <= everything
    review.count(loaded, review.QueueFilter(decision=None, text=value))
    for field in EQUALITY_FIELDS:
        flt = review.QueueFilter(decision="todo" if field == "annotator" else None, **{field: value})
        got = review.queue(loaded, flt)
        assert got == [] or field == "annotator"  # no stored value equals it (an annotator only hides their own)
        review.count(loaded, flt)
        review.progress(loaded, flt)
        review.next_uid(loaded, flt)
        review.neighbour(loaded, sorted(everything)[0], flt, 1)
    assert review.find_uid(loaded, value) is None
    assert review.find_uid(loaded, sorted(everything)[0][:8] + value) is None


def test_search_ignores_nul_and_lone_surrogates_inside_a_word(loaded):
    plain = review.queue(loaded, review.QueueFilter(decision=None, text="짜장면"))
    assert plain
    assert review.queue(loaded, review.QueueFilter(decision=None, text="짜장\x00면")) == plain
    assert review.queue(loaded, review.QueueFilter(decision=None, text="짜장면\ud800")) == plain


@pytest.mark.parametrize("limit,offset", [(10**30, 0), (2**63, 0), (-1, 0), (5, 10**30), (5, -(10**30))])
def test_huge_or_negative_limits_never_raise(loaded, limit, offset):
    got = review.queue(loaded, ALL, limit=limit, offset=offset)
    everything = review.queue(loaded, ALL)
    assert got == (everything if limit > 0 and offset <= 0 else [])


def test_review_page_survives_nul_and_surrogates_in_search_and_jump(db):
    from streamlit.testing.v1 import AppTest

    import_file(db, FIX / "seed001_dataset.jsonl")
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "pages" / "3_Review.py"), default_timeout=60).run()
    # a lone surrogate cannot reach the page (the widget protocol is UTF-8: a browser sends U+FFFD
    # instead); the library calls above take it directly
    for value in ("짜장\x00면", "\x00", "\ufffd\x00\ufffd"):
        at.sidebar.text_input(key="rev_text").input(value).run()
        assert not at.exception, at.exception
        at.sidebar.text_input(key="rev_jump").input(value).run()
        assert not at.exception, at.exception


def test_review_speed_counts_active_time_not_clock_hours(loaded):
    """Six decisions a minute apart plus 30 s on the first are 5.5 active minutes (65.5 / h), a
    two-hour lunch between two decisions adds only the idle cap (issue 15 item 11)."""
    uids = review.queue(loaded)
    for _ in range(2):
        for uid in uids:
            review.record_decision(loaded, uid, annotator="민지", decision="skip", seconds=30)
    stamps = ["09:00", "09:01", "09:02", "09:03", "09:04", "09:05"]
    with loaded.conn:
        for rid, hm in zip([r[0] for r in loaded.execute("SELECT id FROM reviews ORDER BY id")], stamps):
            loaded.execute("UPDATE reviews SET created_at = ? WHERE id = ?", [f"2026-12-01T{hm}:00.000001+00:00", rid])
    (s,) = review.review_speed(loaded)
    assert (s["decisions"], s["active_minutes"], s["per_hour"]) == (6, 5.5, 65.5)
    with loaded.conn:
        loaded.execute("UPDATE reviews SET created_at = '2026-12-01T11:05:00.000001+00:00' WHERE id = (SELECT MAX(id) FROM reviews)")
    (s,) = review.review_speed(loaded)
    assert s["active_minutes"] == 4.5 + review.IDLE_SECONDS / 60


def test_review_page_skip_errors_toggle_leaves_error_samples_out(db):
    """The Review page's "오류 샘플 건너뛰기" (issue 17, part 4): the queue it counts is the
    library's ``skip_errors`` queue, which holds no sample with an error finding."""
    from streamlit.testing.v1 import AppTest

    import_file(db, FIX / "seed001_dataset.jsonl")
    import_file(db, FIX / "messages_dataset.jsonl")
    with_errors = {u for (u,) in db.execute("SELECT DISTINCT uid FROM findings WHERE severity = 'error'")}
    kept = review.queue(db, review.QueueFilter(decision=None, skip_errors=True))
    assert with_errors and kept and not with_errors & set(kept)
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "pages" / "3_Review.py"), default_timeout=60).run()
    at.sidebar.selectbox(key="rev_decision").set_value(None).run()
    everything = review.count(db, review.QueueFilter(decision=None))
    assert everything > len(kept)
    assert any(f"이 필터 {everything}건" in str(p.proto) for p in at.get("progress"))
    at.sidebar.toggle(key="rev_skip_errors").set_value(True).run()
    assert not at.exception, at.exception
    assert any(f"이 필터 {len(kept)}건 · 건너뛴 오류 샘플 {everything - len(kept)}건" in str(p.proto) for p in at.get("progress"))
