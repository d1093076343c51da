"""Turning stored raw lines into Dialogues: batch output (preprocess) and files made elsewhere (import).

Every line is first stored verbatim in ``raw_results`` (:func:`store.insert_raw_lines`), then parsed
once here. A line that is not a dialogue is marked ``failed`` with a one-line reason and counted:
nothing is skipped silently (ARCHITECTURE.md, "Post-mortems": the original regex parser dropped samples
without a trace).

Accepted shapes, per line:

- a Batch API output line ``{"custom_id", "response": {"status_code", "body"}, "error"}`` whose body
  is a ``chat.completion`` answering with the generator schema (or a JSON ``{"messages": [...]}``);
  HTTP errors, ``error`` objects (expired, cancelled), refusals, ``finish_reason: "length"``, plain
  chat answers and other bodies (``/v1/responses``) are failures with a reason;
- a seed 001 ``dataset.jsonl`` record (Qwen tags in content; its ``uid`` is the customer's id,
  kept as ``user_id``: :func:`_imported_record`);
- an OpenAI / Hugging Face messages record ``{"messages": [...], "tools": [...]}``, or a bare
  messages array ``[{"role", "content"}, …]``;
- a function-calling benchmark record (``turns`` of ``query`` + ``ground_truth``, or one
  ``query`` / ``input_messages`` + ``ground_truth``: :func:`_benchmark_messages`);
- a bare generator answer ``{"turns": [...]}``.

A ``.json`` file (or any file whose first line is a lone ``[`` or ``{``) is one JSON document:
one dialogue, or an array of them, each element stored and parsed like a line (:func:`_read_document`).
"""

from __future__ import annotations

import codecs
import gc
import hashlib
import json
import logging
import math
import operator
import re
import sqlite3
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import Any

import orjson
import sqlite_utils

from . import config, jobs, judge
from .dialogue import (
    Dialogue,
    FormatError,
    content_hash_of,
    from_generator_output,
    from_messages,
    from_seed_record,
    new_uid,
    to_seed_record,
)
from .errors import InputError, MissingFileError
from .fastjson import loads as fast_loads
from .quality import check_record, closing_check, new_check_stats, store_check_results
from .store import (
    STATE_INSERT_SQL,
    dumps,
    index_for_search,
    insert_raw_lines,
    insert_values,
    now,
    search_text,
    tools_hash,
    write_transaction,
)

MAX_REPORTED_ERRORS = 100
log = logging.getLogger(__name__)
JUDGED = "judged"
"""Marks a :func:`prepare` result that is a judge's verdict (stored by :func:`datagen.judge.store_verdicts`)."""


def _body_error(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("message") or body["error"].get("code") or "오류")
    return "오류 메시지 없음"


def batch_line_content(obj: dict) -> tuple[str, dict]:
    """``(message content, response body)`` of one Batch API output line that answered a
    chat.completions request with text (a dialogue, or a judge's verdict: :mod:`datagen.judge`).

    Raises:
        FormatError: the reason it did not: HTTP error, ``error`` object (expired, cancelled),
            another body (``/v1/responses``), refusal, ``finish_reason: "length"``, no text.
    """
    resp = obj.get("response")
    err = obj.get("error")
    if not isinstance(resp, dict):
        if isinstance(err, dict):
            raise FormatError(f"배치 오류 {err.get('code') or ''}: {err.get('message') or '메시지 없음'}".strip())
        raise FormatError("배치 줄에 response도 error도 없습니다")
    status = resp.get("status_code")
    body = resp.get("body")
    if status != 200:
        raise FormatError(f"HTTP {status} 오류: {_body_error(body)}")
    if not isinstance(body, dict):
        raise FormatError("응답 body가 객체가 아닙니다")
    if body.get("object") == "response" or ("output" in body and "choices" not in body):
        raise FormatError("지원하지 않는 body: /v1/responses 응답(object=response)입니다; chat.completion이어야 합니다")
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices:
        raise FormatError(f"지원하지 않는 body (object={body.get('object')!r}): choices가 없습니다")
    choice = choices[0] or {}
    msg = choice.get("message") or {}
    if msg.get("refusal"):
        raise FormatError(f"모델이 거부했습니다: {str(msg['refusal'])[:120]}")
    if choice.get("finish_reason") == "length":
        raise FormatError("토큰 한도에서 응답이 잘렸습니다 (finish_reason=length)")
    content = msg.get("content")
    if not content:
        if msg.get("tool_calls"):
            raise FormatError("대화가 아니라 어시스턴트의 도구 호출 하나입니다")
        raise FormatError("빈 응답입니다")
    return content, body


def _batch_line_dialogue(obj: dict, request: dict | None) -> tuple[Dialogue, dict | None]:
    """Dialogue and usage of one Batch API output line; raises FormatError with the reason."""
    content, body = batch_line_content(obj)
    fields = _request_fields(obj.get("custom_id"), request)
    fields["model"] = body.get("model")
    try:
        data = fast_loads(content)
    except json.JSONDecodeError:
        preview = " ".join(str(content).split())[:60]
        raise FormatError(f"대화가 아닌 일반 채팅 응답입니다: {preview!r}") from None
    if isinstance(data, dict) and "turns" in data:
        d = from_generator_output(data, tools=config.TOOLS, **fields)
    elif isinstance(data, dict) and "messages" in data:
        d = from_seed_record(data, **fields)
    else:
        raise FormatError("JSON 응답이 대화가 아닙니다 ('turns'도 'messages'도 없음)")
    return d, body.get("usage")


def _request_fields(custom_id: str | None, request: dict | None) -> dict:
    """Dialogue fields known from the request (scenario) or, failing that, from the custom_id."""
    fields: dict[str, Any] = {"custom_id": custom_id}
    scenario = fast_loads(request["scenario"]) if request and request["scenario"] else {}
    parsed = jobs.parse_custom_id(custom_id or "")
    if request:
        fields.update(kind=request["kind"], category=request["category"])
    elif parsed:
        fields.update(kind=parsed[0], category=parsed[1])
    if scenario:
        fields.update(system_prompt=scenario.get("system_prompt", ""), dates=scenario.get("date", ""))
    return fields


def parse_record(obj: Any, request: dict | None = None) -> tuple[Dialogue, dict | None]:
    """Parse one decoded line of any accepted shape (module docstring) into ``(Dialogue, usage)``.

    Raises:
        FormatError: the reason the line is not a dialogue.
    """
    if isinstance(obj, list):
        if obj and all(isinstance(m, dict) and "role" in m for m in obj):
            return from_messages(obj), None
        raise FormatError("줄이 JSON 목록입니다: 객체도, 'role'이 있는 객체들의 messages 배열도 아닙니다")
    if not isinstance(obj, dict):
        raise FormatError(f"줄이 JSON {type(obj).__name__}입니다: 객체가 아닙니다")
    if "custom_id" in obj and ("response" in obj or "error" in obj):
        return _batch_line_dialogue(obj, request)
    if "custom_id" in obj and "body" in obj and "method" in obj:
        raise FormatError("출력 줄이 아니라 배치 요청 줄(입력)입니다")
    if "messages" in obj:
        return _imported_record(obj), None
    bench = _benchmark_messages(obj)
    if bench is not None:
        messages, tools = bench
        return from_messages(messages, tools=tools), None
    if "turns" in obj:
        return from_generator_output(obj, tools=config.TOOLS), None
    keys = ", ".join(sorted(map(str, obj))[:8]) or "없음"
    raise FormatError(f"알 수 없는 레코드 모양 (키: {keys})")


def _imported_record(obj: dict) -> Dialogue:
    """A seed 001 / messages record from a file: whose ``uid`` is it?

    Seed 001's ``uid`` is the logged-in customer's id, drawn from a small pool (seed 001
    ``config.py`` ``USER_IDS``; the pipeline's own 53-dialogue ``dataset.jsonl`` repeats 10 of them),
    so it cannot be the sample's identity: it is kept as :attr:`Dialogue.user_id` and the sample
    gets a new uid (the raw line is the unit of idempotency: a stored line is parsed once). A record
    this product exported itself (:func:`datagen.dialogue.to_seed_record` always writes the key
    ``custom_id``) keeps its ``uid`` as the sample uid, so re-importing an export finds its samples.
    """
    d = from_seed_record(obj)
    if "custom_id" not in obj and obj.get("uid") is not None:
        d.user_id, d.uid = d.uid, new_uid()
    return d


def _benchmark_messages(obj: dict) -> tuple[list, Any] | None:
    """``(messages, tools)`` of a function-calling benchmark record, or None for other shapes.

    Layouts (kakao/FunctionChat-Bench, Apache-2.0; the same keys in other evaluation sets):

    - dialog: ``{"tools", "turns": [{"query": [messages so far], "ground_truth": message}, …]}``:
      each turn's ``query`` is the whole history up to it, so the dialogue is the last turn's
      ``query`` followed by its ``ground_truth``;
    - one turn: ``{"tools", "query": [messages], "ground_truth": message}``, or
      ``{"input_messages", "input_tools", "ground_truth"}``.

    Raises:
        FormatError: a benchmark record that is not one dialogue: ``query`` items without roles
            (a list of single-turn query variants, e.g. FunctionChat-Singlecall), or a
            ``ground_truth`` that is not one message.
    """
    turns = obj.get("turns")
    if isinstance(turns, list) and turns and all(isinstance(t, dict) and "query" in t for t in turns):
        last, tools = turns[-1], obj.get("tools")
    elif "ground_truth" in obj and isinstance(obj.get("query"), list):
        last, tools = obj, obj.get("tools")
    elif "ground_truth" in obj and isinstance(obj.get("input_messages"), list):
        last, tools = {"query": obj["input_messages"], "ground_truth": obj["ground_truth"]}, obj.get("input_tools", obj.get("tools"))
    else:
        return None
    query, truth = last.get("query"), last.get("ground_truth")
    if not isinstance(query, list) or not all(isinstance(m, dict) and "role" in m for m in query):
        n = len(query) if isinstance(query, list) else 0
        raise FormatError(f"역할 없는 query 변형 {n}개로 된 벤치마크 레코드 (FunctionChat-Singlecall 같은 단일 턴 항목): 대화 하나가 아닙니다")
    if truth is None:
        return list(query), tools
    if not isinstance(truth, dict) or "role" not in truth:
        raise FormatError("벤치마크 레코드의 ground_truth가 'role'이 있는 메시지 하나가 아닙니다")
    return [*query, truth], tools


CHUNK = 2000
"""Raw lines per read / parse / write transaction. Fewer, larger write transactions write fewer
pages twice (an index page a commit left half full is written again by the next): 2,000 instead of
1,000 took 7% off the writer's CPU on 100,000 lines, and the ingest's peak memory went from 298 to
395 MB (the target is 500 MB; BENCHMARKS.md, "Raw lines as bytes")."""

PARALLEL_FROM = 5_000
"""New lines from which parsing and checking run in 2 worker processes (:func:`pools.worker_pool`;
the machine this is built for has 2 cores: ARCHITECTURE.md, "Facts"). The main process then only reads and
writes SQLite, writing chunk k while the workers prepare chunk k+1 (``benchmarks/bench_ingest.py``)."""

PIPELINE_DEPTH = 2
"""Chunks the workers may be ahead of the writer: with 2 the workers have the next chunk queued
while the writer stores one, so neither waits on the other's slow chunks."""

_TOOLSETS: list[tuple[list, str, str, list]] = []  # per process: (a dialogue's tools, JSON, hash, parsed)
_TOOLSETS_BY_JSON: dict[str, tuple[str, list]] = {}  # per process: tools JSON → (hash, parsed list)
_TOOLS_SENT: dict[str, set[str]] = {}  # per process: ingest key → toolset hashes handed to that ingest's writer


def _same_objects(tools: list, ref: list) -> bool:
    """``tools`` holds specs made of the very objects of ``ref``'s (pydantic copies the list and
    each spec's top-level dict, not the values): then both serialise to the same JSON. (Keys in
    another order compare unequal: a needless re-serialisation, never a wrong answer.)"""
    is_ = operator.is_
    return len(tools) == len(ref) and all(
        type(a) is dict and type(b) is dict and list(a) == list(b) and all(map(is_, a.values(), b.values())) for a, b in zip(tools, ref)
    )


def _finite(value: Any) -> bool:
    """No NaN or infinite float anywhere in ``value`` (JSON data: dicts, lists, scalars)."""
    if type(value) is float:
        return math.isfinite(value)
    if type(value) is dict:
        return all(map(_finite, value.values()))
    if type(value) is list:
        return all(map(_finite, value))
    return True


def _serialised(d: Dialogue) -> tuple[bytes, dict]:
    """``(stored, value)``: ``stored = d.model_dump_json(exclude={"tools"})`` as UTF-8 bytes and
    ``value = json.loads(stored)``, what the checks read, both built from the model.

    ``value`` is ``model_dump`` (~2.5× faster than parsing) and ``stored`` is orjson's text of it
    (~2× faster than pydantic's serialiser): the same text for every value a Dialogue holds
    (strings, 64-bit integers, finite floats: tests/test_ingest_scale.py compares them on
    generated dialogues). What orjson refuses (an integer beyond 64 bits) is serialised by pydantic.
    JSON writes NaN and infinities as ``null``; a dialogue whose call arguments (the only numbers a
    Dialogue holds) have one is serialised by pydantic and parsed back, so the checks always read
    what is stored. Bytes, not text: they go to the writer as they are (pickled without encoding,
    unpickled without decoding) and are stored as text by ``CAST(? AS TEXT)``, ~17 µs a line less
    than text (BENCHMARKS.md, "Ingest without statement journals")."""
    if all(_finite(c.arguments) for t in d.turns for c in t.tool_calls):
        value = d.model_dump(exclude={"tools"})
        try:
            return orjson.dumps(value), value
        except TypeError:  # orjson.JSONEncodeError: beyond 64 bits
            return d.model_dump_json(exclude={"tools"}).encode("utf-8"), value
    stored = d.model_dump_json(exclude={"tools"}).encode("utf-8")
    return stored, fast_loads(stored)


def _stored_form(d: Dialogue, sent: set[str]) -> tuple[bytes, str, str | None, list, dict]:
    """``(stored JSON without tools as UTF-8, toolset hash, tools JSON or None, tools as a shared
    list, stored JSON decoded)``.

    ``stored JSON`` is ``store.split_tools(d.model_dump_json(), tools JSON)`` (the one stored-format
    cut; tests/test_ingest_scale.py pins the equality), serialised without the tools instead of
    cut, so the ~7 KB list is not written out for every line (:func:`_serialised`);
    :func:`store.join_tools` gives back ``d.model_dump_json()``. A dialogue whose tools are made of
    the same objects as one seen before (every batch line gets ``config.TOOLS``) reuses that JSON;
    others are serialised and looked up by text. The tools JSON is returned only the first time
    this process meets the list in this ingest (``sent``: hashes returned before; the writer stores
    each list once); the parsed list is shared by every dialogue with the same tools, so the checks
    build their compiled tool table once (``checks.core.tool_table``)."""
    for ref, tools_json, digest, parsed in _TOOLSETS:
        if _same_objects(d.tools, ref):
            break
    else:
        tools_json = d.tools_json()
        if len(_TOOLSETS_BY_JSON) >= 64:
            _TOOLSETS.clear()
            _TOOLSETS_BY_JSON.clear()
        if tools_json not in _TOOLSETS_BY_JSON:
            _TOOLSETS_BY_JSON[tools_json] = (tools_hash(tools_json), json.loads(tools_json))
        digest, parsed = _TOOLSETS_BY_JSON[tools_json]
        if len(_TOOLSETS) < 16:
            _TOOLSETS.append((d.tools, tools_json, digest, parsed))
    stored, value = _serialised(d)
    first = digest not in sent
    sent.add(digest)
    return stored, digest, tools_json if first else None, parsed, value


def poison_reason(exc: BaseException) -> str:
    """One line saying why a line that is valid text could still not be parsed or stored (issue 14:
    such a line used to abort the whole ingest). The limits named are Python's own: integers of
    more than 4,300 digits cannot be converted to or from text (``sys.int_info.default_max_str_digits``),
    and nesting deeper than the interpreter's recursion limit cannot be decoded by ``json``."""
    text = str(exc)
    if isinstance(exc, RecursionError) or "recursion" in text.lower():
        return "JSON이 너무 깊이 중첩되어 읽을 수 없습니다 (Python의 재귀 한도보다 깊음)"
    if "surrogate" in text.lower():
        return "짝 없는 서로게이트 문자(예: \\ud800)가 있습니다: 올바른 유니코드가 아니어서 저장할 수 없습니다"
    if "4300" in text or "integer string conversion" in text:
        return "4300자리가 넘는 정수가 있습니다 (Python이 정수와 텍스트를 서로 바꿀 수 있는 한도)"
    first = text.splitlines()[0] if text else ""
    return f"{UNEXPECTED}: {type(exc).__name__}: {first}"[:300]


UNEXPECTED = "처리할 수 없음"
"""How :func:`poison_reason` starts for an exception it does not know (then possibly a bug in a check)."""


def _wire(line: str | bytes) -> str | bytes:
    """A raw line as handed to :func:`prepare`: its UTF-8 bytes (a line read from a file or from
    the database already is; text is encoded). A worker then unpickles bytes instead of decoding
    text, and the JSON parser reads them without encoding the text again (~12 µs a 4.6 KB line;
    BENCHMARKS.md, "Ingest without statement journals"). A text that has no UTF-8 form (a lone
    surrogate) goes as it is."""
    if isinstance(line, bytes):
        return line
    try:
        return line.encode("utf-8")
    except UnicodeEncodeError:
        return line


def prepare(items: list[tuple[int, str | None, str | bytes, dict | None, str]], ingest_key: str = "", hash_lines: bool = False) -> list[tuple]:
    """Parse and check raw lines (the CPU part of ingest; module level, so worker processes run it).

    Args:
        items: ``(raw id, custom_id, line, request row {"kind", "category", "scenario"} or None, source)``;
            the line as text or as its UTF-8 bytes (:func:`_wire`), read the same either way.
        ingest_key: names the ingest these items belong to: a tool list's JSON is returned with the
            first item that has it, per process and ingest.
        hash_lines: also return each parsed line's content key (SHA-256 hex of its text), for
            imports (:func:`process_raw`'s ``dedupe``).

    Returns:
        Per item, in order, ``(raw id, None, reason)`` for a line that is not a dialogue,
        ``(raw id, JUDGED, verdict)`` for a judge's answer (custom_id ``judge:…``, routed to
        :func:`datagen.judge.parse_verdict`; a malformed one is ``(raw id, None, reason)``), or
        ``(raw id, sample row, tools JSON or None, search text, findings, closing, content key or
        None)`` where the sample row is ``(uid, custom_id, kind, category, source, model, stored
        JSON as UTF-8 bytes, usage JSON, content hash, toolset hash)`` and findings / closing are
        :func:`quality.check_record`'s. Never raises for one line: whatever a line makes fail (a lone
        surrogate, an integer beyond 4,300 digits, nesting deeper than the recursion limit) is
        that line's reason (:func:`poison_reason`), and the other lines go on.
    """
    if ingest_key not in _TOOLS_SENT:
        _TOOLS_SENT.clear()
        _TOOLS_SENT[ingest_key] = set()
    sent = _TOOLS_SENT[ingest_key]
    out: list[tuple] = []
    for raw_id, custom_id, line, request, source in items:
        first = None
        try:
            try:
                obj = fast_loads(line)
            except json.JSONDecodeError as exc:
                out.append((raw_id, None, f"올바른 JSON이 아닙니다 ({exc.msg}, 위치 {exc.pos})"))
                continue
            if judge.is_judge_custom_id(custom_id):  # a judge's verdict, never a dialogue
                try:
                    if not isinstance(obj, dict):
                        raise FormatError(f"줄이 배치 출력 줄이 아니라 JSON {type(obj).__name__}입니다")
                    content, body = batch_line_content(obj)
                    out.append((raw_id, JUDGED, judge.parse_verdict(content, custom_id=custom_id, request=request, body=body)))
                except FormatError as exc:
                    out.append((raw_id, None, str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
                continue
            try:
                d, usage = parse_record(obj, request)
            except FormatError as exc:
                out.append((raw_id, None, str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
                continue
            except ValueError as exc:  # pydantic's ValidationError among them: its first line says what
                reason = poison_reason(exc)
                if reason.startswith(UNEXPECTED):
                    reason = f"대화 형식에 맞지 않습니다: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
                out.append((raw_id, None, reason))
                continue
            d.source = source
            stored, digest, tools_json, tools, data = _stored_form(d, sent)
            if tools_json is not None:
                first = digest  # handed over with this line: taken back if the line fails below
            row = (
                d.uid,
                d.custom_id,
                d.kind,
                d.category,
                d.source,
                d.model,
                stored,
                dumps(usage) if usage else None,
                content_hash_of(data["system_prompt"], data["turns"]),
                digest,
            )
            text = search_text(data["turns"])
            data["tools"] = tools
            findings, closing = check_record(data)
            key = hashlib.sha256(line if isinstance(line, bytes) else line.encode("utf-8")).hexdigest() if hash_lines else None
            out.append((raw_id, row, tools_json, text, findings, closing, key))
        except Exception as exc:  # a poison line fails alone (RecursionError is an Exception too)
            if first is not None:
                sent.discard(first)  # the next line with these tools carries their JSON instead
            reason = poison_reason(exc)
            if reason.startswith(UNEXPECTED):  # not a known poison: may be a bug in a check, so say it loudly
                log.warning("raw line %s failed with an unexpected %s (stored as failed: %s)", raw_id, type(exc).__name__, reason, exc_info=True)
            out.append((raw_id, None, reason))
    return out


def _worker_init() -> None:
    """A parse-and-check worker freezes the heap it inherited: the cyclic GC then never walks it
    again (GC passes over it cost ~6% of a worker's time). The pool ends with the ingest."""
    gc.freeze()


def process_raw(
    db: sqlite_utils.Database,
    *,
    origins: str | Sequence[str],
    source: str | None = None,
    workers: int | None = None,
    feed: Callable[[], list[tuple[int, str]] | None] | None = None,
    dedupe: bool = False,
) -> dict:
    """Parse every ``new`` raw line of ``origins`` (compared exactly); store samples, their search
    text and their quality-gate findings.

    Per chunk of :data:`CHUNK` lines, one write transaction stores the samples (tool lists once, in
    ``toolsets``), marks each raw line ``parsed`` or ``failed`` (with its reason) and its request
    likewise, and stores the findings of the per-dialogue checks: a sample is never visible
    unchecked, and a crash leaves the rest ``new`` for the next run. The corpus-level check runs once
    at the end (:func:`quality.closing_check`).

    Several processes may run this on the same lines at once (two imports of one file, the Batches
    page and a CLI ``preprocess``): inside its write transaction (``BEGIN IMMEDIATE``, so one writer
    at a time) a chunk stores results only for the lines still ``new``; a line another process
    stored meanwhile is left to that process's result and count. So each raw line is parsed into
    at most one sample, whoever runs (issue 14). A line whose sample cannot be stored (a value
    SQLite refuses) fails alone with its reason; the rest of its chunk is stored.

    Args:
        origins: one origin (``batch:<id>:output``, ``import:<path>``) or several.
        source: the stored samples' ``source`` (default: the raw line's origin).
        workers: processes that parse and check (default: 2 from :data:`PARALLEL_FROM` new lines, else 1).
        feed: stores the next raw lines (committed) and returns the ones it added as
            ``[(line_no, text)]`` (``[]`` when they were all stored before), or ``None`` once there
            are none left: called before each chunk is read, so storing a file's lines overlaps with
            parsing the ones stored before (every line is still stored before it is parsed). Lines
            it returns are not read back from the database; ``origins`` must then be the one
            origin it stores under.
        dedupe: a parsed line whose text (SHA-256, ``raw_results.content_key``) is that of a line
            already stored as a sample, under any origin, fails with "<origin>의 N번째 줄과 같은 내용입니다 …"
            instead of adding that sample again (imports: a copy of a file at another path).

    Returns:
        ``{"read": n, "imported": n, "failed": n, "errors": [{"line": i, "origin": o, "reason": r}]}``
        for the lines processed now (errors capped at :data:`MAX_REPORTED_ERRORS`), plus
        ``"judged": n`` when judge verdicts were among them (stored by :mod:`datagen.judge`, not
        counted as imported samples).
    """
    origins = [origins] if isinstance(origins, str) else list(dict.fromkeys(origins))
    summary: dict[str, Any] = {"read": 0, "imported": 0, "failed": 0, "errors": []}
    if not origins:
        return summary
    fed = feed is not None
    if fed and len(origins) != 1:
        raise InputError("feed는 origin 하나에 저장합니다: 그 origin 하나만 주세요")
    fresh: dict[int, str | bytes] = {}  # line_no → text (or its UTF-8) of lines the feed stored and returned, not parsed yet

    def take_feed() -> bool:
        if feed is None:
            return False
        got = feed()
        if got is None:
            return False
        fresh.update(got)
        return True

    if fed and workers is None:  # store enough to decide on the workers
        while fed and _count_new(db, origins) < PARALLEL_FROM:
            fed = take_feed()
    if workers is None:
        workers = 2 if _count_new(db, origins) >= PARALLEL_FROM else 1
    pool = None
    if workers > 1:
        from .pools import worker_pool

        pool = worker_pool(workers, _worker_init)
    state = _IngestState()
    # the multi-row inserts into tables with triggers (store.insert_values) go through an ephemeral
    # table of the rows (~5 MB a chunk): kept in memory, not in a temp file (/var/tmp/etilqs_*)
    temp_store = db.execute("PRAGMA temp_store").fetchone()[0]
    db.execute("PRAGMA temp_store = MEMORY")
    key = uuid.uuid4().hex
    last_id = 0
    pending: deque[tuple[list, Any]] = deque()  # chunks read and handed to the workers, not yet written
    depth = 1 if pool is None else PIPELINE_DEPTH
    try:
        while True:
            if fed and len(fresh) < CHUNK:  # a backlog (stored to decide on the workers) drains first
                fed = take_feed()
            rows = _new_rows(db, origins, last_id, fresh)
            if rows:
                last_id = rows[-1][0]
                requests = _requests_of(db, [r[3] for r in rows if r[3]])
                items = [(r[0], r[3], _wire(r[4]), requests.get(r[3]), source or r[1]) for r in rows]
                if pool is None:
                    job = prepare(items, key, dedupe)
                else:
                    step = -(-len(items) // (2 * workers))
                    job = pool.starmap_async(prepare, [(items[i : i + step], key, dedupe) for i in range(0, len(items), step)])
                rows = [r[:4] for r in rows]  # the writer needs no line texts: they are not held meanwhile
                pending.append((rows, job))
                del items
            while pending and (len(pending) > depth or not (rows or fed)):
                prev_rows, prev_job = pending.popleft()
                results = prev_job if isinstance(prev_job, list) else [x for part in prev_job.get() for x in part]
                _write_chunk(db, prev_rows, results, state, summary)
            if not rows and not fed:
                break
    finally:
        db.execute(f"PRAGMA temp_store = {int(temp_store)}")
        if pool is not None:
            pool.close()
            pool.join()
    if state.kinds:
        closing_check(db, state.kinds, state.closings)
    return summary


class _IngestState:
    """What :func:`process_raw` carries from chunk to chunk."""

    def __init__(self) -> None:
        self.seen_uids: set[str] = set()
        self.toolsets: set[str] = set()
        self.stats = new_check_stats()
        self.kinds: set[str] = set()
        self.closings: dict[str, dict[str, tuple[str, int]]] = defaultdict(dict)


def _origin_clause(origins: list[str]) -> str:
    return "origin = ?" if len(origins) == 1 else f"origin IN ({','.join('?' * len(origins))})"


def _new_rows(db: sqlite_utils.Database, origins: list[str], after_id: int, fresh: dict[int, str | bytes]) -> list[tuple]:
    """The next :data:`CHUNK` ``new`` raw rows of ``origins`` after ``after_id`` as ``(id, origin,
    line_no, custom_id, line)``, the line as text or as its UTF-8 bytes; lines in ``fresh`` (by
    line number, one origin) are taken from it, not read."""
    rows = db.execute(
        f"SELECT id, origin, line_no, custom_id FROM raw_results WHERE status = 'new' AND {_origin_clause(origins)} AND id > ? ORDER BY id LIMIT ?",
        [*origins, after_id, CHUNK],
    ).fetchall()
    missing = [r[0] for r in rows if r[2] not in fresh]
    stored: dict[int, str | bytes] = {}
    for i in range(0, len(missing), 500):
        part = missing[i : i + 500]  # read as the UTF-8 bytes they are stored as: they go to a worker so (_wire)
        stored.update(db.execute(f"SELECT id, CAST(line AS BLOB) FROM raw_lines WHERE id IN ({','.join('?' * len(part))})", part))
    return [(i, origin, no, cid, fresh.pop(no) if no in fresh else stored[i]) for i, origin, no, cid in rows]


def _count_new(db: sqlite_utils.Database, origins: list[str]) -> int:
    return db.execute(f"SELECT COUNT(*) FROM raw_results WHERE status = 'new' AND {_origin_clause(origins)}", origins).fetchone()[0]


def _requests_of(db: sqlite_utils.Database, custom_ids: list[str]) -> dict[str, dict]:
    """``custom_id → {"kind", "category", "scenario"}`` of the stored requests among ``custom_ids``;
    the scenario JSON as its UTF-8 bytes (``CAST … AS BLOB``: the ~2 KB text is neither decoded here
    nor encoded again to reach a worker and its JSON parser; both readers take bytes)."""
    found: dict[str, dict] = {}
    for i in range(0, len(custom_ids), 500):
        chunk = custom_ids[i : i + 500]
        for cid, kind, category, scenario in db.execute(
            f"SELECT custom_id, kind, category, CAST(scenario AS BLOB) FROM requests WHERE custom_id IN ({','.join('?' * len(chunk))})", chunk
        ):
            found[cid] = {"kind": kind, "category": category, "scenario": scenario}
    return found


_STORE_ERRORS = (UnicodeEncodeError, OverflowError, sqlite3.InterfaceError, sqlite3.DataError, sqlite3.IntegrityError, ValueError)
"""What a value of one line can make SQLite (or the sqlite3 binding) refuse: the chunk is then
written again one line at a time, and the line it was fails alone with the reason."""


class _Written:
    """What one write transaction stored, applied to the run's state and summary once committed."""

    def __init__(self) -> None:
        self.outcomes: list[tuple[int, str, str | None]] = []  # (line_no, origin, reason or None if parsed)
        self.judged = 0  # of the parsed lines, judge verdicts (no sample)
        self.uids: set[str] = set()
        self.toolsets: set[str] = set()
        self.stats = new_check_stats()
        self.kinds: set[str] = set()
        self.closings: dict[str, dict[str, tuple[str, int]]] = defaultdict(dict)


def _write_chunk(db: sqlite_utils.Database, rows: list[tuple], results: list[tuple], state: _IngestState, summary: dict) -> None:
    """Store one chunk's prepared results (:func:`prepare`) in one write transaction; ``rows`` are
    the chunk's raw rows as ``(id, origin, line_no, custom_id)``. If a value of one line makes the
    transaction fail, the chunk is written again one line at a time: that line is marked failed
    with the reason and the others are stored."""
    by_id = {r[0]: r for r in rows}
    try:
        written = [_store_results(db, by_id, results, state)]
    except _STORE_ERRORS:
        _store_toolsets(db, results, state)  # tool lists carried by lines that may now fail
        written = []
        for res in results:
            try:
                written.append(_store_results(db, by_id, [res], state))
            except _STORE_ERRORS as exc:
                log.warning("raw line %s cannot be stored (%s: %s); the rest of its chunk is", res[0], type(exc).__name__, exc)
                written.append(_store_results(db, by_id, [(res[0], None, f"저장할 수 없음: {poison_reason(exc)}")], state))
    for w in written:
        state.seen_uids |= w.uids
        state.toolsets |= w.toolsets
        for k in ("checked", "findings", "with_errors"):
            state.stats[k] += w.stats[k]
        state.stats["by_check"].update(w.stats["by_check"])
        state.kinds |= w.kinds
        for kind, by_uid in w.closings.items():
            state.closings[kind].update(by_uid)
        if w.judged:
            summary["judged"] = summary.get("judged", 0) + w.judged
        judged_left = w.judged
        for line_no, origin, reason in w.outcomes:
            summary["read"] += 1
            if reason is None:
                if judged_left:  # a judge's verdict stores no sample: counted as judged, not imported
                    judged_left -= 1
                else:
                    summary["imported"] += 1
                continue
            summary["failed"] += 1
            if len(summary["errors"]) < MAX_REPORTED_ERRORS:
                summary["errors"].append({"line": line_no, "origin": origin, "reason": reason})


def _store_toolsets(db: sqlite_utils.Database, results: list[tuple], state: _IngestState) -> None:
    rows = [(res[1][9], res[2]) for res in results if isinstance(res[1], tuple) and res[2] is not None and res[1][9] not in state.toolsets]
    if rows:
        with write_transaction(db):
            ts = now()
            db.conn.executemany("INSERT OR IGNORE INTO toolsets (hash, tools, created_at) VALUES (?, ?, ?)", [(*t, ts) for t in rows])
        state.toolsets.update(h for h, _ in rows)


def _store_results(db: sqlite_utils.Database, by_id: dict[int, tuple], results: list[tuple], state: _IngestState) -> _Written:
    """One write transaction: the results of the lines still ``new`` (claimed now, under the write
    lock) are stored; lines another process stored meanwhile are left alone."""
    w = _Written()
    with write_transaction(db):
        ids = [res[0] for res in results]
        still_new: set[int] = set()
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            still_new.update(r[0] for r in db.execute(f"SELECT id FROM raw_results WHERE status = 'new' AND id IN ({','.join('?' * len(part))})", part))
        results = [res for res in results if res[0] in still_new]
        judged = [res for res in results if res[1] == JUDGED]  # == not is: worker results come pickled
        results = [res for res in results if res[1] != JUDGED]
        parsed = [res for res in results if res[1] is not None]
        known = _existing_uids(db, [res[1][0] for res in parsed])
        keys = _stored_keys(db, [res[6] for res in parsed if res[6]])
        samples, texts, updates, checked, toolsets = [], [], [], [], []
        req_status: dict[str, str] = {}
        for res in parsed:
            if res[2] is not None and res[1][9] not in state.toolsets and res[1][9] not in w.toolsets:
                toolsets.append((res[1][9], res[2]))  # every list a line carries, whether or not its line is stored
                w.toolsets.add(res[1][9])
        for res in results:
            raw_id, row = res[0], res[1]
            _, origin, line_no, custom_id = by_id[raw_id]
            reason = res[2] if row is None else None
            content_key = res[6] if row is not None else None
            if row is not None and content_key in keys:
                o, n, u = keys[content_key]
                row, reason = None, f"{o}의 {n}번째 줄과 같은 내용입니다 (이미 샘플 {u}로 저장됨)"
            elif row is not None and (row[0] in state.seen_uids or row[0] in w.uids or row[0] in known):
                reason = f"uid {row[0]}이(가) 이미 데이터베이스에 있습니다"
                row = None
            if row is None:
                w.outcomes.append((line_no, origin, reason))
                updates.append(("failed", reason, None, None, raw_id))
                if custom_id:
                    req_status.setdefault(custom_id, "failed")
                continue
            _, _, tools_json, text, findings, closing, _ = res
            uid = row[0]
            if row[9] not in state.toolsets and row[9] not in w.toolsets and not db.execute("SELECT 1 FROM toolsets WHERE hash = ?", [row[9]]).fetchone():
                raise RuntimeError(f"toolset {row[9]} of sample {uid} arrived without its tool list")
            w.uids.add(uid)
            if content_key:
                keys[content_key] = (origin, line_no, uid)
            w.outcomes.append((line_no, origin, None))
            samples.append(row)
            texts.append(text)
            checked.append((uid, row[2], findings, closing))
            updates.append(("parsed", None, uid, content_key, raw_id))
            if custom_id:
                req_status[custom_id] = "parsed"
        for raw_id, _, _verdict in judged:
            _, origin, line_no, custom_id = by_id[raw_id]
            w.outcomes.append((line_no, origin, None))
            w.judged += 1
            updates.append(("parsed", None, None, None, raw_id))
            if custom_id:
                req_status[custom_id] = "parsed"
        judge.store_verdicts(db, [(res[0], res[2]) for res in judged])
        ts = now()
        db.conn.executemany("INSERT OR IGNORE INTO toolsets (hash, tools, created_at) VALUES (?, ?, ?)", [(*t, ts) for t in toolsets])
        # explicit rowids and state rows (checked: their findings are stored below); the samples
        # trigger then has nothing to do (migrations._m007_ingest_at_scale)
        base = db.execute("SELECT COALESCE(MAX(rowid), 0) FROM samples").fetchone()[0]
        # (one statement per many rows: store.insert_values says why)
        insert_values(db, STATE_INSERT_SQL, [(r[0], base + k, r[2], r[3], r[4], r[1], ts) for k, r in enumerate(samples, 1)])
        insert_values(
            db,
            "INSERT INTO samples (rowid, uid, custom_id, kind, category, source, model, dialogue, usage, content_hash, toolset, created_at) {values}",
            [(base + k, *r, ts) for k, r in enumerate(samples, 1)],
            row_sql="(?, ?, ?, ?, ?, ?, ?, CAST(? AS TEXT), ?, ?, ?, ?)",  # the dialogue comes as UTF-8 bytes
        )
        index_for_search(db, [(base + k, t) for k, t in enumerate(texts, 1)])
        db.conn.executemany("UPDATE raw_results SET status = ?, reason = ?, sample_uid = ?, content_key = ? WHERE id = ?", updates)
        for status in ("parsed", "failed"):
            cids = [c for c, s in req_status.items() if s == status]
            for i in range(0, len(cids), 500):
                chunk = cids[i : i + 500]
                # a request with a parsed answer stays parsed: a failed line for it (an older batch's
                # error line read late) must not make it a retry candidate and be paid for twice
                db.execute(
                    f"UPDATE requests SET status = ? WHERE custom_id IN ({','.join('?' * len(chunk))})"
                    + (" AND status <> 'parsed'" if status == "failed" else ""),
                    [status, *chunk],
                )
        store_check_results(db, checked, w.stats, w.kinds, w.closings, fresh=True)
    return w


def _stored_keys(db: sqlite_utils.Database, keys: list[str]) -> dict[str, tuple[str, int, str]]:
    """``content key → (origin, line_no, sample uid)`` of the lines already stored as samples."""
    found: dict[str, tuple[str, int, str]] = {}
    for i in range(0, len(keys), 500):
        chunk = keys[i : i + 500]
        for k, origin, line_no, uid in db.execute(
            f"SELECT content_key, origin, line_no, sample_uid FROM raw_results WHERE content_key IN ({','.join('?' * len(chunk))})", chunk
        ):
            found.setdefault(k, (origin, line_no, uid))
    return found


def _existing_uids(db: sqlite_utils.Database, uids: list[str]) -> set[str]:
    """Which of these uids are already stored (one query per 500)."""
    found: set[str] = set()
    for i in range(0, len(uids), 500):
        chunk = uids[i : i + 500]
        found.update(r[0] for r in db.execute(f"SELECT uid FROM samples WHERE uid IN ({','.join('?' * len(chunk))})", chunk))
    return found


def batch_origins(batch_id: str) -> list[str]:
    """The raw-line origins of one batch: its output and its error file."""
    return [f"batch:{batch_id}:output", f"batch:{batch_id}:error"]


def preprocess(db: sqlite_utils.Database, *, batch_id: str | None = None) -> dict:
    """Parse all downloaded, not yet parsed batch lines (of one batch, or all); see :func:`process_raw`.

    Origins are compared exactly (a batch id holding ``_`` or ``%`` matches only itself)."""
    if batch_id:
        origins = batch_origins(batch_id)
    else:
        origins = [o for (o,) in db.execute("SELECT DISTINCT origin FROM raw_results WHERE status = 'new'") if o.startswith("batch:")]
    return process_raw(db, origins=origins)


_BOMS = (  # UTF-32 before UTF-16: FF FE 00 00 begins with UTF-16-LE's mark
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_DECODERS = {
    "utf-16-le": codecs.utf_16_le_decode,
    "utf-16-be": codecs.utf_16_be_decode,
    "utf-32-le": codecs.utf_32_le_decode,
    "utf-32-be": codecs.utf_32_be_decode,
}
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


READ_BUFFER = 1 << 16
"""Bytes :func:`_read_lines` reads from a file at a time (Python's default is 8 KB: a ~4.6 KB batch
line then costs a ``read`` call of its own; reading 495 MB line by line took 0.36 s with the default
and 0.10 s with 64 KB, BENCHMARKS.md "Ingest without statement journals")."""


def _read_lines(path: Path) -> Iterator[tuple]:
    """Non-blank lines of a JSONL file as ``(line_no, line)``, or ``(line_no, text, reason)`` for a
    line that is not valid text (stored with its reason, never parsed). ``line`` is text, or for a
    UTF-8 file the line's own bytes once they decoded as UTF-8: stored as the text they hold and
    handed to the parser as they are, never decoded to keep nor encoded again (~0.6 s of the
    writer's CPU for 100,000 lines; BENCHMARKS.md, "Raw lines as bytes").

    Encodings (issue 14): UTF-8, with or without a byte order mark; UTF-16 and UTF-32 with one (the
    mark says which, RFC 8259 §8.1 asks for UTF-8 but Windows tools write UTF-16 with a mark). A line
    of a UTF-8 file that is not valid UTF-8 keeps its bytes, escaped (``\\xff``), and fails with the
    byte it fails at; nothing becomes U+FFFD. Line breaks: ``\\n``, ``\\r\\n`` and a lone ``\\r``
    (old Mac files), each ending one line, as a text editor counts them; blank lines keep their number.

    Raises:
        InputError: ``<file>: <reason>``: the file looks like UTF-16 without a byte order mark, or a
            UTF-16 / UTF-32 file is not valid in its encoding (``<file>:<line>: <reason>``).
    """
    with path.open("rb", buffering=READ_BUFFER) as fh:
        head = fh.read(4)
        enc = next((e for bom, e in _BOMS if head.startswith(bom)), None)
        if enc in _DECODERS:
            fh.seek(len(next(bom for bom, e in _BOMS if e == enc)))
            yield from _decoded_lines(fh, path, enc)
            return
        if enc is None and len(head) >= 2 and (head[0] == 0) != (head[1] == 0):
            raise InputError(f"{path}: 바이트 순서 표시(BOM) 없는 UTF-16으로 보입니다 (처음 두 바이트 중 하나가 NUL); UTF-8이나 BOM 있는 UTF-16으로 저장하세요")
        fh.seek(3 if enc else 0)
        no = 0
        for raw in fh:
            if raw.endswith(b"\n"):
                raw = raw[:-2] if raw.endswith(b"\r\n") else raw[:-1]
            for part in raw.split(b"\r") if b"\r" in raw else (raw,):
                no += 1
                try:
                    text = part.decode("utf-8")  # checked, then dropped: the line goes on as its bytes
                except UnicodeDecodeError as exc:
                    text = part.decode("utf-8", "backslashreplace")
                    if text.strip():
                        yield (
                            no,
                            text,
                            (
                                f"올바른 UTF-8이 아닙니다: 줄의 {exc.start + 1}번째 바이트 0x{part[exc.start]:02x} "
                                f"({exc.reason}); 바이트를 \\xNN으로 적어 저장했습니다"
                            ),
                        )
                    continue
                if text.strip():
                    yield no, part


_JSON_DOC = json.JSONDecoder()


def _is_document(path: Path) -> bool:
    """Is ``path`` one JSON document rather than JSON Lines? ``.json`` files are; so is a file whose
    first non-blank line is a lone ``[`` or ``{`` (pretty-printed JSON: no JSONL line is) when the
    whole file is valid UTF-8 JSON. Otherwise it is read line by line, so a broken or truncated
    file keeps every line, each failing with its own reason."""
    if path.suffix.lower() == ".json":
        return True
    with path.open("rb") as fh:
        for raw in fh:
            head = raw.strip().lstrip(b"\xef\xbb\xbf")
            if head:
                if head not in (b"[", b"{"):
                    return False
                break
        else:
            return False
    try:
        json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False
    return True


def _read_document(path: Path, starts: dict[int, int]) -> Iterator[tuple[int, str]]:
    """The records of a JSON document as ``(n, text)``: the elements of a top-level array, or the
    document itself when it is not an array; ``n`` counts the elements from 1 (the raw line key:
    unique even when several elements share a file line) and ``text`` is the element's exact text
    in the file (stored raw like a JSONL line). ``starts`` is filled with ``n`` → the file line
    the element starts on, for error messages.

    The whole file is read and decoded now (a document cannot be streamed line by line); the
    elements are then cut lazily. An array that cannot be read past some point yields the rest,
    from where it breaks, as one last record, so the break is kept raw and fails with its reason.

    Raises:
        InputError: the file is not UTF-8 (names the file and the byte offset).
    """
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: UTF-8이 아닙니다 (바이트 위치 {exc.start}: {exc.reason})") from None
    del data

    def records() -> Iterator[tuple[int, str]]:
        for n, (line, record) in enumerate(_document_records(text), 1):
            starts[n] = line
            yield n, record

    return records()


def _document_records(text: str) -> Iterator[tuple[int, str]]:
    """:func:`_read_document`'s cutting of a decoded document into ``(start line, text)`` records."""
    start = len(text) - len(text.lstrip())
    if not text.startswith("[", start):
        if text.strip():
            yield text.count("\n", 0, start) + 1, text.strip()
        return
    pos, line, counted = start + 1, 1 + text.count("\n", 0, start), start

    def skip(i: int) -> int:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        return i

    yielded = False
    while True:
        pos = skip(pos)
        if pos >= len(text) and not yielded:  # "[" and nothing after it: kept whole, to fail as such
            yield 1 + text.count("\n", 0, start), text[start:].rstrip()
            return
        if pos >= len(text) or text[pos] == "]":
            return
        yielded = True
        line += text.count("\n", counted, pos)
        counted = pos
        try:
            _, end = _JSON_DOC.raw_decode(text, pos)
        except (json.JSONDecodeError, RecursionError):
            yield line, text[pos:].rstrip()
            return
        yield line, text[pos:end]
        pos = skip(end)
        if pos < len(text) and text[pos] == ",":
            pos += 1
        elif pos < len(text) and text[pos] != "]":
            line += text.count("\n", counted, pos)
            counted = pos
            yield line, text[pos:].rstrip()
            return


def _decoded_lines(fh, path: Path, enc: str, block: int = 1 << 16) -> Iterator[tuple[int, str]]:
    """Lines of a UTF-16 / UTF-32 file (after its byte order mark), decoded block by block."""
    decode = _DECODERS[enc]
    label = enc.upper().replace("-LE", "").replace("-BE", "")
    no, rest, data, offset = 0, "", b"", fh.tell()
    while True:
        got = fh.read(block)
        data += got
        try:
            text, used = decode(data, "strict", not got)
        except UnicodeDecodeError as exc:
            good = decode(data[: exc.start], "strict", True)[0]
            line = no + len(_LINE_BREAK.split(rest + good))
            raise InputError(f"{path}:{line}: 올바른 {label}이(가) 아닙니다 (바이트 위치 {offset + exc.start}: {exc.reason})") from None
        offset += used
        data = data[used:]
        text = rest + text
        carry = ""
        if got and text.endswith("\r"):  # its \n may come with the next block
            text, carry = text[:-1], "\r"
        parts = _LINE_BREAK.split(text)
        rest = parts.pop() + carry if got else ""
        for part in parts:
            no += 1
            if part.strip():
                yield no, part
        if not got:
            return


def ingest_lines(db: sqlite_utils.Database, origin: str, lines: Iterable[tuple], *, source: str | None = None, dedupe: bool = False) -> dict:
    """Store ``lines`` raw under ``origin`` and parse them as they arrive (a download or a file read).

    The lines are stored in chunks of :data:`CHUNK`, each committed before its lines are parsed,
    while the chunk before is parsed (:func:`process_raw`'s ``feed``), so storing overlaps parsing
    and memory stays constant. Idempotent and resumable: lines stored before (by an earlier run that
    stopped midway, another process storing the same lines now, or :func:`store.insert_raw_lines`)
    are not stored again, and the ones of them still ``new`` are parsed now, each by one process.

    Args:
        lines: ``(line_no, text)`` pairs, line numbers from 1, or ``(line_no, text, reason)`` for a
            line known to fail before parsing (not valid text): stored with its reason.
        source: the stored samples' ``source`` (default: ``origin``).
        dedupe: see :func:`process_raw` (imports).

    Returns:
        :func:`process_raw`'s summary for the lines parsed now, plus the lines stored as failed now.
    """
    it = iter(lines)
    failed: list[tuple[int, str]] = []

    def feed() -> list[tuple[int, str]] | None:
        chunk = list(islice(it, CHUNK))
        if not chunk:
            return None
        seen = len(failed)
        added = insert_raw_lines(db, origin, chunk, failed=failed)
        if added != len(chunk):  # stored before: the stored lines are what counts
            return []
        failed_now = {no for no, _ in failed[seen:]}  # stored as failed (not valid text): nothing to parse
        return [(item[0], item[1]) for item in chunk if item[0] not in failed_now]

    summary = process_raw(db, origins=origin, source=source, feed=feed, dedupe=dedupe)
    if failed:
        summary["read"] += len(failed)
        summary["failed"] += len(failed)
        errors = summary["errors"] + [{"line": no, "origin": origin, "reason": reason} for no, reason in failed]
        summary["errors"] = sorted(errors, key=lambda e: e["line"])[:MAX_REPORTED_ERRORS]
    return summary


def import_origin(path: str | Path) -> str:
    """The raw-line origin of an imported file: ``import:<absolute path>`` (a file name's bytes
    that are not UTF-8 are written as ``\\xNN``, so the origin can be stored)."""
    return "import:" + str(Path(path).resolve()).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def import_file(db: sqlite_utils.Database, path: str | Path) -> dict:
    """Import dialogues made elsewhere (shapes in the module docstring) from a JSONL file, or a
    JSON document holding one dialogue or an array of them (:func:`_read_document`).

    Each line is stored raw under origin ``import:<absolute path>`` (:func:`import_origin`) and
    parsed as the file is read (:func:`ingest_lines`); importing the same file again adds nothing,
    and neither does importing the same lines from another path: a parsed line whose text is that
    of a line already stored as a sample fails with "<origin>의 N번째 줄과 같은 내용입니다" (the
    duplicate is decided by the line, not the file, so a file with lines added at the end imports
    only those). Two imports of one file at once store each line once. Encodings and line breaks:
    :func:`_read_lines`.

    Returns:
        ``{"read", "imported", "failed", "errors": [{"line", "reason"}]}`` for this file; for a JSON
        document each error also names its ``element`` (from 1; its raw line key) and ``line`` is
        the file line the element starts on.

    Raises:
        MissingFileError: no such file (also a ``FileNotFoundError``).
        InputError: ``<file>: <reason>`` for a file that cannot be opened (permissions) or is not
            text in an encoding it can read (UTF-16 without a byte order mark, invalid UTF-16 /
            UTF-32; a JSON document that is not UTF-8).
        OSError: the file could be opened but not read to the end (a failing disk).
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"{path}: 파일이 없습니다")
    starts: dict[int, int] = {}
    try:
        lines = _read_document(path, starts) if _is_document(path) else _read_lines(path)
        first = next(lines, None)  # a file-level refusal comes before anything is stored
    except PermissionError as exc:
        raise InputError(f"{path}: 파일을 읽을 권한이 없습니다 ({exc.strerror})") from None
    lines = iter(()) if first is None else _chain_first(first, lines)
    name = import_origin(path)[len("import:") :]
    summary = ingest_lines(db, import_origin(path), lines, source=f"import:{Path(name).name}", dedupe=True)
    for e in summary["errors"]:
        e.pop("origin", None)
        if e["line"] in starts:  # a document's element: its number, and the line it starts on
            e["element"], e["line"] = e["line"], starts[e["line"]]
    return summary


def _chain_first(first, rest: Iterator) -> Iterator:
    yield first
    yield from rest


def iter_dialogues(db: sqlite_utils.Database, *, kind: str | None = None, where: str = "", params: list | None = None) -> Iterator[Dialogue]:
    """Stored samples as Dialogues, in insertion order (optionally one kind, plus an SQL filter on
    the ``sample_dialogues`` view's columns ``uid, kind, seq, dialogue``)."""
    clauses, args = [], []
    if kind:
        clauses.append("kind = ?")
        args.append(kind)
    if where:
        clauses.append(where)
        args.extend(params or [])
    sql = "SELECT dialogue FROM sample_dialogues" + (" WHERE " + " AND ".join(clauses) if clauses else "") + " ORDER BY seq"
    for (text,) in db.execute(sql, args):
        yield Dialogue.model_validate_json(text)


def write_dataset_jsonl(db: sqlite_utils.Database, path: str | Path, *, kind: str = "train") -> int:
    """Write all samples of ``kind`` as seed 001 ``dataset.jsonl`` records; returns the count."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for d in iter_dialogues(db, kind=kind):
            fh.write(json.dumps(to_seed_record(d), ensure_ascii=False) + "\n")
            n += 1
    return n
