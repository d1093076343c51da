"""Publishing: exactly the approved records, as a versioned dataset folder (parquet shards + card).

What ships is decided in one place, :func:`shipping_status`, which gives every sample either
``"ships"`` or the reason it is left out; the Publish page, the dataset card and the CLI all read it.
The rules, in the order they are applied (the first that matches names the reason):

1. the sample's decision must be *accept* (``sample_state``: state ``decided``, decision ``accept``;
   gold's two votes, adjudication and an audited lot's approval, ``approved_by = 'lot:<id>'``,
   are folded in by :mod:`datagen.review`; a person's reject wins over a lot's approval): otherwise
   ``rejected``, ``pending`` (no decision yet, or gold waiting for its second vote), ``skipped``,
   or ``disputed`` (gold votes disagree and nobody adjudicated yet);
2. ``decontaminated``: the sample overlaps a gold item above the exclusion threshold
   (``contamination.band = 'excluded'``, :mod:`datagen.quality`);
3. ``duplicate``: the sample is in a duplicate cluster and is not its representative
   (``duplicates.uid != duplicates.cluster``; the representative may ship);
4. ``unreviewed_error``: the sample has an error-level finding whose check id was not on screen
   when the accept that decided it was made (``reviews.findings_seen`` of the deciding review,
   :func:`deciding_reviews`) — a person never accepted that finding. A lot-approved sample has
   no deciding review: any error finding holds it back (its lot was made of clean samples). The findings judged are
   those of the version that ships: for a sample edited after its accept they are recomputed for
   the accepted version (:func:`_recheck_edited_after_accept`).

``train`` samples form the ``train`` split and ``gold`` samples the ``test`` split; the edited
version ships wherever a reviewer edited before accepting (``sample_state.accepted_revision_id``).

Formats (:data:`FORMATS`, one row per dialogue, see :func:`to_row` / :func:`from_row`):

- ``qwen``: seed 001's record — ``uid, dates, system_prompt, messages`` (``{role, content}`` with
  ``<tool_call>`` / ``<tool_response>`` tags), ``tools`` as a JSON string (tool specs have different
  keys per tool; an Arrow struct would merge them and add null keys);
- ``openai``: ``messages`` as Hugging Face chat templates take them (system message first,
  ``tool_calls[].function.arguments`` and ``tools`` typed ``datasets.Json``, so
  ``load_dataset`` gives dicts), role ``tool`` with ``tool_call_id`` and ``name``;

both with the lineage columns ``category, kind, custom_id, source, job_id, model``.

A release (:func:`prepare`) is the shipping set with a hash per row (of the stored record and what
the row is made from, :func:`_digest`: no rendering needed, so the page can show it at 100,000
records), the record-set hash, the difference from the previous publish (added / removed / changed
rows) and the card. Written out, it is parquet shards of at most :data:`SHARD_ROWS` rows named
``data/{split}-{i:05d}-of-{n:05d}.parquet`` (in worker processes for large sets) and ``README.md``.
:func:`publish_to_hub` pushes that folder through :class:`HubBoundary` (ARCHITECTURE.md, "Facts": no project
ships a local fake Hub, so tests fake this boundary), skips the upload when the record set equals the
last one pushed to the repo, tags each version ``v{n}`` and records every publish (``publishes``,
``publish_items``; the row hashes are kept in ``publishes.counts`` for the next diff). The token comes
from the caller or ``HF_TOKEN`` and is never stored, logged or written.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator, Protocol

import sqlite_utils

from .. import audit, auth, config, quality, settings
from ..checks import CHECKS
from ..dialogue import Dialogue, ToolCall, Turn, from_seed_record, to_messages, to_seed_record
from ..errors import DatagenError
from ..review import bucket_sql
from ..store import TOOLS_KEY, dumps, loads, now, split_tools, write_transaction

SPLIT_OF_KIND = {"train": "train", "gold": "test"}
FORMATS = ("qwen", "openai")
FORMAT_KO = {"qwen": "qwen (seed 001 레코드, Qwen 태그)", "openai": "openai (HF 채팅 템플릿 messages)"}
SHARD_ROWS = 50_000
"""Rows per parquet shard (issue "Publishing": ≤ 50,000; a split of 120,000 rows gives 3 shards)."""

SHIPS = "ships"
LEFT_OUT: dict[str, str] = {
    "rejected": "거절됨",
    "pending": "미검토 (골드는 두 번째 판정 대기 포함)",
    "skipped": "건너뜀",
    "disputed": "골드 판정 불일치 (조정 전)",
    "decontaminated": "평가셋 오염으로 제외",
    "duplicate": "중복 (대표 샘플만 게시)",
    "unreviewed_error": "사람이 확인하지 않은 오류 검사 결과",
}
"""Reason key → Korean label, in the order the rules apply (module docstring)."""

_AFTER_ACCEPT = ("decontaminated", "duplicate", "unreviewed_error")
"""Reasons that apply to accepted samples (the rest say the sample is not accepted)."""

LICENSE = "other"
"""Card license: the records are model output under the generator provider's terms; the publisher
decides the final license (``other`` until then)."""

ROW_HASH_CHARS = 16
"""Hex characters of each row hash kept per publish (64 bits: enough to tell a changed row)."""

_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")


log = logging.getLogger(__name__)

class PublishError(DatagenError, RuntimeError):
    """Publishing cannot proceed; ``str(err)`` is a one-line reason (Korean, shown to users)."""


# ----------------------------------------------------------------------------- what ships

# The review that decided an accepted sample (over ``sample_state st``), as the review rules
# (:func:`datagen.review.derive_state`) materialised it: the latest effective adjudication, else the
# latest effective decision of a training sample, else the later of gold's agreeing votes.
_DECIDING_REVIEW_ID = "st.accepted_review_id"

_BUCKET = bucket_sql("st")
"""Rule 1 reads the review bucket (:func:`datagen.review.bucket_sql`): ``accept`` goes on to the
other rules, ``reject`` / ``skip`` / ``pending`` / ``disputed`` name the reason."""

_STATUS_SQL = f"""
SELECT st.uid, st.kind, COALESCE(json_extract(rv.dialogue, '$.category'), st.category), CASE
    WHEN {_BUCKET} = 'reject' THEN 'rejected'
    WHEN {_BUCKET} = 'skip' THEN 'skipped'
    WHEN {_BUCKET} <> 'accept' THEN {_BUCKET}
    WHEN EXISTS (SELECT 1 FROM contamination c WHERE c.uid = st.uid AND c.band = 'excluded') THEN 'decontaminated'
    WHEN EXISTS (SELECT 1 FROM duplicates d WHERE d.uid = st.uid AND d.cluster <> d.uid) THEN 'duplicate'
    WHEN EXISTS (SELECT 1 FROM findings f WHERE f.uid = st.uid AND f.severity = 'error' AND f.check_id NOT IN
        (SELECT j.value FROM reviews dr, json_each(COALESCE(dr.findings_seen, '[]')) j WHERE dr.id = {_DECIDING_REVIEW_ID}))
        THEN 'unreviewed_error'
    ELSE 'ships' END,
    st.job_id, s.model, rv.id, (SELECT MAX(lr.id) FROM revisions lr WHERE lr.uid = st.uid)
FROM sample_state st JOIN samples s ON s.uid = st.uid LEFT JOIN revisions rv ON rv.id = st.accepted_revision_id
ORDER BY st.kind, st.category, st.seq
"""


def deciding_reviews(db: sqlite_utils.Database, uids: set[str] | None = None) -> dict[str, dict]:
    """The review row that decided each accepted sample, in one query.

    Returns:
        ``{uid: {"review_id", "annotator", "findings_seen": [check ids], "revision_id",
        "adjudication": bool}}`` for every sample whose decision is accept (only ``uids`` when
        given). ``findings_seen`` is ``[]`` for reviews written before it was recorded.
    """
    out = {}
    for uid, rid, annotator, seen, revision, adjudication in db.execute(
        f"SELECT st.uid, r.id, r.annotator, r.findings_seen, r.revision_id, r.adjudication FROM sample_state st "
        f"JOIN reviews r ON r.id = {_DECIDING_REVIEW_ID} WHERE st.state = 'decided' AND st.decision = 'accept'"
    ):
        if uids is None or uid in uids:
            out[uid] = {"review_id": rid, "annotator": annotator, "findings_seen": loads(seen, []),
                        "revision_id": revision, "adjudication": bool(adjudication)}
    return out


@dataclass(frozen=True, slots=True)
class _State:
    """One sample as the rules see it: ``status`` is ``"ships"`` or a :data:`LEFT_OUT` key."""

    uid: str
    kind: str
    category: str  # of the version that would ship (an edit may relabel it)
    status: str
    job_id: str | None
    model: str | None  # samples.model
    revision_id: int | None  # the accepted edit, if any
    checked_revision_id: int | None = None  # the latest edit, which the stored findings describe

    @property
    def split(self) -> str:
        return SPLIT_OF_KIND.get(self.kind, "train")


def _states(db: sqlite_utils.Database) -> list[_State]:
    """Every sample with its status, in publishing order (kind, category, arrival). One query, then
    :func:`_recheck_edited_after_accept` for the few samples edited after their accept."""
    return _recheck_edited_after_accept(db, [_State(*row) for row in db.execute(_STATUS_SQL)])


def _recheck_edited_after_accept(db: sqlite_utils.Database, states: list[_State]) -> list[_State]:
    """Rule 4 for samples edited after the accept that decided them: the stored findings describe
    the latest edit (the checks judge the version a next accept would ship), but the version that
    ships is the accepted one. Those versions are checked here (:func:`quality.check_record`) and
    their error-level check ids compared with what the deciding review saw; the other rules stand."""
    stale = [k for k, st in enumerate(states)
             if st.status in (SHIPS, "unreviewed_error") and st.revision_id != st.checked_revision_id]
    if not stale:
        return states
    from ..quality import check_record

    uids = {states[k].uid for k in stale}
    seen = deciding_reviews(db, uids)
    shipped: dict[str, str] = {}
    ordered = sorted(uids)
    for i in range(0, len(ordered), 500):
        part = ordered[i : i + 500]
        shipped.update((uid, edited or original) for uid, original, edited in db.execute(
            "SELECT sd.uid, sd.dialogue, rv.dialogue FROM sample_dialogues sd JOIN sample_state st ON st.uid = sd.uid "
            f"LEFT JOIN revisions rv ON rv.id = st.accepted_revision_id WHERE sd.uid IN ({','.join('?' * len(part))})",
            part,
        ))
    out = list(states)
    for k in stale:
        st = states[k]
        errors = {f.check for f in check_record(shipped[st.uid])[0] if f.severity == "error"}
        unseen = errors - set(seen.get(st.uid, {}).get("findings_seen") or [])
        out[k] = replace(st, status="unreviewed_error" if unseen else SHIPS)
    return out


def shipping_status(db: sqlite_utils.Database, uids: set[str] | None = None) -> dict[str, str]:
    """For every sample (only those in ``uids`` when given): ``"ships"`` or the reason it is left out.

    The reasons are the keys of :data:`LEFT_OUT`; the rules and their order are in the module
    docstring. One SQL query (index lookups per sample), ~1 s at 100,000 samples.
    """
    return {st.uid: st.status for st in _states(db) if uids is None or st.uid in uids}


def accepted_dialogues(db: sqlite_utils.Database, uids: set[str] | None = None) -> Iterator[Dialogue]:
    """Dialogues whose decision is ``accept`` (see :mod:`datagen.review` for gold's two votes),
    only those in ``uids`` when given; the revision accepted where a reviewer edited the sample.

    Accept only: the other exclusion rules are applied by :func:`publishable_dialogues`.
    """
    for uid, text, edited in db.execute(
        "SELECT s.uid, s.dialogue, r.dialogue FROM sample_state st JOIN sample_dialogues s ON s.uid = st.uid "
        "LEFT JOIN revisions r ON r.id = st.accepted_revision_id "
        "WHERE st.state = 'decided' AND st.decision = 'accept' ORDER BY st.kind, st.category, st.seq"
    ):
        if uids is None or uid in uids:
            yield Dialogue.model_validate_json(edited or text)


ROW_LAYOUT = 1
"""Version of :func:`to_row`'s layout, part of every row hash: bump it when rows change shape, so the
same records published with the new layout count as changed (and are not skipped as "same set")."""

_FETCH_CHUNK = 500


def _fetch(db: sqlite_utils.Database, uids: list[str]) -> Iterator[tuple[str, str | None, bytes]]:
    """``(uid, samples.model, dialogue JSON as UTF-8 bytes)`` of shipping records in the order of
    ``uids``, 500 per query; the JSON is the accepted edit where there is one, else the original.
    (Bytes: hashing needs them, and skipping SQLite's text decoding halves the read.)"""
    for i in range(0, len(uids), _FETCH_CHUNK):
        chunk = uids[i : i + _FETCH_CHUNK]
        rows = db.execute(
            "SELECT s.uid, s.model, CAST(COALESCE(rv.dialogue, sd.dialogue) AS BLOB) FROM samples s "
            "JOIN sample_dialogues sd ON sd.uid = s.uid JOIN sample_state st ON st.uid = s.uid LEFT JOIN revisions rv ON rv.id = st.accepted_revision_id "
            f"WHERE s.uid IN ({','.join('?' * len(chunk))})",
            chunk,
        ).fetchall()
        by_uid = {r[0]: r for r in rows}
        for uid in chunk:
            if uid in by_uid:
                yield by_uid[uid]


def _digest(fmt: str, st: _State, data: bytes) -> str:
    """SHA-256 hex identifying one published row: the row is a function of the stored dialogue JSON,
    the review state's kind, the sample's job and model, the format and :data:`ROW_LAYOUT`, so
    those are hashed (cheap) instead of the rendered row."""
    h = hashlib.sha256("\x1f".join((str(ROW_LAYOUT), fmt, st.kind, st.job_id or "", st.model or "", "")).encode())
    h.update(data)
    return h.hexdigest()


_TOOLS_KEY = TOOLS_KEY.encode()
_DECODER = json.JSONDecoder()
_TOOLS_CACHE_MAX = 16


def _split_tools(data: bytes, cache: dict[bytes, list]) -> tuple[bytes, list | None, bytes | None]:
    """``(dialogue JSON without "tools", tools, key)`` from stored Dialogue JSON (UTF-8 bytes),
    parsing each distinct tool list once; ``(data, None, None)`` when the list cannot be cut out
    safely. ``key`` is the list's JSON when the list is the shared one in ``cache`` (the same object
    for every record with it), else ``None``.

    The tool list is about half of a stored record and usually the same for thousands of them.
    Stored records are ``model_dump_json`` output, where ``"tools"`` is a top-level key after five
    string fields: its JSON is found, compared with the lists seen before (``cache``: list JSON →
    parsed list) and parsed only when new. The cut is used only if it was provably at the top level:
    the JSON before it is a complete object once closed (a ``,"tools":`` inside a string would have
    escaped quotes), and the list must be followed by ``,"turns":`` (:func:`datagen.store.split_tools`
    makes the cut). Whenever the cut is not used the whole text is parsed: the Dialogue is the same.
    """
    i = data.find(_TOOLS_KEY)
    if i <= 0:
        return data, None, None
    start = i + len(_TOOLS_KEY)
    tools, end = None, -1
    for known, parsed in cache.items():
        if data.startswith(known, start):
            tools, end = parsed, start + len(known)
            break
    else:
        try:
            tail = data[start:].decode()
            tools, n = _DECODER.raw_decode(tail)
        except ValueError:  # JSONDecodeError, UnicodeDecodeError
            return data, None, None
        if not isinstance(tools, list):
            return data, None, None
        end = start + len(tail[:n].encode())
        if len(cache) < _TOOLS_CACHE_MAX:
            cache[data[start:end]] = tools
    head = data[:i]
    try:
        if not isinstance(json.loads(head + b"}"), dict):
            return data, None, None
        rest = split_tools(data, data[start:end])  # the stored-format cut (store.split_tools)
    except ValueError:
        return data, None, None
    key = data[start:end] if cache.get(data[start:end]) is tools else None
    return rest, tools, key


def _published_dialogue(st: _State, data: bytes, tools: list | None) -> Dialogue:
    """The Dialogue as published, validated from its stored JSON (``tools`` given separately when
    :func:`_split_tools` cut them out), with ``kind`` from the review state (it decides the split)
    and ``model`` from the sample row when the dialogue names none.

    Raises:
        pydantic.ValidationError: the stored JSON is not a Dialogue.
    """
    d = Dialogue.model_validate_json(data)
    if tools is not None:
        if d.tools:  # a second "tools" key: not model_dump_json output, read it whole
            raise ValueError("tools twice")
        d.tools.extend(tools)  # the specs themselves are shared between records with the same list
    if st.kind in SPLIT_OF_KIND and d.kind != st.kind:
        d.kind = st.kind
    if d.model is None and st.model:
        d.model = st.model
    return d


def _dialogues(db: sqlite_utils.Database, states: list[_State]) -> Iterator[tuple[_State, Dialogue, bytes, bytes | None]]:
    """``(state, published Dialogue, stored JSON, tools key)`` for each of ``states``, in order.
    Records with the same tools key share their tool specs (do not mutate them)."""
    by_uid = {st.uid: st for st in states}
    cache: dict[bytes, list] = {}
    for uid, _, data in _fetch(db, [st.uid for st in states]):
        st = by_uid[uid]
        rest, tools, key = _split_tools(data, cache)
        try:
            d = _published_dialogue(st, rest, tools)
        except ValueError:
            if tools is None:
                raise
            d, key = _published_dialogue(st, data, None), None
        yield st, d, data, key


def publishable_dialogues(db: sqlite_utils.Database, uids: set[str] | None = None) -> Iterator[Dialogue]:
    """The dialogues that ship now, exactly as published (all rules of :func:`shipping_status`),
    in publishing order; only those in ``uids`` when given."""
    ships = [st for st in _states(db) if st.status == SHIPS and (uids is None or st.uid in uids)]
    for _, d, _, _ in _dialogues(db, ships):
        yield d.model_copy(update={"tools": json.loads(json.dumps(d.tools))})  # not shared between records


# ----------------------------------------------------------------------------- formats


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
        return Features({"uid": s, "dates": s, "system_prompt": s, "messages": List({"role": s, "content": s}),
                         "tools": s, **lineage})
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
    lineage = {"category": d.category, "kind": d.kind, "custom_id": d.custom_id, "source": d.source,
               "job_id": job_id, "model": d.model}
    if fmt == "qwen":
        rec = to_seed_record(d)
        return {"uid": d.uid, "dates": d.dates, "system_prompt": d.system_prompt, "messages": rec["messages"],
                "tools": tools, **lineage}
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
    lineage = {"custom_id": row.get("custom_id"), "source": row.get("source") or "", "model": row.get("model")}
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
            tool_calls=[ToolCall(id=c.get("id"), name=c["function"]["name"], arguments=_json_value(c["function"].get("arguments")) or {})
                        for c in m.get("tool_calls") or []],
            tool_call_id=m.get("tool_call_id"),
            name=m.get("name"),
        )
        for m in messages
    ]
    return Dialogue(uid=row["uid"], kind=row.get("kind") or "train", category=row.get("category") or "imported",
                    dates=row.get("dates") or "", system_prompt=system_prompt,
                    tools=[_json_value(t) for t in row.get("tools") or []], turns=turns, **lineage)


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


# ----------------------------------------------------------------------------- the release


@dataclass
class Diff:
    """The difference between a release and a previous publish.

    Attributes:
        base: the previous publish (``{"id", "target", "repo_id", "tag", "revision", "created_at",
            "format", "total"}``) or ``None`` for a first version.
        added / removed / changed: uids (sorted); changed = shipped in both with a different row.
        removed_reasons: uid → why it no longer ships (a :data:`LEFT_OUT` key, ``not_selected`` or
            ``deleted``).
        exact: ``False`` when the base publish kept no row hashes (``changed`` then unknown).
    """

    base: dict | None = None
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed_reasons: dict[str, str] = field(default_factory=dict)
    exact: bool = True


@dataclass
class Release:
    """One publishable record set and its card (from :func:`prepare`).

    Attributes:
        fmt / repo_id: the format and target repo (``""`` for a local export).
        selection: the ``uids`` it was limited to (``None``: every sample).
        status: uid → ``"ships"`` or the reason it is left out, for every sample considered.
        missing: requested uids (``uids=``) that are not in the database.
        splits: split → uids shipped, in order. counts: split → rows. categories: ``(split, category)`` → rows.
        row_hashes: uid → row hash (:data:`ROW_HASH_CHARS` hex). record_hash: SHA-256 of the record set.
        version / tag: the Hub version this would become (``v{n}``), ``None`` for local exports.
        diff: against the previous publish (:func:`previous_publish`).
        jobs / models: job id → rows, model → rows. edited: rows that ship an edit.
        float_drift: uids with a float argument ``datasets`` decodes inexactly (``openai`` format;
            known once the rows are rendered, i.e. after writing).
        preview: up to 20 rows per split for display (uid, split, category, turns, calls, first user turn).
        card: README.md text. path / shards: the folder and shard files written (when written).
        revision / publish_id / skipped / tag_error: filled by :func:`publish_to_hub` / :func:`export_and_record`.
    """

    fmt: str
    repo_id: str
    selection: frozenset[str] | None
    status: dict[str, str]
    missing: list[str]
    splits: dict[str, list[str]]
    categories: Counter
    row_hashes: dict[str, str]
    record_hash: str
    version: int | None
    tag: str | None
    diff: Diff
    jobs: Counter
    models: Counter
    edited: int
    float_drift: list[str]
    preview: list[dict]
    card: str = ""
    path: str | None = None
    shards: list[str] = field(default_factory=list)
    revision: str | None = None
    publish_id: int | None = None
    skipped: bool = False
    tag_error: str | None = None

    @property
    def counts(self) -> dict[str, int]:
        """Rows per split, e.g. ``{"train": 120, "test": 20}`` (splits without rows omitted)."""
        return {s: len(u) for s, u in self.splits.items()}

    @property
    def total(self) -> int:
        return sum(len(u) for u in self.splits.values())

    def left_out(self) -> Counter:
        """Reason → samples left out (only reasons that occur), in :data:`LEFT_OUT` order."""
        c = Counter(s for s in self.status.values() if s != SHIPS)
        return Counter({r: c[r] for r in LEFT_OUT if c[r]})


def previous_publish(db: sqlite_utils.Database, repo_id: str = "") -> dict | None:
    """The publish a new one is compared with: the latest Hub publish to ``repo_id``, or with no
    repo id the latest publish of any kind; ``None`` if there is none.

    Returns:
        ``{"id", "target", "repo_id", "revision", "record_hash", "format", "created_at", "tag",
        "version", "total", "row_hashes" (uid → hash, may be empty)}``.
    """
    if repo_id:
        rows = list(db.query("SELECT * FROM publishes WHERE target = 'hub' AND repo_id = ? ORDER BY id DESC LIMIT 1", [repo_id]))
    else:
        rows = list(db.query("SELECT * FROM publishes ORDER BY id DESC LIMIT 1"))
    return _publish_info(rows[0]) if rows else None


def _publish_info(row: dict, *, hashes: bool = True) -> dict:
    """A ``publishes`` row with its ``counts`` JSON unpacked (seed 001's rows held only ``{split: n}``)."""
    info = loads(row.get("counts"), {}) or {}
    splits = info.get("splits", {k: v for k, v in info.items() if isinstance(v, int)})  # seed 001 rows: {split: n}
    return {
        "id": row["id"], "target": row["target"], "repo_id": row["repo_id"], "revision": row["revision"],
        "record_hash": row["record_hash"], "format": row["format"], "created_at": row["created_at"],
        "tag": info.get("tag"), "version": info.get("version"), "splits": splits, "total": sum(splits.values()),
        **({"row_hashes": info.get("row_hashes") or {}} if hashes else {}),
    }


def publish_history(db: sqlite_utils.Database, repo_id: str | None = None) -> list[dict]:
    """Every recorded publish, newest first (only Hub publishes to ``repo_id`` when given):
    ``[{"id", "target", "repo_id", "tag", "revision", "format", "total", "splits", "record_hash",
    "created_at", "operator"}]``."""
    cols = "id, target, repo_id, revision, record_hash, format, created_at, operator, json_remove(counts, '$.row_hashes') AS counts"
    sql = f"SELECT {cols} FROM publishes" + (" WHERE target = 'hub' AND repo_id = ?" if repo_id else "") + " ORDER BY id DESC"
    return [{**_publish_info(r, hashes=False), "operator": r["operator"]} for r in db.query(sql, [repo_id] if repo_id else [])]


def _next_version(db: sqlite_utils.Database, repo_id: str) -> int | None:
    if not repo_id:
        return None
    return db.execute("SELECT COUNT(*) FROM publishes WHERE target = 'hub' AND repo_id = ?", [repo_id]).fetchone()[0] + 1


def _diff(db: sqlite_utils.Database, base: dict | None, splits: dict[str, list[str]], row_hashes: dict[str, str],
          status: dict[str, str], selected: set[str] | None) -> Diff:
    now_uids = {u for us in splits.values() for u in us}
    if base is None:
        return Diff(added=sorted(now_uids))
    before = {u for (u,) in db.execute("SELECT uid FROM publish_items WHERE publish_id = ?", [base["id"]])}
    old = base.get("row_hashes") or {}
    removed = sorted(before - now_uids)
    reasons = {}
    for u in removed:
        if u in status:
            reasons[u] = status[u]
        elif selected is not None and u not in selected:
            reasons[u] = "not_selected"
        else:
            reasons[u] = "deleted"
    changed = sorted(u for u in now_uids & before if old and old.get(u) != row_hashes[u])
    info = {k: base[k] for k in ("id", "target", "repo_id", "tag", "revision", "created_at", "format", "total")}
    return Diff(base=info, added=sorted(now_uids - before), removed=removed, changed=changed,
                removed_reasons=reasons, exact=bool(old) or not (now_uids & before))


PARALLEL_MIN_ROWS = 20_000
"""Exports of at least this many rows write their shards in worker processes (one per core)."""

PREVIEW_ROWS = 20


@dataclass
class _ShardTask:
    """One parquet shard to write (or, without ``folder``, only to hash): plain data, picklable."""

    db_path: str
    fmt: str
    split: str
    index: int
    n_shards: int
    states: list[_State]
    folder: str | None
    preview: int


@dataclass
class _ShardResult:
    digests: list[str]  # aligned with the task's states
    preview: list[dict]
    float_drift: list[str]
    file: str | None


def _preview_row(split: str, d: Dialogue, edited: bool) -> dict:
    first_user = next((t.content for t in d.turns if t.role == "user"), "")
    return {"uid": d.uid, "split": split, "category": d.category, "turns": len(d.turns),
            "tool_calls": len(d.tool_calls()), "edited": edited, "first_user_turn": first_user[:80]}


def _run_shard(task: _ShardTask, db: sqlite_utils.Database | None = None) -> _ShardResult:
    """Hash the task's records and, with a folder, render and write them as one parquet shard.

    The same function runs in-process and in worker processes (then opening its own connection).
    """
    if db is None:
        from ..store import connect

        db = connect(task.db_path)
    digests, preview, drift = [], [], []
    if task.folder is None:  # hash only (what the Publish page needs); render just the preview rows
        by_uid = {st.uid: st for st in task.states}
        for uid, _, text in _fetch(db, [st.uid for st in task.states]):
            digests.append(_digest(task.fmt, by_uid[uid], text))
        for st, d, _, _ in _dialogues(db, task.states[: task.preview]):
            preview.append(_preview_row(task.split, d, st.revision_id is not None))
        return _ShardResult(digests, preview, drift, None)
    import gc

    gc_enabled = gc.isenabled()
    gc.disable()  # ~40 objects per row and no cycles: the collector's passes cost a third of the time
    try:
        return _write_shard(task, db, digests, preview, drift)
    finally:
        if gc_enabled:
            gc.enable()


def _write_shard(task: _ShardTask, db: sqlite_utils.Database, digests: list, preview: list, drift: list) -> _ShardResult:
    import pyarrow as pa
    from datasets.arrow_writer import ParquetWriter

    rows: list[dict] = []
    tool_values: list[Any] = []  # distinct tools column values
    tool_index: dict[bytes, int] = {}  # shared tool list's key → index into tool_values
    tool_rows: list[int] = []
    for st, d, text, key in _dialogues(db, task.states):
        digests.append(_digest(task.fmt, st, text))
        k = tool_index.get(key) if key is not None else None
        if k is None:
            k = len(tool_values)
            tool_values.append(_tools_columns(d.tools, task.fmt))
            if key is not None:
                tool_index[key] = k
        row = to_row(d, task.fmt, job_id=st.job_id, _tools=tool_values[k])
        del row["tools"]
        rows.append(row)
        tool_rows.append(k)
        if len(preview) < task.preview:
            preview.append(_preview_row(task.split, d, st.revision_id is not None))
        if task.fmt == "openai" and any(_floats_drift(c.arguments) for _, c in d.tool_calls()):
            drift.append(d.uid)
    # The tools column is the same value for most rows: convert the distinct values once and let
    # Arrow repeat them (a per-row conversion of ~7 KB each was a third of the export time).
    storage = _storage_schema(task.fmt)
    pos = storage.get_field_index("tools")
    table = pa.Table.from_pylist(rows, schema=storage.remove(pos))
    distinct = pa.array(tool_values, type=storage.field("tools").type)
    table = table.add_column(pos, storage.field("tools"), distinct.take(pa.array(tool_rows, pa.int32())))
    feats = features(task.fmt)
    table = table.cast(feats.arrow_schema)
    del rows
    name = f"data/{task.split}-{task.index:05d}-of-{task.n_shards:05d}.parquet"
    writer = ParquetWriter(path=str(Path(task.folder) / name), features=feats)
    writer.write_table(table)
    writer.finalize()
    return _ShardResult(digests, preview, drift, name)


def _db_path(db: sqlite_utils.Database) -> str:
    return next(r[2] for r in db.execute("PRAGMA database_list") if r[1] == "main")


def _shard_tasks(db: sqlite_utils.Database, fmt: str, by_split: dict[str, list[_State]], folder: Path | None) -> list[_ShardTask]:
    """Split each split's records into ⌈n / SHARD_ROWS⌉ shards of near-equal size (order kept)."""
    tasks = []
    for split, states in by_split.items():
        n = max(1, math.ceil(len(states) / SHARD_ROWS))
        size = math.ceil(len(states) / n)
        for i in range(n):
            part = states[i * size : (i + 1) * size]
            tasks.append(_ShardTask(_db_path(db), fmt, split, i, n, part, str(folder) if folder else None,
                                    PREVIEW_ROWS if i == 0 else 0))
    return tasks


def _run_tasks(db: sqlite_utils.Database, tasks: list[_ShardTask]) -> list[_ShardResult]:
    """Run the shard tasks: in worker processes (one per core, :func:`_run_workers`) when writing at
    least :data:`PARALLEL_MIN_ROWS` rows in more than one shard, else in this process."""
    total = sum(len(t.states) for t in tasks)
    workers = min(os.cpu_count() or 1, len(tasks))
    if workers > 1 and total >= PARALLEL_MIN_ROWS and all(t.folder for t in tasks):
        return _run_workers(tasks, workers)
    return [_run_shard(t, db) for t in tasks]


def _run_workers(tasks: list[_ShardTask], workers: int) -> list[_ShardResult]:
    """Run the tasks in ``workers`` child processes (``python -m datagen.publish TASKS RESULTS``).

    Plain child processes rather than ``multiprocessing``: its ``spawn`` re-runs the caller's main
    script in each child (harmful in any script without a ``__main__`` guard) and ``fork`` copies open
    SQLite connections and Streamlit's threads. Tasks are balanced by row count; each child opens
    its own read connection.

    Raises:
        PublishError: a worker failed (its last error line is given).
    """
    import pickle
    import subprocess
    import sys
    import tempfile

    groups: list[list[int]] = [[] for _ in range(workers)]
    load = [0] * workers
    for i in sorted(range(len(tasks)), key=lambda i: -len(tasks[i].states)):
        w = load.index(min(load))
        groups[w].append(i)
        load[w] += len(tasks[i].states)
    paths = [str(Path(__file__).resolve().parents[2]), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths))
    results: list[_ShardResult | None] = [None] * len(tasks)
    with tempfile.TemporaryDirectory(prefix="datagen-publish-") as tmp:
        procs = []
        for w, group in enumerate(g for g in groups if g):
            src, dst = Path(tmp) / f"tasks-{w}.pkl", Path(tmp) / f"results-{w}.pkl"
            src.write_bytes(pickle.dumps([tasks[i] for i in group]))
            proc = subprocess.Popen([sys.executable, "-m", "datagen.publish", str(src), str(dst)], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            procs.append((group, dst, proc))
        for group, dst, proc in procs:
            _, err = proc.communicate()
            if proc.returncode != 0:
                lines = [line for line in err.decode("utf-8", "replace").splitlines() if line.strip()]
                raise PublishError(f"내보내기 작업 프로세스가 실패했습니다: {lines[-1] if lines else proc.returncode}")
            for i, res in zip(group, pickle.loads(dst.read_bytes())):
                results[i] = res
    return results  # type: ignore[return-value]


def prepare(
    db: sqlite_utils.Database,
    *,
    fmt: str = "qwen",
    repo_id: str = "",
    uids: set[str] | None = None,
    folder: str | Path | None = None,
) -> Release:
    """Build the release that would ship now; write the folder too when ``folder`` is given.

    Without a folder the records are only hashed (the stored text, see :func:`_digest`), not
    rendered: that is what the Publish page shows, and the card is the same either way.

    Args:
        fmt: ``qwen`` or ``openai`` (:data:`FORMATS`).
        repo_id: the Hub repo it is for (version number, diff base, card title); ``""`` = local export.
        uids: only these samples (``push_to_hub --input``); the rules still apply to each.
        folder: write ``data/{split}-{i:05d}-of-{n:05d}.parquet`` shards and ``README.md`` here
            (the folder is replaced).

    Returns:
        a :class:`Release` (shipped uids per split, left-out reasons, hashes, diff, card, files).

    Raises:
        PublishError: unknown format, or nothing ships (the message says why records are left out).
    """
    _check_format(fmt)
    states = _states(db)
    if uids is not None:
        states = [st for st in states if st.uid in uids]
    status = {st.uid: st.status for st in states}
    missing = sorted(uids - status.keys()) if uids is not None else []
    by_split: dict[str, list[_State]] = {}
    for st in states:
        if st.status == SHIPS:
            by_split.setdefault(st.split, []).append(st)
    if not by_split:
        left = Counter(status.values())
        why = ", ".join(f"{LEFT_OUT[r]} {left[r]}" for r in LEFT_OUT if left[r])
        if any(left[r] for r in _AFTER_ACCEPT):
            raise PublishError(f"게시할 레코드가 없습니다: 승인된 레코드가 모두 제외 규칙에 걸렸습니다 ({why}).")
        raise PublishError("승인된 레코드가 없습니다: 검토 화면에서 먼저 승인하세요." + (f" ({why})" if why else ""))
    by_split = dict(sorted(by_split.items(), key=lambda kv: kv[0] != "train"))  # train first
    out = Path(folder) if folder is not None else None
    if out is not None:
        if out.exists():
            shutil.rmtree(out)
        (out / "data").mkdir(parents=True)
    tasks = _shard_tasks(db, fmt, by_split, out)
    results = _run_tasks(db, tasks)
    row_hashes: dict[str, str] = {}
    full: list[str] = []
    preview: list[dict] = []
    drift: list[str] = []
    for task, res in zip(tasks, results):
        for st, digest in zip(task.states, res.digests):
            row_hashes[st.uid] = digest[:ROW_HASH_CHARS]
            full.append(f"{task.split}\t{st.uid}\t{digest}")
        preview += res.preview
        drift += res.float_drift
    if len(full) != sum(len(v) for v in by_split.values()):
        raise PublishError("게시 대상 일부를 읽지 못했습니다 (그사이 삭제됨). 다시 시도하세요.")
    full.sort()
    shipped = [st for v in by_split.values() for st in v]
    version = _next_version(db, repo_id)
    release = Release(
        fmt=fmt, repo_id=repo_id, selection=frozenset(uids) if uids is not None else None, status=status,
        missing=missing, splits={s: [st.uid for st in v] for s, v in by_split.items()},
        categories=Counter((st.split, st.category) for st in shipped), row_hashes=row_hashes,
        record_hash=hashlib.sha256("\n".join(full).encode()).hexdigest(), version=version,
        tag=f"v{version}" if version else None,
        diff=_diff(db, previous_publish(db, repo_id), {s: [st.uid for st in v] for s, v in by_split.items()}, row_hashes, status, uids),
        jobs=Counter(st.job_id for st in shipped), models=Counter(st.model or "unknown" for st in shipped),
        edited=sum(st.revision_id is not None for st in shipped), float_drift=drift, preview=preview,
        path=str(out) if out is not None else None, shards=sorted(r.file for r in results if r.file),
    )
    release.card = dataset_card(db, release)
    if out is not None:
        (out / "README.md").write_text(release.card, encoding="utf-8")
    return release


def write_release(db: sqlite_utils.Database, release: Release, folder: str | Path) -> Release:
    """Write a prepared release to ``folder`` (shards + the release's own card as README.md).

    The rows are read again; the folder is kept only if they still hash to
    ``release.record_hash`` — what was shown is what is written.

    Returns:
        the release, with ``path``, ``shards`` and ``float_drift`` set.

    Raises:
        PublishError: the records changed since the release was prepared.
    """
    selected = set(release.selection) if release.selection is not None else None
    fresh = prepare(db, fmt=release.fmt, repo_id=release.repo_id, uids=selected, folder=folder)
    if fresh.record_hash != release.record_hash:
        shutil.rmtree(folder, ignore_errors=True)
        raise PublishError("게시 대상이 바뀌었습니다 (그사이 검토 결과가 달라졌습니다). 화면을 다시 확인한 뒤 게시하세요.")
    (Path(folder) / "README.md").write_text(release.card, encoding="utf-8")
    release.path, release.shards, release.float_drift = fresh.path, fresh.shards, fresh.float_drift
    return release


# ----------------------------------------------------------------------------- the card


def _size_category(n: int) -> str:
    """Hugging Face ``size_categories`` bucket for ``n`` records."""
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return label
    return "1M<n<10M"


def _pct(a: float, b: float) -> str:
    return f"{100 * a / b:.1f}%" if b else "-"


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join("" if v is None else str(v).replace("|", "\\|").replace("\n", " ") for v in r) + " |" for r in rows]
    return out


def offline_rows(db: sqlite_utils.Database, release: Release) -> int:
    """Shipped rows whose job ran on the offline batch backend (scripted examples, not LLM output)."""
    job_ids = [j for j in release.jobs if j]
    if not job_ids:
        return 0
    offline = {j for (j,) in db.execute(
        f"SELECT id FROM jobs WHERE backend = 'offline' AND id IN ({','.join('?' * len(job_ids))})", job_ids)}
    return sum(n for j, n in release.jobs.items() if j in offline)


def _generator_section(db: sqlite_utils.Database, release: Release) -> list[str]:
    job_ids = [j for j in release.jobs if j]
    jobs = {}
    if job_ids:
        jobs = {r["id"]: r for r in db.query(f"SELECT * FROM jobs WHERE id IN ({','.join('?' * len(job_ids))})", job_ids)}
    lines = ["## 생성", "", "- 생성 모델: " + ", ".join(f"`{m}` ({n})" for m, n in sorted(release.models.items(), key=lambda kv: (-kv[1], kv[0])))]
    rows = []
    for job_id, n in sorted(release.jobs.items(), key=lambda kv: (kv[0] is None, kv[0] or "")):
        j = jobs.get(job_id) or {}
        params = loads(j.get("params"), {}) or {}
        rows.append([job_id or "(가져온 데이터)", j.get("kind"), j.get("model"), j.get("temperature"), j.get("seed"),
                     j.get("backend"), params.get("tools_version"), (j.get("created_at") or "")[:10], n])
    lines += ["- 도구 명세 버전(현재): " + str(config.TOOLS_VERSION), ""]
    lines += _table(["job", "kind", "model", "temperature", "seed", "backend", "tools_version", "생성일", "레코드"], rows)
    offline = offline_rows(db, release)
    if offline:
        lines += ["", f"> ⚠️ {offline}건은 오프라인 배치 백엔드가 만든 스크립트 예시입니다. LLM 출력이 아닙니다."]
    return lines + [""]


def _review_section(db: sqlite_utils.Database) -> list[str]:
    from .. import review

    n_annotators, n_decisions = db.execute(
        "SELECT COUNT(DISTINCT annotator), COUNT(*) FROM reviews WHERE decision IN ('accept', 'reject', 'skip')"
    ).fetchone()
    per = db.execute(
        "SELECT category, SUM(decision = 'accept'), SUM(decision = 'reject') FROM sample_state WHERE state = 'decided' "
        "GROUP BY category ORDER BY category"
    ).fetchall()
    acc = sum(a or 0 for _, a, _ in per)
    rej = sum(r or 0 for _, _, r in per)
    lines = ["## 검토", "",
             f"- 검토자 {n_annotators}명, 결정 {n_decisions}건 (되돌리기 반영 전 전체 기록)",
             f"- 확정: 승인 {acc}, 거절 {rej} → 승인율 {_pct(acc, acc + rej)}",
             f"- 골드(test) 샘플은 서로 다른 검토자 {review.GOLD_REQUIRED_VOTES}명의 일치하는 판정이 필요하며, 불일치는 조정자가 결정합니다.", ""]
    lines += _table(["category", "승인", "거절", "승인율"], [[c, a or 0, r or 0, _pct(a or 0, (a or 0) + (r or 0))] for c, a, r in per])
    agreement = review.agreement(db)
    lines += ["", "검토자 간 일치도 (골드, 첫 두 검토자, Cohen's κ):", ""]
    if agreement:
        lines += _table(["category", "쌍", "일치율 %", "κ"], [[a["category"], a["pairs"], a["percent"], a["kappa"]] for a in agreement])
    else:
        lines.append("- 두 명이 판정한 골드 샘플이 아직 없습니다.")
    return lines + [""]


def _checks_section(db: sqlite_utils.Database) -> list[str]:
    checked = db.execute(
        "SELECT COUNT(*) FROM sample_state WHERE checked_at IS NOT NULL OR uid IN (SELECT uid FROM findings)"
    ).fetchone()[0]
    lines = ["## 자동 검사", ""]
    if not checked:
        return lines + ["- 자동 검사 기록이 없습니다.", ""]
    clean = checked - db.execute("SELECT COUNT(DISTINCT uid) FROM findings WHERE severity = 'error'").fetchone()[0]
    titles = {k: v.title for k, v in CHECKS.items()} | {quality.JUDGE_CHECK: f"{quality.JUDGE_TITLE} (경고: 모델의 판정)"}
    per = db.execute("SELECT check_id, severity, COUNT(DISTINCT uid) FROM findings GROUP BY 1, 2 ORDER BY 2, 1").fetchall()
    lines += [f"- 검사한 샘플 {checked}건 중 오류 없는 샘플 {clean}건 ({_pct(clean, checked)})",
              "- 오류 수준 결과가 있는 샘플은 그 결과를 본 사람이 승인한 경우에만 게시됩니다.", ""]
    lines += _table(["check", "설명", "수준", "걸린 샘플", "통과율"],
                    [[c, titles.get(c, ""), s, n, _pct(checked - n, checked)] for c, s, n in per])
    return lines + [""]


def _decontamination_section(db: sqlite_utils.Database, release: Release) -> list[str]:
    lines = ["## 평가셋 오염 제거 (decontamination)", ""]
    lines.append(f"- 방법: 학습 샘플마다 골드(test) 항목의 사용자 턴 토큰 중 공유 n-gram으로 덮이는 비율을 계산 "
                 f"(Tülu 3 규칙: 단어 {quality.NGRAM_WORDS}-gram, 한국어 변형: 글자 {quality.NGRAM_CHARS}-gram); "
                 f"> {quality.EXCLUDE_ABOVE} 이면 제외, > {quality.FLAG_ABOVE} 이면 사람 확인 표시.")
    rows = db.execute(
        "SELECT method, band, COUNT(DISTINCT uid), COUNT(DISTINCT gold_uid) FROM contamination GROUP BY 1, 2 ORDER BY 1, 2"
    ).fetchall()
    if not rows:
        lines.append("- 결과: 저장된 겹침이 없습니다 (검사 전이거나 겹침 없음).")
    else:
        lines += [""] + _table(["method", "구간", "학습 샘플", "골드 항목"], [list(r) for r in rows])
    lines += ["", f"- 이번 게시에서 오염으로 제외된 승인 레코드: {release.left_out().get('decontaminated', 0)}건", ""]
    return lines


def _changelog_section(db: sqlite_utils.Database, release: Release) -> list[str]:
    diff = release.diff
    lines = ["## 변경 기록", ""]
    name = release.tag or "이번 내보내기"
    if diff.base is None:
        lines.append(f"- {name}: 첫 버전, 레코드 {release.total}건.")
    else:
        base = diff.base
        label = base["tag"] or f"게시 #{base['id']} ({base['target']})"
        reasons = Counter(diff.removed_reasons.values())
        why = ", ".join(f"{LEFT_OUT.get(r, {'not_selected': '선택 밖', 'deleted': '삭제됨'}.get(r, r))} {n}" for r, n in sorted(reasons.items()))
        changed = f"{len(diff.changed)}" if diff.exact else "알 수 없음 (이전 게시에 레코드별 해시 없음)"
        lines.append(f"- {name} ({label} 대비, {base['created_at'][:10]}, 레코드 {base['total']}건): "
                     f"추가 {len(diff.added)}, 제거 {len(diff.removed)}" + (f" ({why})" if why else "") + f", 변경 {changed}.")
        if base["format"] != release.fmt:
            lines.append(f"- 형식이 바뀌었습니다: {base['format']} → {release.fmt}.")
    history = publish_history(db, release.repo_id) if release.repo_id else []
    if history:
        lines += ["", "이전 버전:", ""]
        lines += _table(["tag", "날짜", "commit", "형식", "레코드", "레코드 집합 해시"],
                        [[h["tag"], (h["created_at"] or "")[:10], (h["revision"] or "")[:12], h["format"], h["total"], (h["record_hash"] or "")[:12]] for h in history])
    return lines + [""]


_USAGE = {
    "qwen": [
        "각 레코드는 seed 001 형식입니다: `uid`, `dates`, `system_prompt`, `messages`(`role`, `content`), "
        "`tools`(JSON 문자열). assistant의 도구 호출은 Qwen `<tool_call>` 태그, 도구 결과는 `<tool_response>` "
        "태그만 담은 user 턴입니다. 계보 열: `category`, `kind`, `custom_id`, `source`, `job_id`, `model`.",
        "",
        "```python",
        "import json",
        "from datasets import load_dataset",
        "",
        "ds = load_dataset(REPO_ID)",
        "row = ds[\"train\"][0]",
        "tools = json.loads(row[\"tools\"])",
        "```",
    ],
    "openai": [
        "각 레코드의 `messages`는 Hugging Face 채팅 템플릿이 받는 형태입니다: system 메시지가 맨 앞, assistant의 "
        "`tool_calls[].function.arguments`는 dict, 도구 결과는 role `tool`(`tool_call_id`, `name`). `tools`는 "
        "도구 명세(dict) 목록입니다. 계보 열: `dates`, `category`, `kind`, `custom_id`, `source`, `job_id`, `model`.",
        "",
        "```python",
        "from datasets import load_dataset",
        "from transformers import AutoTokenizer",
        "",
        "ds = load_dataset(REPO_ID)",
        "tok = AutoTokenizer.from_pretrained(\"Qwen/Qwen2.5-7B-Instruct\")",
        "row = ds[\"train\"][0]",
        "text = tok.apply_chat_template(row[\"messages\"], tools=row[\"tools\"], tokenize=False)",
        "```",
        "",
        "`arguments`와 `tools`는 `datasets.Json` 열입니다. `datasets`는 이 열을 pandas ujson으로 디코딩하므로 "
        "일부 실수 값의 마지막 자리가 달라질 수 있습니다(예: 0.6 → 0.6000000000000001). 정확한 값이 필요하면 "
        "`ds.with_format(\"arrow\")`로 JSON 원문을 읽으세요.",
    ],
}


def dataset_card(db: sqlite_utils.Database, release: Release) -> str:
    """The README.md of a release: YAML front matter (language ko, license, task categories, size
    category, ``configs`` with one ``data_files`` entry per split) and a Korean body: version and
    counts per split and category, generator models and job settings, review statistics
    (annotators, accept rate, gold agreement), check pass rates, decontamination method and result,
    what was left out and why, the change log since the previous version, the format and how to load it;
    how many rows a person approved and how many an audited lot did, with each lot's audit figures
    (:func:`datagen.audit.card_section`).

    Deterministic for a given database state and release (no clock reads), so the card shown on
    the Publish page is byte for byte the card pushed.
    """
    title = release.repo_id or "배달 앱 함수 호출 대화 데이터셋"
    yaml = ["---", "language:", "- ko", f"license: {LICENSE}", f"pretty_name: {json.dumps(title, ensure_ascii=False)}",
            "task_categories:", "- text-generation", "tags:", "- function-calling", "- tool-use", "- synthetic", "- korean",
            "size_categories:", f"- {_size_category(release.total)}", "configs:", "- config_name: default", "  data_files:"]
    for split in release.splits:
        yaml += [f"  - split: {split}", f"    path: data/{split}-*"]
    yaml.append("---")
    counts = ", ".join(f"{s} {n}" for s, n in release.counts.items())
    body = [
        "", f"# {title}", "",
        "배달 앱 상담 에이전트를 위한 한국어 멀티턴 함수 호출(function calling) 대화입니다. 생성 후 자동 검사와 "
        "사람의 검토를 거쳐 **승인(accept)된 레코드만** 담았습니다. `train`은 학습용, `test`는 평가용 골드 세트입니다.",
        "",
        f"- 버전: {release.tag or '로컬 내보내기'}",
        f"- 형식: `{release.fmt}`",
        f"- 레코드: {release.total} ({counts})",
        f"- 검토자가 수정한 레코드: {release.edited}건 (수정본으로 게시)",
        f"- 레코드 집합 해시 (sha256): `{release.record_hash}`",
        "",
        "## 카테고리별 개수", "",
        *_table(["split", "category", "count"], [[s, c, n] for (s, c), n in sorted(release.categories.items())]),
        "",
        *_generator_section(db, release),
        *_review_section(db),
        *audit.card_section(db, {uid for us in release.splits.values() for uid in us}),
        *_checks_section(db),
        *_decontamination_section(db, release),
        "## 제외된 레코드", "",
    ]
    left = release.left_out()
    body += _table(["이유", "건수"], [[f"{LEFT_OUT[r]} (`{r}`)", n] for r, n in left.items()]) if left else ["- 없음"]
    body += ["", *_changelog_section(db, release), "## 형식과 사용법", ""]
    body += [line.replace("REPO_ID", json.dumps(release.repo_id or "path/to/folder")) for line in _USAGE[release.fmt]]
    return "\n".join(yaml + body).strip()  # no trailing newline: the page's st.code shows it byte for byte


# ----------------------------------------------------------------------------- local export and Hub


def default_export_dir() -> Path:
    """``<output dir>/export``."""
    return settings.output_dir() / "export"


def export_local(
    db: sqlite_utils.Database,
    folder: str | Path | None = None,
    *,
    fmt: str = "qwen",
    repo_id: str = "",
    uids: set[str] | None = None,
) -> Release:
    """Write the dataset folder (``data/{split}-{i:05d}-of-{n:05d}.parquet`` + ``README.md``); it loads
    with ``datasets.load_dataset(folder)`` and is exactly what :func:`publish_to_hub` uploads.

    Args:
        folder: target folder, replaced if it exists (default ``<output dir>/export``).

    Raises:
        PublishError: unknown format or nothing ships.
    """
    return prepare(db, fmt=fmt, repo_id=repo_id, uids=uids, folder=folder or default_export_dir())


def _record_publish(db: sqlite_utils.Database, release: Release, *, target: str, revision: str, operator: str) -> int:
    """Append the ``publishes`` row and one ``publish_items`` row per shipped record; returns the id.

    ``publishes.counts`` (JSON): ``{"splits": {split: n}, "tag", "version", "left_out": {reason: n},
    "row_hashes": {uid: hash}}`` — the row hashes let the next publish tell changed records.
    """
    counts = {"splits": release.counts, "tag": release.tag if target == "hub" else None,
              "version": release.version if target == "hub" else None, "left_out": dict(release.left_out()),
              "row_hashes": release.row_hashes}
    with write_transaction(db):
        pid = db["publishes"].insert(
            {"target": target, "repo_id": release.repo_id, "revision": revision, "record_hash": release.record_hash,
             "format": release.fmt, "counts": dumps(counts), "card": release.card, "path": release.path,
             "created_at": now(), "operator": operator}
        ).last_pk
        db.conn.executemany(
            "INSERT INTO publish_items (publish_id, uid, split) VALUES (?, ?, ?)",
            ((pid, uid, split) for split, us in release.splits.items() for uid in us),
        )
    return pid


def export_and_record(
    db: sqlite_utils.Database,
    folder: str | Path | None = None,
    *,
    fmt: str = "qwen",
    operator: str = "local",
    uids: set[str] | None = None,
    repo_id: str = "",
    release: Release | None = None,
) -> Release:
    """:func:`export_local` (or :func:`write_release` of a prepared ``release``) and record it as a
    ``local`` publish; returns the release with ``publish_id``.

    Raises:
        PublishError: unknown format, nothing ships, or the records changed since ``release``.
    """
    folder = folder or default_export_dir()
    if release is not None:
        release = write_release(db, release, folder)
    else:
        release = export_local(db, folder, fmt=fmt, repo_id=repo_id, uids=uids)
    release.publish_id = _record_publish(db, release, target="local", revision="", operator=operator)
    return release


class HubBoundary(Protocol):
    """What publishing needs from the Hub; tests pass a fake."""

    def upload(self, folder: Path, *, repo_id: str, token: str, private: bool, commit_message: str) -> str:
        """Create the dataset repo if needed (``private`` on creation), make the repo's files equal
        the folder's (stale shards removed), return the commit id (revision)."""
        ...

    def tag(self, repo_id: str, *, tag: str, revision: str, token: str, message: str) -> None:
        """Tag ``revision`` of the dataset repo as ``tag``."""
        ...


class HuggingFaceHub:
    """:class:`HubBoundary` over ``huggingface_hub.HfApi`` (create_repo, upload_folder, create_tag).

    ``upload_folder`` deletes remote ``data/*`` files the folder no longer has (a release with fewer
    shards must not leave old ones behind for ``data/{split}-*`` to pick up) and skips the commit when
    nothing changed (the head revision is returned then).
    """

    def upload(self, folder: Path, *, repo_id: str, token: str, private: bool, commit_message: str) -> str:
        from huggingface_hub import HfApi

        api = HfApi(token=token)
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        info = api.upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type="dataset",
                                 commit_message=commit_message, delete_patterns=["data/*"])
        return getattr(info, "oid", None) or str(info)

    def tag(self, repo_id: str, *, tag: str, revision: str, token: str, message: str) -> None:
        from huggingface_hub import HfApi

        HfApi(token=token).create_tag(repo_id, tag=tag, tag_message=message, revision=revision, repo_type="dataset")


def default_hub() -> HubBoundary:
    """The Hub boundary pages and the CLI use (tests monkeypatch this factory)."""
    return HuggingFaceHub()


def _scrub(exc: BaseException, token: str) -> str:
    """One line naming the error, the token masked."""
    text = str(exc).replace(token, "***") if token else str(exc)
    first = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {first[:200]}" if first else type(exc).__name__


def check_repo_id(repo_id: str) -> str:
    """``repo_id`` stripped, if it is ``owner/name`` (letters, digits, ``-``, ``_``, ``.``).

    Raises:
        PublishError: not of that shape.
    """
    repo_id = (repo_id or "").strip()
    if not _REPO_ID.match(repo_id):
        raise PublishError(f"저장소 ID는 'owner/name' 형식이어야 합니다: {repo_id!r}")
    return repo_id


def publish_to_hub(
    db: sqlite_utils.Database,
    repo_id: str,
    *,
    token: str | None = None,
    hub: HubBoundary | None = None,
    private: bool = True,
    fmt: str = "qwen",
    operator: str = "local",
    folder: str | Path | None = None,
    uids: set[str] | None = None,
    release: Release | None = None,
    expect_hash: str | None = None,
) -> Release:
    """Push the records that ship to a Hub dataset repo (private when it is created), tag the
    version ``v{n}`` and record the publish.

    Publishing the record set that was last pushed to the same repo again uploads nothing and
    records nothing: the release comes back with ``skipped=True`` and the earlier publish's
    ``revision``, ``tag`` and ``publish_id``.

    Args:
        repo_id: ``owner/name``.
        token: Hugging Face token; default ``HF_TOKEN`` from the environment. Never stored or logged.
        hub: the Hub boundary (default :func:`default_hub`).
        operator: who publishes (recorded; must hold the ``publisher`` role when roles are in force).
        folder: the local folder written and uploaded (default ``<output dir>/hub/<owner>__<name>``).
        uids: only these samples (``--input``).
        release: a release prepared for this repo (the Publish page pushes what it shows); else one is
            prepared now.
        expect_hash: refuse unless the record set hashes to this (what the person saw).

    Returns:
        the release with ``revision``, ``tag``, ``publish_id``, ``path`` (and ``tag_error`` when the
        commit went through but tagging failed).

    Raises:
        auth.PermissionDenied: roles are in force and ``operator`` is not a publisher.
        PublishError: bad repo id, unknown format, nothing ships, the record set is not the one
            expected, no token, or the Hub refused / could not be reached (the local folder is kept
            and its path given in the message).
    """
    auth.require(db, operator, "publisher")
    repo_id = check_repo_id(repo_id)
    if release is None:
        release = prepare(db, fmt=fmt, repo_id=repo_id, uids=uids)
    elif release.repo_id != repo_id:
        raise PublishError(f"준비된 게시본은 {release.repo_id or '로컬 내보내기'}용입니다: {repo_id}에 올리려면 다시 준비하세요.")
    if expect_hash and release.record_hash != expect_hash:
        raise PublishError("게시 대상이 바뀌었습니다 (그사이 검토 결과가 달라졌습니다). 화면을 다시 확인한 뒤 게시하세요.")
    last = previous_publish(db, repo_id)
    if last and last["record_hash"] == release.record_hash:
        release.skipped, release.revision, release.tag, release.publish_id = True, last["revision"], last["tag"], last["id"]
        log.info("publish %s: the record set %s was pushed last (%s): no new commit", repo_id, release.record_hash[:12], last["tag"])
        return release
    token = token or settings.hf_token()
    folder = Path(folder or settings.output_dir() / "hub" / repo_id.replace("/", "__"))
    write_release(db, release, folder)
    if not token:
        raise PublishError(f"HF_TOKEN이 설정되지 않아 허브에 올리지 못했습니다. 로컬 내보내기는 {folder}에 있습니다.")
    hub = hub or default_hub()
    message = f"datagen {release.tag}: {release.total} records ({release.fmt}), set {release.record_hash[:12]}"
    try:
        revision = hub.upload(folder, repo_id=repo_id, token=token, private=private, commit_message=message)
    except Exception as exc:  # the Hub client raises many types (HTTP, connection, auth)
        raise PublishError(f"허브에 올리지 못했습니다 ({_scrub(exc, token)}). 로컬 내보내기는 {folder}에 있습니다.") from None
    release.revision = revision
    try:
        hub.tag(repo_id, tag=release.tag, revision=revision, token=token, message=message)
    except Exception as exc:  # the commit exists: record it, say the tag is missing
        release.tag_error = f"태그 {release.tag}를 만들지 못했습니다 ({_scrub(exc, token)})."
        log.warning("publish %s: commit %s made, tag %s failed: %s", repo_id, revision, release.tag, _scrub(exc, token))
    log.info("publish %s: %d records (%s) as %s, commit %s", repo_id, release.total, release.fmt, release.tag, revision)
    release.publish_id = _record_publish(db, release, target="hub", revision=revision, operator=operator)
    return release


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


def _worker_main(argv: list[str]) -> int:
    """Child process of :func:`_run_workers`: run the pickled shard tasks, pickle the results."""
    import pickle

    tasks = pickle.loads(Path(argv[0]).read_bytes())
    Path(argv[1]).write_bytes(pickle.dumps([_run_shard(t) for t in tasks]))
    return 0

