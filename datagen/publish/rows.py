"""Record formats: one dataset row per dialogue, its ``datasets.Features``, and back.

Formats (:data:`FORMATS`, one row per dialogue, see :func:`to_row` / :func:`from_row`):

- ``qwen``: seed 001's record — ``uid, dates, system_prompt, messages`` (``{role, content}`` with
  ``<tool_call>`` / ``<tool_response>`` tags), ``tools`` as a JSON string (tool specs have different
  keys per tool; an Arrow struct would merge them and add null keys);
- ``openai``: ``messages`` as Hugging Face chat templates take them (system message first,
  ``tool_calls[].function.arguments`` and ``tools`` typed ``datasets.Json``, so
  ``load_dataset`` gives dicts), role ``tool`` with ``tool_call_id`` and ``name``;

both with the lineage columns ``category, kind, custom_id, source, job_id, model``.

A row's identity is :func:`_digest` (a hash of the stored record and what the row is made from, with
:data:`ROW_LAYOUT`: no rendering needed, so the page can show it at 100,000 records).
:func:`load_export` reads a written folder back into the same dialogues.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

from ..dialogue import Dialogue, ToolCall, Turn, from_seed_record, to_messages, to_seed_record
from .rules import PublishError, _State

FORMATS = ("qwen", "openai")
FORMAT_KO = {"qwen": "qwen (seed 001 레코드, Qwen 태그)", "openai": "openai (HF 채팅 템플릿 messages)"}


ROW_LAYOUT = 1
"""Version of :func:`to_row`'s layout, part of every row hash: bump it when rows change shape, so the
same records published with the new layout count as changed (and are not skipped as "same set")."""


def _digest(fmt: str, st: _State, data: bytes) -> str:
    """SHA-256 hex identifying one published row: the row is a function of the stored dialogue JSON,
    the review state's kind, the sample's job and model, the format and :data:`ROW_LAYOUT`, so
    those are hashed (cheap) instead of the rendered row."""
    h = hashlib.sha256("\x1f".join((str(ROW_LAYOUT), fmt, st.kind, st.job_id or "", st.model or "", "")).encode())
    h.update(data)
    return h.hexdigest()


def features(fmt: str = "qwen"):
    """The ``datasets.Features`` of a format's rows (stored in each parquet shard's metadata).

    Raises:
        PublishError: unknown format.
    """
    from datasets import Json

    return _features(fmt, Json())


def _features(fmt: str, json_type: Any):
    from datasets import Features, List, Value

    _check_format(fmt)
    s = Value("string")
    lineage = {"category": s, "kind": s, "custom_id": s, "source": s, "job_id": s, "model": s}
    if fmt == "qwen":
        return Features({"uid": s, "dates": s, "system_prompt": s, "messages": List({"role": s, "content": s}), "tools": s, **lineage})
    call = {"id": s, "type": s, "function": {"name": s, "arguments": json_type}}
    message = {"role": s, "content": s, "tool_calls": List(call), "tool_call_id": s, "name": s}
    return Features({"uid": s, "messages": List(message), "tools": List(json_type), "dates": s, **lineage})


def _storage_schema(fmt: str):
    """The Arrow schema rows are converted with: :func:`features` with ``Json`` as plain strings
    (``pyarrow.Table.from_pylist`` cannot build extension arrays); cast to the real schema after."""
    from datasets import Value

    return _features(fmt, Value("string")).arrow_schema


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise PublishError(f"알 수 없는 형식: {fmt} (가능: {', '.join(FORMATS)})")


def _tools_columns(tools: list[dict], fmt: str) -> Any:
    return json.dumps(tools, ensure_ascii=False) if fmt == "qwen" else [json.dumps(t, ensure_ascii=False) for t in tools]


def to_row(d: Dialogue, fmt: str = "qwen", *, job_id: str | None = None, _tools: Any = None) -> dict:
    """One dataset row of a dialogue (column shapes in the module docstring).

    JSON-typed values (``tools`` of ``qwen``; ``tools`` items and call ``arguments`` of ``openai``) are
    JSON text (``ensure_ascii=False``, insertion order kept); :func:`features` types them.

    Raises:
        PublishError: unknown format.
    """
    _check_format(fmt)
    tools = _tools if _tools is not None else _tools_columns(d.tools, fmt)
    lineage = {"category": d.category, "kind": d.kind, "custom_id": d.custom_id, "source": d.source, "job_id": job_id, "model": d.model}
    if fmt == "qwen":
        rec = to_seed_record(d)
        return {"uid": d.uid, "dates": d.dates, "system_prompt": d.system_prompt, "messages": rec["messages"], "tools": tools, **lineage}
    messages = to_messages(d, arguments_as="json")
    offset = len(messages) - len(d.turns)  # the system message, when there is a system prompt
    for i, m in enumerate(messages):
        m.setdefault("tool_calls", None)
        turn = d.turns[i - offset] if i >= offset else None
        m["tool_call_id"] = turn.tool_call_id if turn else None  # kept on every role: exact round trip
        m["name"] = turn.name if turn else None
    return {"uid": d.uid, "messages": messages, "tools": tools, "dates": d.dates, **lineage}


def _json_value(v: Any) -> Any:
    """A ``Json`` column value as a Python object: raw JSON text (exact) or already decoded."""
    return json.loads(v) if isinstance(v, str) else v


def from_row(row: dict, fmt: str | None = None) -> Dialogue:
    """The Dialogue of one dataset row (the inverse of :func:`to_row`).

    ``openai`` rows give back exactly the published Dialogue. ``qwen`` rows are seed 001 records,
    parsed by :func:`datagen.dialogue.from_seed_record`: tool calls carry no ids in that format, so
    calls are numbered ``call_1``… and tool results paired with calls in order.

    JSON values may be raw JSON text (exact) or already decoded: ``load_dataset`` decodes ``Json``
    columns with pandas' ujson, which can change a float argument in its last digit (0.6 →
    0.6000000000000001); read with ``.with_format("arrow")`` (as :func:`load_export` does) for exact values.

    Args:
        fmt: ``qwen`` / ``openai``; guessed from the columns when omitted (``system_prompt`` → qwen).

    Raises:
        PublishError: unknown format. datagen.dialogue.FormatError: a malformed qwen record.
    """
    fmt = fmt or ("qwen" if "system_prompt" in row else "openai")
    _check_format(fmt)
    lineage: dict[str, Any] = {"custom_id": row.get("custom_id"), "source": row.get("source") or "", "model": row.get("model")}
    if fmt == "qwen":
        rec = dict(row, tools=_json_value(row.get("tools")) or [])
        return from_seed_record(rec, **lineage)
    messages = list(row.get("messages") or [])
    system_prompt = ""
    if messages and messages[0].get("role") == "system":
        system_prompt = messages.pop(0).get("content") or ""
    turns = [
        Turn(
            role=m["role"],
            content=m.get("content") or "",
            tool_calls=[
                ToolCall(id=c.get("id"), name=c["function"]["name"], arguments=_json_value(c["function"].get("arguments")) or {})
                for c in m.get("tool_calls") or []
            ],
            tool_call_id=m.get("tool_call_id"),
            name=m.get("name"),
        )
        for m in messages
    ]
    return Dialogue(
        uid=row["uid"],
        kind=row.get("kind") or "train",
        category=row.get("category") or "imported",
        dates=row.get("dates") or "",
        system_prompt=system_prompt,
        tools=[_json_value(t) for t in row.get("tools") or []],
        turns=turns,
        **lineage,
    )


def _floats_drift(arguments: Any) -> bool:
    """True when ``datasets``' Json decoding (pandas ujson, imprecise floats) would change a float."""
    if isinstance(arguments, float):
        from datasets.utils.json import ujson_loads

        return not math.isfinite(arguments) or ujson_loads(repr(arguments)) != arguments
    if isinstance(arguments, dict):
        return any(_floats_drift(v) for v in arguments.values())
    if isinstance(arguments, list):
        return any(_floats_drift(v) for v in arguments)
    return False


def load_export(path: str | Path, fmt: str | None = None) -> dict[str, list[Dialogue]]:
    """Load a published folder (or Hub repo id) with ``datasets.load_dataset`` and give back the
    dialogues per split, exactly (JSON columns read as their stored text, see :func:`from_row`).

    Raises:
        PublishError: unknown format. Whatever ``datasets.load_dataset`` raises for a bad path.
    """
    import tempfile

    import datasets

    # A private cache: datasets 5.2 keys its cache of a local folder with a README ``configs`` block
    # by the folder's name, so a re-exported folder (or another folder of the same name) would be
    # served from the cache of an earlier one.
    with tempfile.TemporaryDirectory(prefix="datagen-load-") as cache:
        ds = datasets.load_dataset(str(path), cache_dir=cache)
        return {split: [from_row(r, fmt) for r in d.with_format("arrow")[:].to_pylist()] for split, d in ds.items()}
