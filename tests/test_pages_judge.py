"""AppTest of the judge in the app: a judge job made on the Batches page with its cost first, the
judge's findings on the Review page beside the rule findings (as plain text), agreement on Analytics."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from datagen import batches, jobs, judge, review
from datagen.store import get_db, write_transaction

ROOT = Path(__file__).resolve().parents[1]


def _page(name: str) -> AppTest:
    return AppTest.from_file(str(ROOT / name), default_timeout=90)


def _button(at: AppTest, key: str):
    return next(b for b in at.button if b.key == key)


def _generated(db, monkeypatch) -> str:
    monkeypatch.setenv("DATAGEN_OFFLINE_ERROR_RATE", "0")
    monkeypatch.setenv("DATAGEN_OFFLINE_TRUNCATION_RATE", "0")
    job = jobs.create_job(db, kind="train", counts={"search": 4, "cart": 4}, seed=5)
    for row in batches.submit_job(db, job["id"]):
        batches.wait(db, row["id"], poll_interval=0.01, timeout=60)
        batches.retrieve(db, row["id"], ingest=True)
    return job["id"]


def test_batches_page_shows_the_judge_cost_then_creates_and_submits_the_job(monkeypatch):
    db = get_db()
    job_id = _generated(db, monkeypatch)
    n = db["samples"].count
    at = _page("pages/2_Batches.py").run()
    assert not at.exception
    assert at.selectbox(key="bat_judge_job").value == job_id
    assert any(m.label == "판정 요청" and m.value == f"{n:,}건" for m in at.metric)
    cost = next(m.value for m in at.metric if m.label == "예상 비용")
    assert cost.startswith("$") and float(cost[1:]) > 0
    assert any(f"답변당 {judge.DEFAULT_OUTPUT_TOKENS} 토큰으로 가정" in c.value for c in at.caption)
    assert db.execute("SELECT COUNT(*) FROM jobs WHERE kind = 'judge'").fetchone()[0] == 0  # nothing made before the click
    _button(at, "bat_judge_submit").click().run()
    assert not at.exception
    assert any("판정 작업" in s.value and "제출됨" in s.value for s in at.success), [e.value for e in at.error]
    (row,) = judge.judge_jobs(db)
    assert row["requests"] == n and len(row["batches"]) == 1 and row["estimate"]["total"]["requests"] == n
    batches.wait(db, row["batches"][0], poll_interval=0.01, timeout=60)
    at = _page("pages/2_Batches.py").run()
    _button(at, f"bat_get_{row['batches'][0]}").click().run()
    assert not at.exception
    assert any(f"판정 {n:,}건 저장" in s.value for s in at.success)
    assert any(m.label == "판정 요청" and m.value == "0건" for m in at.metric)  # all judged: nothing left to ask


def _judged_sample(db) -> tuple[str, dict]:
    """A sample with a rule finding and a judge finding whose evidence is markup-looking text."""
    uid = next(r[0] for r in db.execute("SELECT uid FROM samples ORDER BY rowid"))
    d = review.get_dialogue(db, uid)
    turn = judge.assistant_turns(d)[0]
    evidence = "<script>alert(1)</script> **굵게** [링크](javascript:alert(1))"
    payload = {
        "uid": uid,
        "model": "gpt-4.1",
        "custom_id": f"judge:gpt-4.1:{uid}:1",
        "revision_id": None,
        "verdict": "defect",
        "reason": "unnatural_korean",
        "evidence": evidence,
        "response_model": "gpt-4.1",
        "usage": None,
        "turns": [{"turn": turn, "verdict": "defect", "reason": "unnatural_korean", "evidence": evidence}],
    }
    with write_transaction(db):
        judge.store_verdicts(db, [(None, payload)])
        db.execute(
            "INSERT INTO findings (uid, check_id, severity, turn, reason, message, created_at) "
            "VALUES (?, 'ungrounded_id', 'warning', ?, 'ungrounded_id', '규칙 검사 메시지', 't')",
            [uid, turn],
        )
    return uid, payload


def test_review_shows_the_judge_finding_beside_the_rule_finding_as_plain_text(monkeypatch):
    db = get_db()
    _generated(db, monkeypatch)
    uid, payload = _judged_sample(db)
    at = _page("pages/3_Review.py").run()
    at.sidebar.text_input(key="rev_jump").input(uid).run()
    assert not at.exception and at.session_state["rev_uid"] == uid
    texts = [t.value for t in at.text]
    judge_line = f'[경고] 판정 모델 gpt-4.1: 결함 · 부자연스러운 한국어 (unnatural_korean) · 근거: "{payload["evidence"]}"'
    assert judge_line in texts  # the model's quote verbatim, as text (st.text): never markup
    rule_line = next(i for i, t in enumerate(texts) if t == "[경고] [ungrounded_id] 규칙 검사 메시지")
    assert texts[rule_line + 1] == judge_line  # the same turn: the rule's finding, then the judge's
    verdict = next(w.value for w in at.warning if "판정 모델 gpt" in w.value)
    assert "결함" in verdict and "부자연스러운 한국어" in verdict
    assert not any("script" in m.value for m in at.markdown)
    assert not any("그 전 버전을 판정" in w.value for w in at.warning)
    # an edit saved after the verdict: the page says the judge saw the version before
    d = review.get_dialogue(db, uid)
    d.turns[0].content = (d.turns[0].content or "") + " 수정"
    review.save_revision(db, uid, d, annotator="민지")
    at = _page("pages/3_Review.py").run()
    at.sidebar.text_input(key="rev_jump").input(uid).run()
    assert any("판정 모델 gpt" in w.value and "그 전 버전을 판정" in w.value for w in at.warning)
    # the queue filter offers the judge's findings by name
    at.sidebar.selectbox(key="rev_check").set_value("judge").run()
    assert not at.exception and at.session_state["rev_uid"] == uid


def test_review_says_when_the_judge_found_nothing(monkeypatch):
    db = get_db()
    _generated(db, monkeypatch)
    uid = next(r[0] for r in db.execute("SELECT uid FROM samples ORDER BY rowid"))
    turns = judge.assistant_turns(review.get_dialogue(db, uid))
    with write_transaction(db):
        judge.store_verdicts(
            db,
            [
                (
                    None,
                    {
                        "uid": uid,
                        "model": "gpt-4.1",
                        "custom_id": "c",
                        "revision_id": None,
                        "verdict": "ok",
                        "reason": None,
                        "evidence": None,
                        "response_model": None,
                        "usage": None,
                        "turns": [{"turn": t, "verdict": "ok", "reason": None, "evidence": None} for t in turns],
                    },
                )
            ],
        )
    at = _page("pages/3_Review.py").run()
    at.sidebar.text_input(key="rev_jump").input(uid).run()
    assert any(f"판정 모델 gpt\\-4\\.1\\: 문제 없음 \\(상담사 턴 {len(turns)}개 모두 ok\\)" in i.value for i in at.info)


def test_analytics_shows_judge_agreement(monkeypatch):
    db = get_db()
    _generated(db, monkeypatch)
    uid, _ = _judged_sample(db)
    other = next(r[0] for r in db.execute("SELECT uid FROM samples WHERE uid != ? ORDER BY rowid", [uid]))
    with write_transaction(db):
        judge.store_verdicts(
            db,
            [
                (
                    None,
                    {
                        "uid": other,
                        "model": "gpt-4.1",
                        "custom_id": "c2",
                        "revision_id": None,
                        "verdict": "ok",
                        "reason": None,
                        "evidence": None,
                        "response_model": None,
                        "usage": None,
                        "turns": [],
                    },
                )
            ],
        )
    review.record_decision(db, uid, annotator="민지", decision="reject", reasons=["unnatural_korean"])
    review.record_decision(db, other, annotator="민지", decision="reject", reasons=["wrong_tool"])
    at = _page("pages/5_Analytics.py").run()
    assert not at.exception
    assert any(m.label == "정밀도" and m.value == "100.0%" for m in at.metric)
    assert any(m.label == "재현율" and m.value == "50.0%" for m in at.metric)
    by_reason = at.dataframe[-1].value
    row = by_reason[by_reason["사유"] == "부자연스러운 한국어"].iloc[0]
    assert (row["판정 모델 지적"], row["그중 사람 거절"], row["이 사유로 사람 거절"], row["그중 판정 모델 지적"]) == (1, 1, 1, 1)
