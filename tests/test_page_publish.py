"""AppTest for the Publish page: what ships, what is left out and why, the change since the last
publish, and the card on screen is byte for byte the card pushed (Hub boundary faked)."""

from pathlib import Path

import pytest
from publish_data import FakeHub, add_finding, fixture_dialogues, insert
from streamlit.testing.v1 import AppTest

from datagen import publish, review

ROOT = Path(__file__).resolve().parents[1]


def _page() -> AppTest:
    return AppTest.from_file(str(ROOT / "pages" / "4_Publish.py"), default_timeout=60)


def _button(at, key):
    return next(b for b in at.button if b.key == key)


def _frame(at, column):
    return next(d.value for d in at.dataframe if column in d.value.columns)


@pytest.fixture
def hub(monkeypatch):
    fake = FakeHub()
    monkeypatch.setattr(publish, "default_hub", lambda: fake)
    return fake


@pytest.fixture
def mixed(db):
    """5 samples: 2 ship, 1 rejected, 1 accepted with an error finding nobody saw, 1 pending."""
    uids = insert(db, fixture_dialogues())
    for u in uids[:2]:
        review.record_decision(db, u, annotator="민지", decision="accept")
    review.record_decision(db, uids[2], annotator="민지", decision="reject", reasons=["other"])
    review.record_decision(db, uids[3], annotator="민지", decision="accept")
    add_finding(db, uids[3], "ungrounded_id")
    return db, uids


def test_page_shows_what_ships_and_what_is_left_out_and_why(mixed):
    at = _page().run()
    assert not at.exception
    assert any(m.label == "train" and m.value == "2" for m in at.metric)
    left = _frame(at, "규칙")
    assert dict(zip(left["규칙"], left["건수"])) == {"rejected": 1, "pending": 1, "unreviewed_error": 1}
    assert publish.LEFT_OUT["unreviewed_error"] in list(left["이유"])
    assert _frame(at, "첫 고객 발화")["uid"].tolist() == [mixed[1][0], mixed[1][1]]
    assert any("이전 게시가 없습니다" in c.value for c in at.caption)
    assert _button(at, "pub_push").disabled  # no repo id yet
    at.text_input(key="pub_repo").input("not a repo").run()
    assert any("owner/name" in e.value for e in at.error) and _button(at, "pub_push").disabled


def test_card_on_screen_is_the_card_pushed_and_twice_is_one_commit(mixed, hub, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_page_fake")
    at = _page().run()
    at.text_input(key="pub_repo").input("me/delivery").run()
    at.selectbox(key="pub_format").set_value("openai").run()
    shown = next(c.value for c in at.code if c.language == "markdown")
    assert "# me/delivery" in shown and "- 버전: v1" in shown and "- 형식: `openai`" in shown
    _button(at, "pub_push").click().run()
    assert not at.exception and not at.error
    assert any("v1로 게시했습니다" in s.value for s in at.success)
    (upload,) = hub.uploads
    assert upload["files"]["README.md"].decode() == shown == next(c.value for c in at.code if c.language == "markdown")
    assert upload["private"] is True and hub.tags == {"v1": "commit1"}
    assert mixed[0]["publishes"].get(1)["card"] == shown
    # the next run compares with v1; pushing the same set again makes no commit
    at.run()
    assert any("비교 대상: v1" in c.value for c in at.caption)
    assert [m.value for m in at.metric if m.label in ("추가", "제거", "변경")] == ["0", "0", "0"]
    _button(at, "pub_push").click().run()
    assert any("새 커밋을 만들지 않았습니다" in i.value for i in at.info)
    assert len(hub.commits) == 1 and len(hub.uploads) == 1


def test_difference_from_the_last_publish(mixed, hub):
    db, uids = mixed
    publish.publish_to_hub(db, "me/delivery", hub=hub, token="t")
    review.record_decision(db, uids[1], annotator="준호", decision="reject", reasons=["other"])
    review.record_decision(db, uids[4], annotator="준호", decision="accept")
    edited = review.get_dialogue(db, uids[0]).model_copy(deep=True)
    edited.turns[-1].content = "주문 도와드릴까요?"
    review.save_revision(db, uids[0], edited, annotator="준호")
    review.record_decision(db, uids[0], annotator="준호", decision="accept")
    at = _page().run()
    at.text_input(key="pub_repo").input("me/delivery").run()
    assert not at.exception
    assert [m.value for m in at.metric if m.label in ("추가", "제거", "변경")] == ["1", "1", "1"]
    changes = _frame(at, "변화")
    assert dict(zip(changes["uid"], changes["변화"])) == {uids[4]: "추가", uids[1]: "제거", uids[0]: "변경"}
    assert changes.loc[changes["uid"] == uids[1], "이유"].item() == publish.LEFT_OUT["rejected"]
    assert any(m.label == "버전" and m.value == "v2" for m in at.metric)


def test_token_from_streamlit_secrets_and_a_changed_set_is_refused(mixed, hub):
    db, uids = mixed
    at = _page()
    at.secrets["HF_TOKEN"] = "hf_from_secrets"
    at.run()
    assert any("HF_TOKEN: 설정됨" in c.value for c in at.caption)
    at.text_input(key="pub_repo").input("me/delivery").run()
    review.record_decision(db, uids[4], annotator="준호", decision="accept")  # changes after the page was shown
    _button(at, "pub_push").click().run()
    assert any("바뀌었습니다" in e.value for e in at.error) and hub.uploads == []
    _button(at, "pub_push").click().run()  # now the page shows the new set: it goes through
    assert hub.uploads and hub.uploads[0]["token"] == "hf_from_secrets"
    assert all("hf_from_secrets" not in (e.value or "") for e in [*at.caption, *at.success, *at.code])


def test_push_button_needs_the_publisher_role(mixed, hub, monkeypatch):
    from datagen import auth

    db, _ = mixed
    auth.grant(db, "관리자", "admin", by=None)
    auth.grant(db, "게시", "publisher", by="관리자")
    monkeypatch.setenv("HF_TOKEN", "t")
    at = _page().run()
    at.text_input(key="pub_repo").input("me/delivery").run()
    at.sidebar.text_input(key="annotator").input("민지").run()
    assert _button(at, "pub_push").disabled and not _button(at, "pub_export").disabled
    at.sidebar.text_input(key="annotator").input("게시").run()
    _button(at, "pub_push").click().run()
    assert not at.exception and hub.uploads and db["publishes"].get(1)["operator"] == "게시"


def test_hub_button_is_off_without_hf_token_and_nothing_is_written(mixed, monkeypatch, isolated_env):
    """Item 9: without HF_TOKEN the Hub button is disabled (and says why); a valid repo id does not
    enable it, nothing is written under out/hub; with a token the same page enables it."""
    monkeypatch.delenv("HF_TOKEN", raising=False)
    at = _page().run()
    at.text_input(key="pub_repo").input("me/delivery").run()
    assert not at.exception and not at.error
    push = _button(at, "pub_push")
    assert push.disabled and "HF_TOKEN" in (push.help or "")
    assert not list(isolated_env.rglob("hub"))
    monkeypatch.setenv("HF_TOKEN", "hf_page_fake")
    at.run()
    assert not _button(at, "pub_push").disabled
    # the token may come from Streamlit secrets instead of the environment (datagen.ui.hf_token)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    at = _page()
    at.secrets["HF_TOKEN"] = "hf_secret_fake"
    at.run()
    at.text_input(key="pub_repo").input("me/delivery").run()
    assert not _button(at, "pub_push").disabled and any("설정됨" in c.value for c in at.caption)
