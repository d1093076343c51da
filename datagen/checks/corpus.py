"""Checks over many samples at once: repeated closing lines, duplicates, contamination.

Their findings are computed in :mod:`datagen.quality` (they need the whole training set or the gold
set); they are declared here so the registry lists every id a finding can carry.
"""

from __future__ import annotations

from . import text as tx
from .core import declare

declare("repeated_closing", "warning", "unnatural_korean", "여러 샘플에 반복되는 마무리 문장", "corpus")
declare("duplicate_exact", "warning", "duplicate", "중복 샘플(정규화 후 동일)", "corpus")
declare("duplicate_near", "warning", "duplicate", "유사 중복 샘플", "corpus")
declare("contamination", "error", "contamination", "평가셋 오염(게시 제외)", "corpus")
declare("contamination_suspect", "warning", "contamination", "평가셋 오염 의심", "corpus")

CLOSING_MIN_CHARS = 10
CLOSING_MIN_SAMPLES = 5
CLOSING_MIN_SHARE = 0.2
"""A closing line (the closing span of the final assistant turn: its last sentences, at least
``CLOSING_MIN_CHARS`` characters without spaces) is "repeated" when at least ``CLOSING_MIN_SAMPLES`` samples and at least
``CLOSING_MIN_SHARE`` of the samples of the same kind end with it. This project's choice: the
post-mortem's "one canned hand-off line everywhere" was far above 20%; a varied set of short closers
(``맛있게 드세요!``) stays below."""


def final_closing(turns: list[dict]) -> str:
    """The closing span of a dialogue: :func:`text.closing_line` of its last turn (the last
    sentences holding at least ``CLOSING_MIN_CHARS`` letters) when that is an assistant text turn,
    else ``""``."""
    if not turns:
        return ""
    last = turns[-1]
    if last.get("role") != "assistant" or not last.get("content"):
        return ""
    return tx.closing_line(last["content"], CLOSING_MIN_CHARS)
