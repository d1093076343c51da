"""`python -m datagen.push_to_hub`: --dry-run, --format openai, --private / --public, --input, and
the same record set twice (no new commit), on a faked Hub boundary."""

import io
import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from publish_data import FakeHub, fixture_dialogues, insert

from datagen import publish, push_to_hub, review
from datagen.cli import run
from datagen.dialogue import to_seed_record

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def accepted(db):
    uids = insert(db, fixture_dialogues())
    for u in uids[:3]:
        review.record_decision(db, u, annotator="a", decision="accept")
    review.record_decision(db, uids[3], annotator="a", decision="reject", reasons=["other"])
    return db, uids


@pytest.fixture
def hub(monkeypatch):
    fake = FakeHub()
    monkeypatch.setattr(publish, "default_hub", lambda: fake)
    monkeypatch.setenv("HF_TOKEN", "hf_cli_fake_token")
    return fake


def test_dry_run_exports_locally_and_pushes_nothing(accepted, hub, tmp_path, capsys):
    db, uids = accepted
    assert run(push_to_hub.main, ["--repo-id", "me/ds", "--dry-run", "--export-dir", str(tmp_path / "x")]) == 0
    out = capsys.readouterr().out
    assert "시험 실행: {'train': 3} (qwen)" in out and "게시하면 me/ds의 v1, 저장소를 새로 만들 때 비공개" in out
    assert "제외: rejected 1, pending 1" in out and "변경: 첫 버전, 레코드 3건" in out
    assert hub.uploads == [] and (tmp_path / "x" / "data" / "train-00000-of-00001.parquet").is_file()
    assert db["publishes"].count == 0  # a dry run records nothing (issue 14)
    assert "hf_cli_fake_token" not in out


def test_push_openai_public_then_the_same_set_again(accepted, hub, capsys):
    db, uids = accepted
    assert run(push_to_hub.main, ["--repo-id", "me/ds", "--format", "openai", "--public"]) == 0
    out = capsys.readouterr().out
    assert "게시함: {'train': 3} (openai) → me/ds, commit commit1 (태그 v1)" in out
    assert hub.uploads[0]["private"] is False and hub.tags == {"v1": "commit1"}
    assert db["publishes"].get(1)["format"] == "openai"
    assert run(push_to_hub.main, ["--repo-id", "me/ds", "--format", "openai"]) == 0
    out = capsys.readouterr().out
    assert "변경 없음: 레코드 집합이 v1 때와 같습니다 (commit commit1); 올리지 않았습니다" in out
    assert len(hub.commits) == 1 and len(hub.uploads) == 1 and db["publishes"].count == 1
    review.record_decision(db, uids[3], annotator="b", decision="accept")
    assert run(push_to_hub.main, ["--repo-id", "me/ds", "--format", "openai"]) == 0
    out = capsys.readouterr().out
    assert "(태그 v2)" in out and "v1 이후 변경: 추가 1, 제거 0, 수정 0" in out
    assert hub.uploads[-1]["private"] is True  # --private is the default


def test_input_limits_to_the_file_and_says_what_was_left_out(accepted, hub, tmp_path, capsys):
    db, uids = accepted
    subset = tmp_path / "dataset.jsonl"
    ds = fixture_dialogues()
    subset.write_text(
        "\n".join(json.dumps(to_seed_record(d), ensure_ascii=False) for d in [ds[0], ds[3]]) + "\n" + json.dumps({"uid": "not-in-db", "messages": []}) + "\n",
        encoding="utf-8",
    )
    assert run(push_to_hub.main, ["--repo-id", "me/ds", "--input", str(subset)]) == 0
    out = capsys.readouterr().out
    assert "게시함: {'train': 1} (qwen)" in out
    assert "제외: rejected 1, not_in_database 1" in out and f"{subset}의 레코드 중 2건 제외" in out
    files = hub.uploads[0]["files"]
    assert pq.read_table(io.BytesIO(files["data/train-00000-of-00001.parquet"])).column("uid").to_pylist() == [uids[0]]


def test_clean_errors(accepted, monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    assert run(push_to_hub.main, ["--repo-id", "no-slash"]) == 1
    assert "owner/name" in capsys.readouterr().err
    assert run(push_to_hub.main, ["--repo-id", "me/ds"]) == 1
    assert "HF_TOKEN" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"uid": "x"}\nnot json\n', encoding="utf-8")
    assert run(push_to_hub.main, ["--repo-id", "me/ds", "--input", str(bad)]) == 1
    assert f"{bad}:2: JSON 레코드가 아닙니다" in capsys.readouterr().err


def test_help_lists_the_flags():
    out = subprocess.run([sys.executable, "-m", "datagen.push_to_hub", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60).stdout
    for flag in ("--repo-id", "--format {qwen,openai}", "--private", "--public", "--dry-run", "--input"):
        assert flag in out


def test_operator_must_be_a_publisher_when_roles_are_in_force(accepted, hub, capsys, monkeypatch):
    from datagen import auth

    db, _ = accepted
    auth.grant(db, "관리자", "admin", by=None)
    auth.grant(db, "게시", "publisher", by="관리자")
    assert run(push_to_hub.main, ["--repo-id", "me/ds", "--operator", "민지"]) == 1
    assert "publisher" in capsys.readouterr().err and hub.uploads == []
    monkeypatch.setenv("DATAGEN_OPERATOR", "게시")
    assert run(push_to_hub.main, ["--repo-id", "me/ds"]) == 0
    assert db["publishes"].get(1)["operator"] == "게시"


def test_a_dry_run_writes_nothing_to_the_database(accepted, hub, tmp_path):
    """Issue 14: a dry run by anyone (an annotator, roles in force) wrote ``publishes`` rows."""
    db, _ = accepted
    from datagen import auth

    auth.grant(db, "boss", "admin", by=None)
    auth.grant(db, "a", "annotator", by="boss")
    db_path = tmp_path / "output" / "datagen.db"
    before = list(db.conn.iterdump())
    assert run(push_to_hub.main, ["--repo-id", "me/ds", "--dry-run", "--operator", "a", "--export-dir", str(tmp_path / "x")]) == 0
    assert (tmp_path / "x" / "data" / "train-00000-of-00001.parquet").is_file()
    after = list(db.conn.iterdump())
    assert after == before and db["publishes"].count == 0 and db_path.is_file()
