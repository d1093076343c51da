"""Secrets never leak: after a full run with fake keys set, neither key is in the database, the
output folder (exports, cards, status files, logs), anything printed, or any page."""

import logging
from pathlib import Path

from publish_data import FakeHub
from streamlit.testing.v1 import AppTest

from datagen import generate_batch, preprocess, publish, push_to_hub, render_txt, retrieve_batch, review, submit_batch, validate
from datagen.cli import run
from datagen.ingest import import_file
from datagen.store import get_db

OPENAI_KEY = "sk-test-SECRET-openai-7f3a9c"
HF_TOKEN = "hf_SECRET_token_4b8e2d"
ROOT = Path(__file__).resolve().parents[1]
FIX = Path(__file__).parent / "fixtures"


class LeakyHub(FakeHub):
    """A Hub whose errors quote the token, as some HTTP client errors do."""

    def upload(self, folder, *, token, **kw):
        raise ConnectionError(f"401 Unauthorized for token {token} at https://huggingface.co/api/repos/create")


def test_no_secret_anywhere_after_a_full_run(isolated_env, monkeypatch, capsys, caplog):
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)  # set, but the offline backend is forced: no network
    monkeypatch.setenv("HF_TOKEN", HF_TOKEN)
    caplog.set_level(logging.DEBUG)
    assert run(generate_batch.main, ["--count", "12"]) == 0
    assert run(submit_batch.main, ["--wait", "--poll-interval", "0"]) == 0
    assert run(retrieve_batch.main, []) == 0
    assert run(preprocess.main, []) == 0
    assert run(render_txt.main, []) in (0, 1)
    assert run(validate.main, []) == 0
    db = get_db()
    import_file(db, FIX / "broken_lines.jsonl")
    for uid in review.queue(db, review.QueueFilter(decision=None))[:5]:
        review.record_decision(db, uid, annotator="민지", decision="accept")
    monkeypatch.setattr(publish, "default_hub", lambda: FakeHub())
    assert run(push_to_hub.main, ["--repo-id", "me/delivery"]) == 0
    assert run(push_to_hub.main, ["--repo-id", "me/delivery", "--dry-run"]) == 0
    monkeypatch.setattr(publish, "default_hub", lambda: LeakyHub())
    assert run(push_to_hub.main, ["--repo-id", "me/other", "--format", "openai"]) == 1  # the failure message is scrubbed
    pages = []
    for page in ("app.py", "pages/1_Generate.py", "pages/2_Batches.py", "pages/3_Review.py", "pages/4_Publish.py", "pages/5_Analytics.py", "pages/6_Admin.py"):
        at = AppTest.from_file(str(ROOT / page), default_timeout=60).run()
        assert not at.exception, page
        pages.append(str([e.proto for e in at.main]) + str([e.proto for e in at.sidebar]))
    printed = capsys.readouterr()
    db.conn.execute("PRAGMA wal_checkpoint(FULL)")
    haystacks = {"stdout": printed.out, "stderr": printed.err, "logs": caplog.text, "pages": "\n".join(pages)}
    files = [p for p in (isolated_env / "output").rglob("*") if p.is_file()]
    assert len(files) > 10 and any(p.name == "README.md" for p in files)  # the export with its card is among them
    for secret in (OPENAI_KEY, HF_TOKEN):
        for name, text in haystacks.items():
            assert secret not in text, f"{secret[:8]}… leaked into {name}"
        for path in files:
            assert secret.encode() not in path.read_bytes(), f"{secret[:8]}… leaked into {path}"
    assert "***" in printed.err or "Unauthorized" in printed.err  # the error was reported, masked


def test_one_hf_token_lookup_environment_first_then_secrets(monkeypatch):
    from datagen import settings

    monkeypatch.delenv("HF_TOKEN", raising=False)
    assert settings.hf_token() is None and settings.hf_token({}) is None
    assert settings.hf_token({"HF_TOKEN": "from-secrets"}) == "from-secrets"
    monkeypatch.setenv("HF_TOKEN", "")
    assert settings.hf_token({"HF_TOKEN": ""}) is None  # blank is unset
    monkeypatch.setenv("HF_TOKEN", "from-env")
    assert settings.hf_token({"HF_TOKEN": "from-secrets"}) == "from-env"
