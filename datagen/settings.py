"""Where things live and which batch backend is active, read from the environment each call.

Environment variables (README, "Configuration"):

- ``DATAGEN_OUTPUT_DIR``: output folder (default ``datagen/output`` next to this package).
- ``DATAGEN_DB``: SQLite file (default ``<output dir>/datagen.db``).
- ``DATAGEN_BACKEND``: ``offline`` forces the offline batch backend; ``openai`` forces the real one.
- ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL``: the real backend (OpenAI or any compatible server).
- ``HF_TOKEN``: the Hugging Face token for publishing (:func:`hf_token`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parent


def output_dir() -> Path:
    """The output folder (created if missing): ``$DATAGEN_OUTPUT_DIR`` or ``datagen/output``."""
    path = Path(os.environ.get("DATAGEN_OUTPUT_DIR") or PACKAGE_DIR / "output")
    path.mkdir(parents=True, exist_ok=True)
    return path


def hf_token(secrets: Mapping[str, Any] | None = None) -> str | None:
    """The Hugging Face token: ``$HF_TOKEN``, else ``secrets["HF_TOKEN"]`` (e.g. Streamlit's
    ``st.secrets``, passed in by :func:`datagen.ui.hf_token`), else ``None``. Blank counts as unset.
    The value is never logged or stored here."""
    token = os.environ.get("HF_TOKEN")
    if not token and secrets is not None:
        token = secrets.get("HF_TOKEN")
    return str(token) if token else None


def db_path() -> Path:
    """The SQLite database file: ``$DATAGEN_DB`` or ``<output dir>/datagen.db``."""
    env = os.environ.get("DATAGEN_DB")
    return Path(env) if env else output_dir() / "datagen.db"


def backend_name() -> str:
    """``"offline"`` or ``"openai"``.

    Offline when ``DATAGEN_BACKEND=offline`` or when no ``OPENAI_API_KEY`` is set (ARCHITECTURE.md,
    "Batch backends"); ``DATAGEN_BACKEND=openai`` without a key still gives ``"openai"`` so the SDK's
    own missing-key error surfaces.
    """
    forced = (os.environ.get("DATAGEN_BACKEND") or "").strip().lower()
    if forced in ("offline", "openai"):
        return forced
    return "openai" if os.environ.get("OPENAI_API_KEY") else "offline"


def offline_notice() -> str:
    """The Korean one-liner shown wherever the offline backend is in use."""
    return (
        "오프라인 배치 백엔드 사용 중: OPENAI_API_KEY가 없거나 DATAGEN_BACKEND=offline 입니다. "
        "생성되는 대화는 LLM 출력이 아니라 스크립트로 만든 예시 데이터입니다."
    )
