"""The batch client: always the real ``openai`` SDK, pointed at OpenAI or at the offline transport.

ARCHITECTURE.md, "Batch backends": ``OPENAI_API_KEY`` → OpenAI (or any OpenAI-compatible server through
``OPENAI_BASE_URL``); otherwise, or with ``DATAGEN_BACKEND=offline``, the SDK gets an
``httpx2.Client`` whose transport is :class:`datagen.offline.OfflineTransport`.
"""

from __future__ import annotations

from pathlib import Path

import httpx2
import openai

from . import settings
from .offline import OfflineOptions, OfflineTransport

OFFLINE_BASE_URL = "http://offline-batch.invalid/v1"


def offline_state_dir() -> Path:
    """Folder holding the offline backend's files and batches: ``<output dir>/offline_backend``."""
    return settings.output_dir() / "offline_backend"


def get_client(*, options: OfflineOptions | None = None, max_retries: int = 2) -> openai.OpenAI:
    """An ``openai.OpenAI`` client for the active backend (:func:`settings.backend_name`).

    Args:
        options: offline backend options (ignored for the real backend).
        max_retries: SDK retries on 408/409/429/5xx and connection errors.

    Raises:
        openai.OpenAIError: real backend chosen but no API key is configured.
    """
    if settings.backend_name() == "offline":
        transport = OfflineTransport(offline_state_dir(), options=options)
        return openai.OpenAI(
            api_key="offline",
            base_url=OFFLINE_BASE_URL,
            http_client=httpx2.Client(transport=transport),
            max_retries=max_retries,
        )
    return openai.OpenAI(max_retries=max_retries)
