"""Backend selection: the real openai client with a key, the offline transport otherwise."""

import openai

from datagen import settings
from datagen.backend import OFFLINE_BASE_URL, get_client


def test_no_key_means_offline(monkeypatch):
    monkeypatch.delenv("DATAGEN_BACKEND")
    assert settings.backend_name() == "offline"
    client = get_client()
    assert isinstance(client, openai.OpenAI) and str(client.base_url).rstrip("/") == OFFLINE_BASE_URL


def test_key_means_openai_or_a_compatible_server(monkeypatch):
    monkeypatch.delenv("DATAGEN_BACKEND")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert settings.backend_name() == "openai"
    client = get_client()
    assert str(client.base_url).rstrip("/") == "http://127.0.0.1:9/v1"
    monkeypatch.setenv("DATAGEN_BACKEND", "offline")  # forced offline even with a key
    assert settings.backend_name() == "offline"


def test_offline_state_survives_a_new_client(isolated_env):
    """State is on disk: a batch created by one client (the CLI) is visible to another (the app)."""
    import io

    a, b = get_client(), get_client()
    f = a.files.create(
        file=("in.jsonl", io.BytesIO(b'{"custom_id": "x", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "m"}}\n')), purpose="batch"
    )
    batch = a.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h")
    assert b.batches.retrieve(batch.id).id == batch.id
    assert any(x.id == batch.id for x in b.batches.list())
