"""JSON at ingest speed, with the standard library's results.

Batch output is parsed line by line (100,000 lines of ~4.6 KB in a run: BENCHMARKS.md, "Batches at
scale"), and each line holds JSON in JSON (the dialogue, its arguments, its tool results).
:func:`loads` uses pydantic-core's parser (1.5-2.5× ``json``), :func:`dumps_sorted` orjson; both
hand anything they would read or write differently to ``json``.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
import pydantic_core


def loads(text: str | bytes) -> Any:
    """``json.loads``, through pydantic-core's Rust parser (jiter) first.

    ``text`` may be UTF-8 bytes (ingest hands its workers each line's bytes: no decode there and no
    encode again for the parser); they are read exactly as their decoded text would be. jiter reads
    integers of any size exactly, ``NaN`` / ``Infinity`` like ``json``, and the last of duplicate
    keys; what it refuses (lone surrogates, invalid JSON) goes to ``json.loads``, so the value
    returned, and the error raised for text that is not JSON, are the standard library's.
    (orjson was measured too: it reads an integer beyond 64 bits as a float, and the walk needed to
    catch that made it no faster.)

    Raises:
        json.JSONDecodeError: ``text`` is not JSON (``json``'s message and position).
    """
    try:
        return pydantic_core.from_json(text)
    except ValueError:  # bytes as the text they hold: json.loads would read a leading BOM as utf-8-sig
        return json.loads(text.decode("utf-8") if isinstance(text, bytes) else text)


def dumps_sorted(value: Any) -> bytes:
    """Canonical UTF-8 JSON of ``value`` for hashing: keys sorted, no whitespace, non-ASCII kept.

    orjson's output; a value orjson cannot write (an integer beyond 64 bits) falls back to
    ``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)``, which is the same
    text for everything else except float spelling (``1e+16`` vs ``1e16``), so a given value always
    gets the same bytes.
    """
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
