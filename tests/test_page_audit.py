"""AppTest of the audit flow (issue 17): the publisher sets the parameters on the Audit page, "감사
시작" draws the sample, the auditor opens it in Review and decides it, the publisher approves the
lot, the Publish page's card counts the lot's rows; roles disable what a person may not do."""

from __future__ import annotations

from pathlib import Path

from audit_data import finding, job_samples
from streamlit.testing.v1 import AppTest

from datagen import audit, auth, publish, review

ROOT = Path(__file__).resolve().parents[1]


def _page(name: str) -> AppTest:
    return AppTest.from_file(str(ROOT / name), default_timeout=60)


def _button(at: AppTest, key: str):
    return next(b for b in at.button if b.key == key)


def _plain(md: str) -> str:
    """Caption text without md_literal's backslash escapes."""
    return md.replace("\\", "")


def _texts(at: AppTest) -> str:
    return "\n".join(
        [m.value for m in at.markdown]
        + [c.value for c in at.caption]
        + [s.value for s in at.success]
        + [e.value for e in at.error]
        + [i.value for i in at.info]
    )


def test_audit_flow_from_parameters_to_the_card(db):
    uids = job_samples(db, 31)
    finding(db, uids[0], "unknown_tool", "error")

    at = _page("app.py")  # through the app's navigation, so "검토 열기" can switch to the Review page
    at.switch_page("pages/7_Audit.py").run()
    assert not at.exception
    at.sidebar.text_input(key="annotator").input("보스").run()
    assert at.metric[0].value == "59"  # the default 5% / 95% plan
    at.number_input(key="aud_p0").set_value(30.0).run()
    at.number_input(key="aud_conf").set_value(90.0).run()
    assert at.metric[0].value == "7"
    _button(at, "aud_save_params").click().run()
    assert not at.exception
    assert (audit.params(db).p0, audit.params(db).confidence, audit.params(db).set_by) == (0.3, 0.9, "보스")
    assert "감사 기준을 저장했습니다" in _texts(at)
    plan_df = at.dataframe[0].value
    assert list(plan_df["새 로트 크기 (미검토·깨끗함)"]) == [30] and list(plan_df["표본"]) == [7] and list(plan_df["검사 결과 있음"]) == [1]

    _button(at, "aud_start_search").click().run()
    assert not at.exception, at.exception
    lot_id = audit.lots(db)[0].id
    assert audit.status(db, lot_id).state == "auditing"
    assert f"로트 #{lot_id}" in _texts(at)
    assert _button(at, f"aud_approve_{lot_id}").disabled  # nothing audited yet

    _button(at, f"aud_open_{lot_id}").click().run()  # → the Review page, filtered to the audit sample
    assert not at.exception, at.exception
    sample = set(review.queue(db, review.QueueFilter(lot_id=lot_id)))
    assert len(sample) == 7
    rev = at
    assert rev.selectbox(key="rev_lot").value == lot_id and rev.session_state["rev_uid"] in sample
    rev.switch_page("pages/3_Review.py")  # AppTest reruns the page it was last told to: stay on Review
    rev.sidebar.text_input(key="annotator").input("민지").run()
    seen = []
    for _ in range(7):
        uid = rev.session_state["rev_uid"]
        seen.append(uid)
        assert any("레인: 깨끗함" in _plain(c.value) and f"감사 로트 #{lot_id}의 감사 표본" in _plain(c.value) for c in rev.caption)
        _button(rev, "rev_accept").click().run()
        assert not rev.exception
    assert set(seen) == sample
    assert any("검토할 대화가 없습니다" in i.value for i in rev.info)

    at.switch_page("pages/7_Audit.py").run()
    at.sidebar.text_input(key="annotator").input("보스").run()  # the publisher now
    assert not at.exception
    s = audit.status(db, lot_id)
    assert (s.audited, s.verdict) == (7, "pass")
    assert not _button(at, f"aud_approve_{lot_id}").disabled
    _button(at, f"aud_approve_{lot_id}").click().run()
    assert not at.exception
    assert audit.status(db, lot_id).state == "approved"
    assert "샘플 23건이 로트 승인으로" in _texts(at)
    assert f"aud_revoke_{lot_id}" in {b.key for b in at.button}

    pub = _page("pages/4_Publish.py").run()
    assert not pub.exception
    card = "\n".join(c.value for c in pub.code)
    assert "- 사람이 승인한 레코드: 7건" in card and "- 감사 로트로 승인된 레코드: 23건" in card and f"| lot:{lot_id} |" in card
    assert publish.shipping_status(db)[uids[0]] == "pending"  # the flagged sample waits for a person

    _button(at, f"aud_revoke_{lot_id}").click().run()
    assert not at.exception
    assert audit.status(db, lot_id).state == "revoked" and "승인을 철회했습니다" in _texts(at)


def test_review_page_says_the_lane_and_why(db):
    uids = job_samples(db, 3)
    finding(db, uids[2], "unknown_tool", "error")
    at = _page("pages/3_Review.py").run()
    assert not at.exception
    assert at.session_state["rev_uid"] == uids[2]  # flagged first
    assert any("레인: 검사 결과 있음" in _plain(c.value) and "rule:unknown_tool (오류)" in _plain(c.value) for c in at.caption)
    at.sidebar.selectbox(key="rev_lane").set_value("clean").run()
    assert at.session_state["rev_uid"] == uids[0]
    assert any("레인: 깨끗함" in _plain(c.value) for c in at.caption)


def test_failed_lot_shows_full_review_in_review(db):
    job_samples(db, 30)
    audit.set_params(db, p0=0.3, confidence=0.9, actor=None)
    lot_id = audit.start(db, "job_t", "search", actor=None, seed=2)
    first = review.queue(db, review.QueueFilter(lot_id=lot_id))[0]
    review.record_decision(db, first, annotator="민지", decision="reject", reasons=["other"])
    assert audit.status(db, lot_id).state == "failed"
    at = _page("pages/7_Audit.py").run()
    assert not at.exception
    assert "불합격" in _texts(at) and f"aud_approve_{lot_id}" not in {b.key for b in at.button}
    rev = _page("pages/3_Review.py")
    rev.session_state["rev_open_lot"] = lot_id
    rev.run()
    assert not rev.exception
    assert any("전수 검토 대상" in _plain(c.value) for c in rev.caption)
    assert review.count(db, review.QueueFilter(lot_id=lot_id, lot_sample=False, decision="todo")) == 29


def test_roles_disable_what_the_person_may_not_do(db):
    auth.grant(db, "boss", "admin", by=None)
    auth.grant(db, "pub", "publisher", by="boss")
    auth.grant(db, "민지", "annotator", by="boss")
    job_samples(db, 31)
    audit.set_params(db, p0=0.3, confidence=0.9, actor="pub")
    lot_id = audit.start(db, "job_t", "search", actor="민지", seed=1)
    for uid in review.queue(db, review.QueueFilter(lot_id=lot_id)):
        review.record_decision(db, uid, annotator="민지", decision="accept")
    at = _page("pages/7_Audit.py").run()
    at.sidebar.text_input(key="annotator").input("민지").run()
    assert not at.exception
    assert _button(at, "aud_save_params").disabled and _button(at, f"aud_approve_{lot_id}").disabled  # an annotator audits, does not approve
    at.sidebar.text_input(key="annotator").input("pub").run()
    assert not _button(at, f"aud_approve_{lot_id}").disabled
