"""Fixtures: every data path in a temporary folder, the offline backend, no keys, no network."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """Point output and database at ``tmp_path``; force the offline backend with instant progress."""
    monkeypatch.setenv("DATAGEN_OUTPUT_DIR", str(tmp_path / "output"))
    monkeypatch.delenv("DATAGEN_DB", raising=False)
    monkeypatch.setenv("DATAGEN_BACKEND", "offline")
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "HF_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("DATAGEN_OFFLINE_VALIDATE_S", "0")
    monkeypatch.setenv("DATAGEN_OFFLINE_SECONDS_PER_REQUEST", "0")
    return tmp_path


@pytest.fixture
def db(isolated_env):
    """A fresh migrated database in the temporary output folder."""
    from datagen.store import connect

    return connect(isolated_env / "output" / "datagen.db")
