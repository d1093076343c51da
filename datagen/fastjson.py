"""JSON at ingest speed: orjson where it gives the standard library's answer, ``json`` elsewhere.

Batch output is parsed line by line (100,000 lines of ~4.6 KB in a run: BENCHMARKS.md, "Batches at
scale"); orjson decodes them ~2.6× faster than ``json``. Results and errors stay exactly the
standard library's: whatever orjson refuses is handed to ``json``.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


_HUGE = 2.0**63
"""orjson reads an integer beyond 64 bits as a float; any such float is at least this large."""


def _has_huge_float(value: Any) -> bool:
    stack = [value]
    pop, push = stack.pop, stack.extend
    while stack:
        x = pop()
        t = type(x)
        if t is dict:
            push(x.values())
        elif t is list:
            push(x)
        elif t is float and (x >= _HUGE or x <= -_HUGE):
            return True
    return False


def loads(text: str | bytes) -> Any:
    """``json.loads``, through orjson first.

    orjson refuses ``NaN`` / ``Infinity``, numbers beyond float range, lone surrogates and invalid
    JSON, and reads an integer beyond 64 bits as a float (losing digits). What it refuses, and a
    result holding a float of magnitude 2**63 or more (which may have been such an integer), go to
    ``json.loads``, so the value returned, and the error raised for text that is not JSON, are the
    standard library's.

    Raises:
        json.JSONDecodeError: ``text`` is not JSON (``json``'s message and position).
    """
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
    return json.loads(text) if _has_huge_float(value) else value


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
