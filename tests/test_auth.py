"""Roles: allowed and refused in the library calls behind every guarded button, and in the pages."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from datagen import auth, batches, jobs, review
from datagen.ingest import import_file
from datagen.store import get_db

ROOT = Path(__file__).resolve().parents[1]
FIX = Path(__file__).parent / "fixtures"


@pytest.fixture
def team(db):
    auth.grant(db, "관리자", "admin", by=None)  # bootstrap: the first grant is an admin
    auth.grant(db, "민지", "annotator", by="관리자")
    auth.grant(db, "서연", "adjudicator", by="관리자")
    auth.grant(db, "pm", "pm", by="관리자")
    auth.grant(db, "게시", "publisher", by="관리자")
    import_file(db, FIX / "seed001_dataset.jsonl")
    return db


def test_open_mode_until_the_first_grant_which_must_be_admin(db):
    assert auth.open_mode(db) and auth.roles_of(db, "anyone") == set(auth.ROLES)
    with pytest.raises(ValueError, match="admin"):
        auth.grant(db, "x", "pm", by=None)
    auth.grant(db, "boss", "admin", by=None)
    assert not auth.open_mode(db)
    with pytest.raises(auth.PermissionDenied):
        auth.grant(db, "x", "pm", by="nobody")
    with pytest.raises(ValueError, match="마지막 관리자"):
        auth.revoke(db, "boss", "admin", by="boss")
    assert [r["action"] for r in db.query("SELECT action FROM role_log")] == ["grant"]
    auth.grant(db, "x", "pm", by="boss")
    auth.revoke(db, "x", "pm", by="boss")
    log = auth.role_log(db)
    assert [(r["action"], r["user"], r["actor"]) for r in log] == [("revoke", "x", "boss"), ("grant", "x", "boss"), ("grant", "boss", "")]
    assert set(log[0]) == {"at", "actor", "action", "user", "role"} and auth.role_log(db, limit=1) == log[:1]


def test_spending_needs_pm(team):
    with pytest.raises(auth.PermissionDenied, match="pm"):
        jobs.create_job(team, kind="train", counts={"search": 1}, operator="민지")
    job = jobs.create_job(team, kind="train", counts={"search": 1}, operator="pm")
    with pytest.raises(auth.PermissionDenied):
        batches.submit_job(team, job["id"], actor="민지")
    (row,) = batches.submit_job(team, job["id"], actor="pm")
    assert row["submitted_by"] == "pm"
    with pytest.raises(auth.PermissionDenied):
        batches.cancel(team, row["id"], actor=None)
    with pytest.raises(auth.PermissionDenied):
        batches.retry_failed(team, job["id"], actor="게시")
    assert team["jobs"].get(job["id"])["operator"] == "pm"


def test_deciding_needs_annotator_and_adjudicating_needs_adjudicator(team):
    uid = review.queue(team)[0]
    with pytest.raises(auth.PermissionDenied, match="annotator"):
        review.record_decision(team, uid, annotator="pm", decision="accept")
    review.record_decision(team, uid, annotator="민지", decision="accept")
    with pytest.raises(auth.PermissionDenied, match="adjudicator"):
        review.record_decision(team, uid, annotator="민지", decision="accept", adjudication=True)
    review.record_decision(team, uid, annotator="서연", decision="reject", reasons=["other"], adjudication=True)
    with pytest.raises(auth.PermissionDenied):
        review.undo(team, annotator="pm")
    assert auth.roles_of(team, "관리자") == set(auth.ROLES)  # admin implies every role


def test_roles_seeded_from_toml(db, tmp_path):
    f = tmp_path / "roles.toml"
    f.write_text('[roles]\nadmin = ["a@x.com"]\nannotator = ["b@x.com", "c@x.com"]\n', encoding="utf-8")
    assert auth.seed_from_toml(db, f) == 3
    assert auth.roles_of(db, "b@x.com") == {"annotator"}
    assert auth.seed_from_toml(db, f) == 0  # only when no role exists yet
    bad = tmp_path / "bad.toml"
    bad.write_text('[roles]\nwizard = ["z"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="알 수 없는 권한"):
        auth.seed_from_toml(db, bad)


def _page(name):
    return AppTest.from_file(str(ROOT / name), default_timeout=60)


def test_pages_allow_and_refuse_by_role(team):
    at = _page("pages/3_Review.py").run()
    at.sidebar.text_input(key="annotator").input("pm").run()
    accept = next(b for b in at.button if b.key == "rev_accept")
    assert accept.disabled  # a pm is not an annotator
    at.sidebar.text_input(key="annotator").input("민지").run()
    accept = next(b for b in at.button if b.key == "rev_accept")
    assert not accept.disabled
    accept.click().run()
    assert team["reviews"].count == 1

    at = _page("pages/1_Generate.py").run()
    at.sidebar.text_input(key="annotator").input("민지").run()
    assert next(b for b in at.button if b.key == "gen_submit").disabled
    at.sidebar.text_input(key="annotator").input("pm").run()
    next(b for b in at.button if b.key == "gen_submit").click().run()
    assert not at.exception and team["jobs"].count == 1

    at = _page("pages/6_Admin.py").run()
    at.sidebar.text_input(key="annotator").input("민지").run()
    at.text_input(key="adm_user").input("새사람").run()
    next(b for b in at.button if b.key == "adm_grant").click().run()
    assert any("admin" in e.value for e in at.error)
    at.sidebar.text_input(key="annotator").input("관리자").run()
    next(b for b in at.button if b.key == "adm_grant").click().run()
    assert auth.roles_of(get_db(), "새사람") == {"annotator"}
    at = _page("pages/6_Admin.py").run()
    log = next(d.value for d in at.dataframe if "action" in d.value.columns)
    assert log.iloc[0]["user"] == "새사람" and log.iloc[0]["actor"] == "관리자" and log.iloc[0]["action"] == "grant"


def test_adjudication_and_batch_buttons_follow_roles(team, monkeypatch):
    uid = review.queue(team, review.QueueFilter(decision=None))[0]
    with team.conn:
        team.execute("UPDATE sample_state SET kind = 'gold' WHERE uid = ?", [uid])
    auth.grant(team, "준호", "annotator", by="관리자")
    review.record_decision(team, uid, annotator="민지", decision="accept")
    review.record_decision(team, uid, annotator="준호", decision="reject", reasons=["other"])
    at = _page("pages/3_Review.py").run()
    at.sidebar.selectbox(key="rev_decision").set_value("disputed").run()
    at.sidebar.text_input(key="annotator").input("민지").run()
    assert next(b for b in at.button if b.key == "rev_adj_accept").disabled  # annotators cannot adjudicate
    at.sidebar.text_input(key="annotator").input("서연").run()
    next(b for b in at.button if b.key == "rev_adj_accept").click().run()
    assert review.state_of(team, uid)["decision"] == "accept"

    # which answers fail follows the custom_ids (new each run): at 0.8 over 6 requests, "none
    # failed" (nothing to retry) is 0.2**6 = 0.006%; at 0.5 it was 1.6%
    monkeypatch.setenv("DATAGEN_OFFLINE_ERROR_RATE", "0.8")
    job = jobs.create_job(team, kind="train", counts={"search": 6}, operator="pm")
    (row,) = batches.submit_job(team, job["id"], actor="pm")
    batches.wait(team, row["id"], poll_interval=0)
    batches.retrieve(team, row["id"])
    from datagen.ingest import preprocess

    preprocess(team)
    assert batches.retry_candidates(team, job["id"])
    at = _page("pages/2_Batches.py").run()
    at.sidebar.text_input(key="annotator").input("민지").run()
    retry = next(b for b in at.button if b.key.startswith("bat_retry_"))
    assert retry.disabled  # only a pm may spend
    at.sidebar.text_input(key="annotator").input("pm").run()
    next(b for b in at.button if b.key.startswith("bat_retry_")).click().run()
    assert team["batches"].count == 2


# ----------------------------------------------------------------------------- exact identities (issue 14, item 7)

LOOKALIKES = ["boss ", " boss", "boss\n", "boss\t", "boss\u200b", "boss\x00", "boss\u00a0", "boss\ud800"]


@pytest.mark.parametrize("name", LOOKALIKES)
def test_a_name_that_only_looks_like_a_member_is_refused_everywhere(team, name):
    """A name is exact: "boss " (trailing space), a zero-width or control character never acts as
    "boss" nor is recorded beside it; every entry point refuses it with the reason."""
    auth.grant(team, "boss", "admin", by="관리자")
    auth.grant(team, "boss", "pm", by="boss")
    with pytest.raises(auth.IdentityError):
        auth.require(team, name, "pm")
    assert auth.roles_of(team, name) == set()
    with pytest.raises(auth.IdentityError):
        auth.grant(team, "x", "annotator", by=name)
    with pytest.raises(auth.IdentityError):
        auth.grant(team, name, "annotator", by="boss")
    with pytest.raises(auth.IdentityError):
        auth.revoke(team, name, "pm", by="boss")
    uid = review.queue(team)[0]
    with pytest.raises(review.ReviewError, match="검토자 이름"):
        review.record_decision(team, uid, annotator=name, decision="accept")
    with pytest.raises(auth.IdentityError):
        auth.cli_operator(name)
    assert team["reviews"].count == 0
    assert {r[0] for r in team.execute("SELECT user FROM roles")} == {"관리자", "민지", "서연", "pm", "게시", "boss"}
    assert auth.roles_of(team, "boss") == set(auth.ROLES)


def test_lookalike_names_are_refused_in_open_mode_too(db):
    import_file(db, FIX / "seed001_dataset.jsonl")
    uid = review.queue(db)[0]
    with pytest.raises(review.ReviewError):
        review.record_decision(db, uid, annotator="boss ", decision="accept")
    review.record_decision(db, uid, annotator="boss", decision="accept")
    assert [r[0] for r in db.execute("SELECT annotator FROM reviews")] == ["boss"]


def test_the_cli_refuses_a_lookalike_operator(db, monkeypatch, capsys):
    from datagen import push_to_hub
    from datagen.cli import run

    auth.grant(db, "boss", "admin", by=None)
    assert run(push_to_hub.main, ["--repo-id", "me/ds", "--operator", "boss ", "--dry-run"]) == 1
    assert "boss" in capsys.readouterr().err
    monkeypatch.setenv("DATAGEN_OPERATOR", "boss ")
    with pytest.raises(auth.IdentityError, match="DATAGEN_OPERATOR"):
        auth.cli_operator(None)
