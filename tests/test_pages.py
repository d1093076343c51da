"""AppTest for every page: generate → batches → review → publish, on the offline backend."""

import json
from pathlib import Path

import pytest
from seed_fixture import seed_uid
from streamlit.testing.v1 import AppTest

from datagen import quality, review
from datagen.ingest import import_file
from datagen.store import get_db

ROOT = Path(__file__).resolve().parents[1]
FIX = Path(__file__).parent / "fixtures"


def _page(name: str) -> AppTest:
    return AppTest.from_file(str(ROOT / name), default_timeout=60)


def _button(at: AppTest, key: str):
    return next(b for b in at.button if b.key == key)


def test_home_on_an_empty_database_says_what_to_do():
    at = _page("app.py").run()
    assert not at.exception
    assert any("오프라인 배치 백엔드" in w.value for w in at.warning)
    assert any("아직 데이터가 없습니다" in i.value for i in at.info)


def test_generate_then_batches_then_review_then_publish():
    at = _page("pages/1_Generate.py").run()
    assert not at.exception
    assert any("오프라인" in w.value for w in at.warning)
    _button(at, "gen_submit").click().run()
    assert not at.exception
    assert any("제출됨" in s.value for s in at.success), [e.value for e in at.error]
    db = get_db()
    assert db["batches"].count == 1 and db["requests"].count == 20

    at = _page("pages/2_Batches.py").run()
    assert not at.exception
    _button(at, next(b.key for b in at.button if b.key.startswith("bat_get_"))).click().run()
    assert not at.exception
    assert any("파싱 성공" in s.value for s in at.success)
    n = db["samples"].count
    assert n > 0

    at = _page("pages/3_Review.py").run()
    assert not at.exception
    assert _button(at, "rev_accept").disabled  # a name is required before deciding
    at.sidebar.text_input(key="annotator").input("민지").run()
    first = at.session_state["rev_uid"]
    _button(at, "rev_accept").click().run()
    second = at.session_state["rev_uid"]
    assert second != first
    _button(at, "rev_reason_ungrounded_id").click().run()
    _button(at, "rev_reason_unsaid_value").click().run()
    _button(at, "rev_reject").click().run()
    assert not at.exception
    assert review.latest_decision(db, first)["decision"] == "accept"
    rej = review.latest_decision(db, second)
    assert rej["decision"] == "reject" and rej["reasons"] == ["ungrounded_id", "unsaid_value"] and rej["annotator"] == "민지"

    at = _page("pages/4_Publish.py").run()
    assert not at.exception
    assert any(m.label == "train" and m.value == "1" for m in at.metric)
    _button(at, "pub_export").click().run()
    assert not at.exception
    assert any("load_dataset" in s.value for s in at.success)
    at.text_input(key="pub_repo").input("me/delivery").run()
    assert _button(at, "pub_push").disabled  # no token: the Hub button is off and says why


def test_review_shows_tool_calls_and_results_as_blocks(db):
    import_file(db, FIX / "seed001_dataset.jsonl")
    at = _page("pages/3_Review.py").run()
    assert not at.exception
    at.sidebar.text_input(key="rev_jump").input(seed_uid(db, 1)).run()  # the first record (a flagged one is served first)
    uid = at.session_state["rev_uid"]
    d = review.get_dialogue(db, uid)
    codes = [c.value for c in at.code]
    for _, call in d.tool_calls():
        assert call.name in codes
    assert any("홍콩반점" in json.dumps(json.loads(j.value), ensure_ascii=False) for j in at.json)  # tool response shown as a JSON block
    assert "확정 0 / 3" in at.get("progress")[0].proto.text


def test_review_with_nothing_to_review_says_so():
    at = _page("pages/3_Review.py").run()
    assert not at.exception
    assert any("검토할 대화가 없습니다" in i.value for i in at.info)


def test_publish_with_nothing_accepted_says_so(db):
    import_file(db, FIX / "seed001_dataset.jsonl")
    at = _page("pages/4_Publish.py").run()
    assert not at.exception
    assert any("승인된 레코드가 없습니다" in i.value for i in at.info)
    assert _button(at, "pub_export").disabled


def test_gold_preset_sets_kind_and_eight_by_ten():
    at = _page("pages/1_Generate.py").run()
    _button(at, "gen_gold_preset").click().run()
    assert not at.exception
    assert at.radio(key="gen_kind").value == "gold"
    assert any("총 **80**건" in m.value for m in at.markdown)


def test_review_jumps_to_a_uid_prefix(db):
    import_file(db, FIX / "seed001_dataset.jsonl")
    uid = seed_uid(db, 3)
    at = _page("pages/3_Review.py").run()
    at.sidebar.text_input(key="rev_jump").input(uid).run()
    assert not at.exception
    assert at.session_state["rev_uid"] == uid
    assert any("고객 ID 5b0e2a4c\\-1111\\-4c1e\\-9d3a\\-2f1b7a9c0002" in c.value for c in at.caption)  # the seed uid, as literal text
    at.sidebar.text_input(key="rev_jump").input("zzz").run()
    assert at.session_state["rev_uid"] == uid  # unknown uid: stays, says so


def test_home_shows_agreement_and_speed(db):
    import_file(db, FIX / "seed001_dataset.jsonl")
    uids = review.queue(db, review.QueueFilter(decision=None))
    with db.conn:
        db.execute("UPDATE sample_state SET kind = 'gold'")
    for uid in uids:
        review.record_decision(db, uid, annotator="a", decision="accept", seconds=4)
        review.record_decision(db, uid, annotator="b", decision="accept", seconds=6)
    at = _page("app.py").run()
    assert not at.exception
    agreement = at.dataframe[1].value
    assert list(agreement["일치율 %"]) == [100.0]
    speed = at.dataframe[2].value
    assert sorted(speed["검토자"]) == ["a", "b"] and list(speed["결정 수"]) == [3, 3]


def test_review_undo_edit_and_adjudication_in_the_page(db):
    import_file(db, FIX / "seed001_dataset.jsonl")
    at = _page("pages/3_Review.py").run()
    at.sidebar.text_input(key="annotator").input("민지").run()
    first = at.session_state["rev_uid"]
    _button(at, "rev_accept").click().run()
    assert at.session_state["rev_uid"] != first
    _button(at, "rev_undo").click().run()
    assert not at.exception
    assert at.session_state["rev_uid"] == first and review.state_of(db, first)["state"] == "pending"
    # edit: change the first turn's text, save, accept → the revision ships
    _button(at, "rev_edit").click().run()
    area = next(t for t in at.text_area if t.key and t.key.endswith("_t0"))
    area.input("짬뽕 맛있는 집 찾아주세요").run()
    assert any("+" in c.value and "짬뽕" in c.value for c in at.code if c.language == "diff")
    _button(at, "rev_save").click().run()
    assert not at.exception
    _button(at, "rev_accept").click().run()
    from datagen import publish

    (shipped,) = list(publish.accepted_dialogues(db))
    assert shipped.uid == first and shipped.turns[0].content == "짬뽕 맛있는 집 찾아주세요"
    # adjudication of a disputed gold sample
    second = review.queue(db, review.QueueFilter(decision=None))[0]
    with db.conn:
        db.execute("UPDATE sample_state SET kind = 'gold' WHERE uid = ?", [second])
    review.record_decision(db, second, annotator="a", decision="accept")
    review.record_decision(db, second, annotator="b", decision="reject", reasons=["other"])
    at = _page("pages/3_Review.py").run()
    at.sidebar.text_input(key="annotator").input("서연").run()
    at.sidebar.selectbox(key="rev_decision").set_value("disputed").run()
    assert at.session_state["rev_uid"] == second
    _button(at, "rev_adj_accept").click().run()
    assert not at.exception
    assert review.state_of(db, second)["decision"] == "accept"


def test_review_filters_by_text_and_findings(db):
    import_file(db, FIX / "seed001_dataset.jsonl")
    with db.conn:
        db.execute(
            "INSERT INTO findings (uid, check_id, severity, turn, reason, message) VALUES (?, 'ungrounded_id', 'error', 1, 'ungrounded_id', '근거 없는 주문 ID')",
            [seed_uid(db, 3)],
        )
    at = _page("pages/3_Review.py").run()
    at.sidebar.text_input(key="rev_text").input("페퍼로니").run()
    assert at.session_state["rev_uid"] == seed_uid(db, 2)
    at.sidebar.text_input(key="rev_text").input("").run()
    at.sidebar.selectbox(key="rev_check").set_value("error").run()
    assert not at.exception
    assert at.session_state["rev_uid"] == seed_uid(db, 3)
    assert any("ungrounded_id" in t.value and "근거 없는 주문 ID" in t.value for t in at.text)


def test_generate_shows_cost_before_submit_and_presets_round_trip():
    at = _page("pages/1_Generate.py").run()
    assert not at.exception
    assert any(m.label.startswith("총 예상 비용") and m.value.startswith("$") for m in at.metric)
    assert any("토큰으로 가정" in c.value for c in at.caption)  # no history yet: the stated default
    at.text_input(key="gen_preset_name").input("11월 믹스").run()
    _button(at, "gen_save_preset").click().run()
    assert not at.exception
    at = _page("pages/1_Generate.py").run()
    _button(at, "gen_gold_preset").click().run()
    assert any("총 **80**건" in m.value for m in at.markdown)
    at.sidebar.selectbox(key="gen_preset").set_value("11월 믹스").run()
    _button(at, "gen_load").click().run()
    assert at.radio(key="gen_kind").value == "train"
    assert any("총 **20**건" in m.value for m in at.markdown)


def test_generate_rerun_with_the_same_form_makes_one_job():
    at = _page("pages/1_Generate.py").run()
    nonce = at.session_state["gen_nonce"]
    from datagen import jobs

    db = get_db()
    # a double click: the same form submitted twice before the page rotated its key
    jobs.create_job(db, kind="train", counts={"search": 2}, idempotency_key=nonce)
    _button(at, "gen_submit").click().run()
    assert not at.exception
    assert db["jobs"].count == 1 and at.session_state["gen_nonce"] != nonce


def _generated_and_retrieved() -> AppTest:
    """Submit the Generate page's default mix, then retrieve its batch on the Batches page."""
    at = _page("pages/1_Generate.py").run()
    _button(at, "gen_submit").click().run()
    at = _page("pages/2_Batches.py").run()
    _button(at, next(b.key for b in at.button if b.key.startswith("bat_get_"))).click().run()
    return at


def test_batches_page_retries_failed_requests_and_shows_yield(monkeypatch):
    monkeypatch.setenv("DATAGEN_OFFLINE_ERROR_RATE", "0.3")
    at = _generated_and_retrieved()
    assert not at.exception
    retry = next(b for b in at.button if b.key.startswith("bat_retry_"))
    assert not retry.disabled and "재시도" in retry.label
    monkeypatch.setenv("DATAGEN_OFFLINE_ERROR_RATE", "0")
    retry.click().run()
    assert not at.exception
    assert any("재시도 배치" in s.value for s in at.success)
    assert get_db()["batches"].count == 2
    yield_df = next(d.value for d in at.dataframe if "수율" in d.value.columns)
    assert yield_df["요청"].sum() == 20


def test_review_shows_the_duplicate_cluster_and_gold_overlap(db):
    import_file(db, FIX / "seed001_dataset.jsonl")
    uids = review.queue(db, review.QueueFilter(decision=None))
    with db.conn:
        db["duplicates"].insert_all(
            [{"uid": uids[0], "cluster": uids[0], "kind": "near", "similarity": 1.0}, {"uid": uids[1], "cluster": uids[0], "kind": "near", "similarity": 0.91}]
        )
        db["contamination"].insert({"uid": uids[1], "gold_uid": "g-1", "method": "char8_ko", "overlap": 0.62, "band": "excluded", "created_at": "t"})
    at = _page("pages/3_Review.py").run()
    at.sidebar.text_input(key="rev_jump").input(uids[1]).run()
    assert not at.exception
    labels = [e.label for e in at.expander]
    assert any(l.startswith("중복 묶음") and "2건" in l for l in labels)
    assert any(l.startswith("평가셋(골드) 겹침 1건") for l in labels)


def test_generate_share_mode_spreads_the_total_exactly():
    at = _page("pages/1_Generate.py").run()
    at.radio(key="gen_mode").set_value("share").run()
    at.number_input(key="gen_total").set_value(101).run()
    assert not at.exception
    assert any("총 **101**건" in m.value for m in at.markdown)


def test_batches_page_regenerates_rejected_samples_with_the_seed_given(monkeypatch):
    monkeypatch.setenv("DATAGEN_OFFLINE_ERROR_RATE", "0")
    _generated_and_retrieved()
    db = get_db()
    uids = [r[0] for r in db.execute("SELECT uid FROM samples ORDER BY rowid LIMIT 2")]
    for uid in uids:
        review.record_decision(db, uid, annotator="민지", decision="reject", reasons=["other"])
    at = _page("pages/2_Batches.py").run()
    regen = next(b for b in at.button if b.key.startswith("bat_regen_"))
    assert not regen.disabled and "2건" in regen.label
    next(n for n in at.number_input if n.key.startswith("bat_regen_seed_")).set_value(4242).run()
    next(b for b in at.button if b.key.startswith("bat_regen_")).click().run()
    assert not at.exception
    assert any("시드 4242" in s.value for s in at.success), [e.value for e in at.error]
    assert db.execute("SELECT COUNT(*) FROM requests WHERE regenerates IS NOT NULL").fetchone()[0] == 2
    assert db["batches"].count == 2
    assert all(b.disabled for b in at.button if b.key.startswith("bat_regen_"))  # nothing left to regenerate


def test_review_ambiguous_jump_lists_the_matches_and_toasts_tell_samples_apart(db):
    """Item 4: time-ordered uids share their head: an ambiguous prefix lists every match (nothing
    opens silently); a pick opens it; the toast after a decision names the sample by custom_id or
    the uid's tail, so two toasts in a row differ."""
    import_file(db, FIX / "seed001_dataset.jsonl")
    uids = [r[0] for r in db.execute("SELECT uid FROM samples ORDER BY rowid")]
    with db.conn:  # time-ordered uids: one shared 8-character head
        for i, u in enumerate(uids):
            new = f"0192f0c1-7a3b-7{i:03d}-8e2a-1f9c2b3d4e5{i}"
            db.execute("UPDATE samples SET uid = ? WHERE uid = ?", [new, u])
            db.execute("UPDATE sample_state SET uid = ? WHERE uid = ?", [new, u])
    uids = [r[0] for r in db.execute("SELECT uid FROM samples ORDER BY rowid")]
    at = _page("pages/3_Review.py").run()
    at.sidebar.text_input(key="annotator").input("민지").run()
    at.sidebar.text_input(key="rev_jump").input("0192f0c1").run()
    assert not at.exception
    picks = [b for b in at.sidebar.button if (b.key or "").startswith("rev_match_")]
    assert len(picks) == 3 and all(any(u in b.label.replace("\\", "") for b in picks) for u in uids)
    assert any("3건" in c.value for c in at.sidebar.caption)
    picks[2].click().run()
    assert at.session_state["rev_uid"] == uids[2]
    assert not [b for b in at.sidebar.button if (b.key or "").startswith("rev_match_")]
    toasts = []
    for _ in range(2):
        _button(at, "rev_accept").click().run()
        toasts.append(at.toast[0].value)
    assert toasts[0] != toasts[1], toasts
    shown = [t.replace("\\", "") for t in toasts]  # markdown escapes: the toast reads markdown
    assert all(t.startswith("승인: …") for t in shown) and {t[-12:] for t in shown} <= {u[-12:] for u in uids}


def test_review_progress_shows_my_decisions_apart_from_decided_gold(db):
    """Item 5: on gold samples a first vote decides nothing yet; the bar says 내 결정 n beside 확정 0."""
    import_file(db, FIX / "seed001_dataset.jsonl")
    with db.conn:
        db.execute("UPDATE sample_state SET kind = 'gold'")
    at = _page("pages/3_Review.py").run()
    at.sidebar.text_input(key="annotator").input("민지").run()
    _button(at, "rev_accept").click().run()
    _button(at, "rev_accept").click().run()
    text = at.get("progress")[0].proto.text
    assert "확정 0 / 3" in text and "내 결정 2" in text, text
    at.sidebar.text_input(key="annotator").input("준호").run()
    assert "내 결정 0" in at.get("progress")[0].proto.text


@pytest.mark.parametrize(
    "page", ["app.py", "pages/1_Generate.py", "pages/2_Batches.py", "pages/3_Review.py", "pages/4_Publish.py", "pages/5_Analytics.py", "pages/6_Admin.py"]
)
def test_every_page_says_the_offline_backend_is_in_use(page, db):
    """Item 15: every page shows the offline notice (Review in its sidebar, beside the dialogue)."""
    import_file(db, FIX / "seed001_dataset.jsonl")
    at = _page(page).run()
    assert not at.exception
    shown = [w.value for w in at.warning] + [w.value for w in at.sidebar.warning]
    assert any("오프라인 배치 백엔드" in v for v in shown), shown


def test_generate_share_mode_count_column_follows_the_plan():
    """Item 8: in share mode the table's count column shows the plan for the total entered (the
    same counts as the total line and the cost table), not the 20-request default."""
    at = _page("pages/1_Generate.py").run()
    at.radio(key="gen_mode").set_value("share").run()
    at.number_input(key="gen_total").set_value(40).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert table["건수"].sum() == 40
    assert any("총 **40**건" in m.value for m in at.markdown)
    cost = next(d.value for d in at.dataframe if "비용 (USD)" in d.value.columns)
    assert dict(zip(cost["카테고리"], cost["요청"])) == {c: n for c, n in zip(table["category"], table["건수"]) if n}
    # an edited share (the editor's own state, as a click would leave it) reaches the count column
    key = next(k for k in at.session_state.keys() if str(k).startswith("gen_table_share_"))
    at.session_state[key] = {"edited_rows": {0: {"비율(%)": 60.0}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    assert table["비율(%)"][0] == 60.0 and table["건수"][0] == max(table["건수"])


# ----------------------------------------------------------------------------- item 11: numbers as people read them

TIME_ON_SCREEN = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$"


def test_home_kappa_and_speed_read_as_numbers_not_none_nor_clock_hours(db):

    import_file(db, FIX / "seed001_dataset.jsonl")
    uids = review.queue(db, review.QueueFilter(decision=None))
    with db.conn:
        db.execute("UPDATE sample_state SET kind = 'gold'")
    review.record_decision(db, uids[0], annotator="a", decision="accept", seconds=30)  # one pair: κ undefined
    review.record_decision(db, uids[0], annotator="b", decision="accept", seconds=30)
    for i, uid in enumerate(uids[1:] * 3):  # six more decisions by "a", one a minute
        review.record_decision(db, uid, annotator="a", decision="skip", seconds=30)
    with db.conn:
        ids = [r[0] for r in db.execute("SELECT id FROM reviews WHERE annotator = 'a' ORDER BY id")]
        for i, rid in enumerate(ids):
            db.execute("UPDATE reviews SET created_at = ? WHERE id = ?", [f"2026-12-01T09:{i:02d}:00.123456+00:00", rid])
    at = _page("app.py").run()
    assert not at.exception
    agreement = at.dataframe[1].value
    assert list(agreement["Cohen's κ"]) == ["—"] and "None" not in agreement.to_string()
    assert any("κ가 —인 곳" in c.value for c in at.caption)
    speed = at.dataframe[2].value.set_index("검토자")
    # a: 7 decisions, 6 one-minute gaps + 30 s on the first = 6.5 active minutes → 64.6 per hour
    assert speed.loc["a", "활동 시간(분)"] == 6.5 and speed.loc["a", "시간당 결정"] == "64.6"
    assert speed.loc["b", "시간당 결정"] == "—"  # 30 s of review: too little to rate


def test_publish_history_and_batches_show_readable_times_and_no_none(db):
    import re

    at = _page("pages/1_Generate.py").run()
    _button(at, "gen_submit").click().run()
    at = _page("pages/2_Batches.py").run()
    _button(at, next(b.key for b in at.button if b.key.startswith("bat_get_"))).click().run()
    assert not at.exception
    submitted = next(c.value for c in at.caption if "제출 " in c.value).split("제출 ")[1]
    assert re.match(TIME_ON_SCREEN, submitted), submitted
    # before anyone reviewed, the top-up asks for nothing and says why
    assert any("아직 검토된 샘플이 없어" in c.value for c in at.caption)
    assert _button(at, "bat_topup").disabled
    uid = db.execute("SELECT uid FROM samples LIMIT 1").fetchone()[0]
    # accepted with its error findings on screen (the offline backend may give this sample one): publishable either way
    errors = [f["check_id"] for f in quality.findings_for(db, uid) if f["severity"] == "error"]
    review.record_decision(db, uid, annotator="민지", decision="accept", shown_revision=None, shown_findings=errors)
    at = _page("pages/4_Publish.py").run()
    _button(at, "pub_export").click().run()
    at = _page("pages/4_Publish.py").run()
    history = next(d.value for d in at.dataframe if "태그" in d.value.columns)
    assert "None" not in history.astype(str).to_string()
    assert list(history["태그"]) == ["—"] and re.match(TIME_ON_SCREEN, history["시각"][0])
    assert any(re.search(r"\d{2}:\d{2}:\d{2} UTC", c.value) for c in at.caption if c.value.startswith("비교 대상"))


def test_generate_cost_table_follows_the_mix_order_with_four_decimals():
    import re

    at = _page("pages/1_Generate.py").run()
    mix = at.dataframe[0].value
    cost = next(d.value for d in at.dataframe if "비용 (USD)" in d.value.columns)
    planned = [c for c, n in zip(mix["category"], mix["건수"]) if n]
    assert list(cost["카테고리"]) == planned
    assert all(round(v, 4) == v for v in cost["비용 (USD)"])
    total = next(m.value for m in at.metric if m.label.startswith("총 예상 비용"))
    assert re.fullmatch(r"\$\d+\.\d{4}", total)  # the total in the same 4 decimals; rows differ from it by rounding only
    assert abs(float(total[1:]) - sum(cost["비용 (USD)"])) <= 0.00005 * len(cost) + 1e-9


def test_analytics_counts_have_whole_ticks_and_the_sequence_axis_has_no_overlapping_title(db):
    import json as _json

    import_file(db, FIX / "seed001_dataset.jsonl")
    at = _page("pages/5_Analytics.py").run()
    assert not at.exception
    specs = [_json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert len(specs) == 4
    count_axes = [e[ax] for s in specs for ax, e in [("x", s["encoding"]), ("y", s["encoding"])] if e[ax].get("field") in ("dialogues", "count")]
    assert count_axes and all(a["axis"]["format"] == "d" and a["axis"]["tickMinStep"] == 1 for a in count_axes)
    seq = next(s["encoding"]["y"] for s in specs if s["encoding"]["y"].get("field") == "sequence")
    assert seq.get("title") is None


def test_batches_top_up_button_creates_and_submits_one_job(db):
    at = _page("pages/1_Generate.py").run()
    _button(at, "gen_submit").click().run()
    at = _page("pages/2_Batches.py").run()
    _button(at, next(b.key for b in at.button if b.key.startswith("bat_get_"))).click().run()
    uids = [u for (u,) in db.execute("SELECT uid FROM samples ORDER BY rowid LIMIT 2")]
    review.record_decision(db, uids[0], annotator="민지", decision="accept")
    review.record_decision(db, uids[1], annotator="민지", decision="reject", reasons=["other"])
    at = _page("pages/2_Batches.py").run()
    assert not _button(at, "bat_topup").disabled
    _button(at, "bat_topup").click().run()
    assert not at.exception and not at.error
    assert any("보충 작업" in s.value and "제출됨" in s.value for s in at.success)
    job = db.execute("SELECT idempotency_key, seed FROM jobs ORDER BY created_at DESC, rowid DESC LIMIT 1").fetchone()
    assert job[0].startswith("topup:train:") and job[0].endswith(":1") and 0 <= job[1] < 100_000
    assert db["jobs"].count == 2 and db["batches"].count == 2


def test_review_refuses_an_accept_when_the_sample_changed_after_rendering_and_shows_it_again(db):
    import_file(db, FIX / "seed001_dataset.jsonl")
    at = _page("pages/3_Review.py").run()
    at.sidebar.text_input(key="annotator").input("민지").run()
    uid = at.session_state["rev_uid"]
    assert not any("수정본" in c.value for c in at.caption)
    edited = review.get_dialogue(db, uid).model_copy(deep=True)
    edited.turns[-1].content = "다른 사람이 고친 마지막 답변입니다."
    rid = review.save_revision(db, uid, edited, annotator="지훈")  # saved while 민지's screen shows the original
    _button(at, "rev_accept").click().run()
    assert not at.exception
    assert any("수정본이 저장되었습니다" in e.value for e in at.error)
    assert db["reviews"].count == 0 and review.latest_decision(db, uid) is None
    assert at.session_state["rev_uid"] == uid and any("수정본" in c.value for c in at.caption)  # the same sample, reloaded
    # a new error-level finding after rendering: refused too
    db["findings"].insert(
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
    _button(at, "rev_accept").click().run()
    assert any("새 오류가 발견되었습니다" in e.value for e in at.error) and db["reviews"].count == 0
    # now the screen shows what is there: the accept is recorded, bound to that revision and those findings
    _button(at, "rev_accept").click().run()
    assert not at.error
    row = review.latest_decision(db, uid)
    assert row["decision"] == "accept" and row["revision_id"] == rid and "unsaid_value" in json.loads(row["findings_seen"])
    assert at.session_state["rev_uid"] != uid


def test_generate_preset_restores_its_date_range_and_options():
    import datetime as dt

    at = _page("pages/1_Generate.py").run()
    at.date_input(key="gen_date_from").set_value(dt.date(2026, 3, 1)).run()
    at.date_input(key="gen_date_to").set_value(dt.date(2026, 3, 31)).run()
    at.slider(key="gen_turns").set_value((2, 4)).run()
    at.number_input(key="gen_seed").set_value(7).run()
    at.text_input(key="gen_preset_name").input("3월 믹스").run()
    _button(at, "gen_save_preset").click().run()
    assert not at.exception
    at = _page("pages/1_Generate.py").run()  # a new session: the form at its defaults
    assert at.date_input(key="gen_date_from").value == dt.date(2026, 1, 1)
    at.sidebar.selectbox(key="gen_preset").set_value("3월 믹스").run()
    _button(at, "gen_load").click().run()
    assert not at.exception
    assert at.date_input(key="gen_date_from").value == dt.date(2026, 3, 1)
    assert at.date_input(key="gen_date_to").value == dt.date(2026, 3, 31)
    assert tuple(at.slider(key="gen_turns").value) == (2, 4) and at.number_input(key="gen_seed").value == 7
    # and the job made from the loaded form uses that range
    _button(at, "gen_submit").click().run()
    db = get_db()
    dates = {json.loads(s)["date"] for (s,) in db.execute("SELECT scenario FROM requests")}
    assert dates and all("2026-03-01" <= d <= "2026-03-31" for d in dates)
