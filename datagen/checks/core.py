"""The check registry, the finding type, and the per-dialogue view the checks read.

A check is a function ``fn(view) -> iterable of (turn, message)`` registered with a stable id, a
severity, the reject reason it suggests and a short Korean title (:func:`check`). The engine
(:func:`run_view`) builds one :class:`View` per dialogue — tool table, call/response pairing, parsed
tool results, texts the customer said, the assistant's turns and each turn's sentences, the tool texts,
numbers and evidence before a turn — computed lazily and shared by all checks, so each is done at
most once per dialogue; what depends on the tool list alone is kept with its compiled
:class:`ToolTable` (:meth:`ToolTable.memo_get`), once per tool list. Checks read these instead of
walking the turns again (issue 14, ingest speed; ``tests/test_checks_regression.py`` holds their
findings fixed).
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ..fastjson import loads as fast_loads
from . import text as tx
from .schema import CompiledSchema, compiled

SEVERITIES = ("error", "warning")

REASONS = (
    "wrong_tool",
    "bad_arguments",
    "unsaid_value",
    "ungrounded_id",
    "result_contradicts_call",
    "unnatural_korean",
    "unsupported_handling",
    "incomplete",
    "duplicate",
    "contamination",
    "other",
)
"""The review taxonomy keys (``datagen.review.REJECT_REASONS``) a check may suggest."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem a check found in one dialogue.

    Attributes:
        check: the check id (a key of :data:`CHECKS`).
        severity: ``error`` or ``warning``.
        turn: index into ``Dialogue.turns`` (0-based, as the Review page numbers turns ``#i``) the
            finding points at, or ``None`` for the dialogue as a whole.
        reason: the reject reason it suggests (one of :data:`REASONS`).
        message: one line in Korean for the annotator.
    """

    check: str
    severity: str
    turn: int | None
    reason: str
    message: str

    def to_dict(self) -> dict:
        """``{"check", "severity", "turn", "reason", "message"}`` (the ``validate --json`` shape)."""
        return {"check": self.check, "severity": self.severity, "turn": self.turn, "reason": self.reason, "message": self.message}


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """A registered check.

    Attributes:
        id: stable id, stored in ``findings.check_id``.
        severity: ``error`` (blocks publishing until a person accepts after seeing it) or ``warning``.
        reason: the suggested reject reason (:data:`REASONS`).
        title: short Korean name for filters and counts.
        group: ``structure``, ``calls``, ``grounding``, ``values``, ``consistency``, ``contract``,
            ``content`` (per dialogue) or ``corpus`` (needs all samples: not run by :func:`run_view`).
        fn: the function, ``None`` for checks computed outside the per-dialogue engine (corpus-level
            checks, duplicates, contamination in :mod:`datagen.quality`).
    """

    id: str
    severity: str
    reason: str
    title: str
    group: str
    fn: Callable[[View], Iterable[tuple[int | None, str]]] | None = None


CHECKS: dict[str, CheckSpec] = {}
"""Check id → :class:`CheckSpec`, in the order findings are reported."""


def check(id: str, severity: str, reason: str, title: str, group: str):
    """Register the decorated function as check ``id`` (see :class:`CheckSpec`).

    Raises:
        ValueError: duplicate id, unknown severity or reason.
    """
    if severity not in SEVERITIES or reason not in REASONS:
        raise ValueError(f"check {id}: bad severity {severity!r} or reason {reason!r}")

    def deco(fn):
        if id in CHECKS:
            raise ValueError(f"check {id} registered twice")
        CHECKS[id] = CheckSpec(id, severity, reason, title, group, fn)
        return fn

    return deco


def declare(id: str, severity: str, reason: str, title: str, group: str) -> CheckSpec:
    """Register a check computed outside the per-dialogue engine (corpus, duplicates, contamination)."""
    if severity not in SEVERITIES or reason not in REASONS or id in CHECKS:
        raise ValueError(f"check {id}: bad or duplicate declaration")
    spec = CheckSpec(id, severity, reason, title, group, None)
    CHECKS[id] = spec
    return spec


# ----------------------------------------------------------------------------- the view


class cached_property:  # noqa: N801 - the functools name, on purpose
    """``functools.cached_property`` without its lock: Python 3.11's takes an ``RLock`` on every first
    access (~10% of the checks' time); a :class:`View` belongs to one thread. Computed once, then
    stored in the instance ``__dict__``, which shadows this (non-data) descriptor."""

    def __init__(self, fn: Callable) -> None:
        self.fn, self.name, self.__doc__ = fn, fn.__name__, fn.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.fn(obj)
        return value


_NOT_JSON = object()
_TOOLS_BLOCK = re.compile(r"<tools>.*?</tools>", re.S)


def _tool_function(spec: Any) -> dict | None:
    """The ``function`` object of a nested or flat tool spec, or None."""
    if not isinstance(spec, dict):
        return None
    fn = spec.get("function")
    fn = fn if isinstance(fn, dict) else spec
    return fn if isinstance(fn.get("name"), str) else None


_EMPTY: dict = {}


class ToolTable:
    """A record's tool list, compiled once: function objects, parameter schemas, return formats.

    Attributes:
        fns: name → function object.
        params: name → compiled ``parameters`` schema (absent when the tool has none).
        props: name → ``parameters.properties``.
        required: name → required argument names.
        closed: names of tools whose ``parameters`` define ``properties`` and do not allow other
            keys (``additionalProperties`` false or unset: a function call should send no other keys).
        returns: name → compiled return format, for tools where one is known: given in the spec
            itself (``return_format`` / ``returns`` holding a JSON Schema object), or registered in
            ``return_formats`` for the same name *and* equal ``parameters`` (the same tool, not just
            the same name).
        memo: what a check derives from the tool list alone (tool words, hand-off tools), keyed by
            the check's own name: computed once per tool list, not once per dialogue (:meth:`memo_get`).
    """

    __slots__ = ("tools_raw", "return_formats", "fns", "params", "props", "required", "closed", "returns", "memo")

    def __init__(self, tools_raw: list, return_formats: dict[str, tuple[dict, dict]]):
        self.tools_raw = tools_raw
        self.return_formats = return_formats
        self.fns: dict[str, dict] = {}
        self.params: dict[str, CompiledSchema] = {}
        self.props: dict[str, dict] = {}
        self.required: dict[str, list] = {}
        self.closed: set[str] = set()
        self.returns: dict[str, CompiledSchema] = {}
        self.memo: dict[str, Any] = {}
        for spec in tools_raw:
            fn = _tool_function(spec)
            if fn is None:
                continue
            name = fn["name"]
            self.fns[name] = fn
            p = fn.get("parameters")
            if isinstance(p, dict):
                self.params[name] = compiled(p)
                props = p.get("properties")
                if isinstance(props, dict):
                    self.props[name] = props
                    if p.get("additionalProperties") in (False, None):
                        self.closed.add(name)
                req = p.get("required")
                self.required[name] = req if isinstance(req, list) else []
            own = fn.get("return_format") or fn.get("returns")
            if isinstance(own, dict) and ({"type", "properties", "anyOf", "oneOf"} & own.keys()):
                self.returns[name] = compiled(own)
            else:
                reg = return_formats.get(name)
                if reg is not None and p == reg[0]:
                    self.returns[name] = compiled(reg[1])

    def memo_get(self, key: str, make: Callable[[ToolTable], Any]) -> Any:
        """``make(self)``, computed on first use for ``key`` and kept with this tool list."""
        got = self.memo.get(key, _MISSING_MEMO)
        if got is _MISSING_MEMO:
            got = self.memo[key] = make(self)
        return got


_MISSING_MEMO = object()
_TABLES: dict[tuple, list[ToolTable]] = {}
_TABLE_BY_ID: dict[int, ToolTable] = {}


def tool_table(tools_raw: list, return_formats: dict[str, tuple[dict, dict]]) -> ToolTable:
    """The :class:`ToolTable` for a tool list, built once per distinct list (found by identity, else
    compared with ``==`` within a bucket of lists with the same length and names)."""
    hit = _TABLE_BY_ID.get(id(tools_raw))
    if hit is not None and hit.tools_raw is tools_raw and hit.return_formats is return_formats:
        return hit
    key = (
        id(return_formats),
        len(tools_raw),
        tuple((s.get("function") or {}).get("name") if isinstance(s.get("function"), dict) else s.get("name") for s in tools_raw if isinstance(s, dict)),
    )
    bucket = _TABLES.get(key)
    if bucket is not None:
        for t in bucket:
            if t.tools_raw == tools_raw:
                return t
    if len(_TABLE_BY_ID) >= 1024:
        _TABLES.clear()
        _TABLE_BY_ID.clear()
    t = ToolTable(tools_raw, return_formats)
    _TABLES.setdefault(key, []).append(t)
    _TABLE_BY_ID[id(tools_raw)] = t
    return t


class View:
    """What the checks read about one dialogue; derived data is computed on first use.

    Args:
        turns: turns in the ``Dialogue.model_dump()`` shape: ``{"role", "content", "tool_calls":
            [{"id", "name", "arguments"}], "tool_call_id", "name"}``.
        tools: tool specs (nested Chat Completions or flat Responses shape).
        category: the dialogue's category key.
        system_prompt: the system prompt (a legitimate source of ids and dates: ARCHITECTURE.md, "Facts").
        return_formats: tool name → ``(parameters schema, return JSON Schema)``: a return format
            applies to a record's tool only when the record's ``parameters`` equal the registered
            ones (the same tool, not just the same name).
    """

    def __init__(self, turns: list[dict], tools: list, category: str, system_prompt: str, return_formats: dict[str, tuple[dict, dict]]):
        self.turns = turns
        self.n = len(turns)
        self.tools_raw = tools or []
        self.category = category or ""
        self.system_prompt = system_prompt or ""
        self.return_formats = return_formats

    # -- tools --------------------------------------------------------------------------------
    @cached_property
    def table(self) -> ToolTable:
        """The record's tools, compiled (shared by every record carrying an equal tool list)."""
        return tool_table(self.tools_raw, self.return_formats)

    @property
    def tools(self) -> dict[str, dict]:
        """Function name → the function object (``name``, ``description``, ``parameters``)."""
        return self.table.fns

    def params_schema(self, name: str) -> CompiledSchema | None:
        """The compiled ``parameters`` schema of tool ``name`` (None: unknown tool or no schema)."""
        return self.table.params.get(name)

    def properties(self, name: str) -> dict:
        """``parameters.properties`` of tool ``name`` (``{}`` when unknown)."""
        return self.table.props.get(name, _EMPTY)

    def return_schema(self, name: str) -> CompiledSchema | None:
        """The compiled return format of tool ``name`` when one is known (see :class:`ToolTable`)."""
        return self.table.returns.get(name)

    # -- calls and responses ------------------------------------------------------------------
    @cached_property
    def calls(self) -> list[tuple[int, dict]]:
        """``(turn index, call)`` for every tool call, in order."""
        return [(i, c) for i, t in enumerate(self.turns) if t.get("tool_calls") for c in t["tool_calls"]]

    @cached_property
    def pairing(self) -> tuple[dict[int, int], dict[int, int | None], list[int]]:
        """``(answer, call_of, orphans)``: call number → tool turn answering it; tool turn → call
        number it answers (None for an orphan); tool turns that answer no open call. Calls are
        numbered by their position in :attr:`calls`; pairing is by ``tool_call_id``, else in order."""
        answer: dict[int, int] = {}
        call_of: dict[int, int | None] = {}
        orphans: list[int] = []
        open_calls: list[int] = []  # call numbers not answered yet, in order
        by_id: dict[str, int] = {}
        k = 0
        for i, t in enumerate(self.turns):
            role = t.get("role")
            if role == "assistant" and t.get("tool_calls"):
                for c in t["tool_calls"]:
                    open_calls.append(k)
                    if c.get("id"):
                        by_id[c["id"]] = k
                    k += 1
            elif role == "tool":
                cid = t.get("tool_call_id")
                match = by_id.get(cid) if cid else None
                if match is None or match not in open_calls:
                    match = None
                    if not cid or cid not in by_id:
                        # no usable id: pair with the oldest open call (seed 001 pairs by order)
                        match = open_calls[0] if open_calls else None
                if match is None:
                    orphans.append(i)
                    call_of[i] = None
                else:
                    open_calls.remove(match)
                    answer[match] = i
                    call_of[i] = match
        return answer, call_of, orphans

    def result(self, turn: int) -> Any:
        """Tool turn ``turn``'s content parsed as JSON (cached), or the ``NOT_JSON`` sentinel."""
        cache = self.__dict__.setdefault("_results", {})
        if turn not in cache:
            text = self.turns[turn].get("content") or ""
            try:
                cache[turn] = fast_loads(text)
            except (ValueError, TypeError):
                cache[turn] = _NOT_JSON
        return cache[turn]

    def call_result(self, k: int) -> Any:
        """Parsed result of call number ``k`` (None when unanswered, ``NOT_JSON`` when not JSON)."""
        turn = self.pairing[0].get(k)
        return None if turn is None else self.result(turn)

    def call_ok(self, k: int) -> bool:
        """Call ``k`` was answered with something other than an error object."""
        r = self.call_result(k)
        if r is None:
            return False
        return not (isinstance(r, dict) and (r.get("error") not in (None, False, "", {}) or r.get("success") is False))

    # -- texts --------------------------------------------------------------------------------
    def tool_text(self, turn: int) -> str:
        """Tool turn text for substring tests: the raw content, or its JSON re-dumped without
        ``\\u`` escapes when it had any (so Korean names can be found)."""
        content = self.turns[turn].get("content") or ""
        if "\\u" not in content:
            return content
        r = self.result(turn)
        return content if r is _NOT_JSON else json.dumps(r, ensure_ascii=False)

    @cached_property
    def _prefix(self) -> list[tuple[int, str, str]]:
        """``(turn, role, text)`` of user and tool turns, in order."""
        out = []
        for i, t in enumerate(self.turns):
            role = t.get("role")
            if role == "user":
                out.append((i, "user", t.get("content") or ""))
            elif role == "tool":
                out.append((i, "tool", self.tool_text(i)))
        return out

    @cached_property
    def system_evidence(self) -> str:
        """The system prompt without an embedded ``<tools>…</tools>`` block: it names the logged-in
        user and today's date (legitimate sources), but the tool descriptions' example ids are not."""
        s = self.system_prompt
        return _TOOLS_BLOCK.sub("", s) if "<tools>" in s else s

    def evidence_before(self, turn: int) -> str:
        """System prompt (:attr:`system_evidence`), user turns and tool responses before ``turn``,
        joined: where a value may legitimately come from (ARCHITECTURE.md, "Facts"). Cached by the
        number of user and tool turns before ``turn``."""
        prefix = self._prefix
        k = bisect_left(self._prefix_turns, turn)
        cache = self.__dict__.setdefault("_evidence", {})
        got = cache.get(k)
        if got is None:
            got = cache[k] = "\x00".join([self.system_evidence] + [s for _, _, s in prefix[:k]])
        return got

    @cached_property
    def _prefix_turns(self) -> list[int]:
        """Turn indices of :attr:`_prefix`, in order (for bisecting)."""
        return [i for i, _, _ in self._prefix]

    def user_before(self, turn: int) -> str:
        """User turns before ``turn``, joined by newlines."""
        cache = self.__dict__.setdefault("_user", {})
        if turn not in cache:
            cache[turn] = "\n".join(s for i, r, s in self._prefix if i < turn and r == "user")
        return cache[turn]

    def user_squashed_before(self, turn: int) -> str:
        """:func:`text.squash` of :meth:`user_before`."""
        cache = self.__dict__.setdefault("_user_sq", {})
        if turn not in cache:
            cache[turn] = tx.squash(self.user_before(turn))
        return cache[turn]

    def user_numbers_before(self, turn: int) -> set[float]:
        """Numbers the customer said before ``turn`` (:func:`text.said_numbers`, per customer turn)."""
        cache = self.__dict__.setdefault("_user_num", {})
        if turn not in cache:
            per_turn = self.__dict__.setdefault("_user_num_turn", {})
            nums: set[float] = set()
            for i, r, s in self._prefix:
                if i >= turn:
                    break
                if r == "user":
                    if i not in per_turn:
                        per_turn[i] = tx.said_numbers(s)
                    nums |= per_turn[i]
            cache[turn] = nums
        return cache[turn]

    @cached_property
    def _tool_pieces(self) -> tuple[list[int], list[str]]:
        """``(turn indices, texts)`` of the tool turns (:meth:`tool_text`), in order."""
        turns = [i for i, r, _ in self._prefix if r == "tool"]
        return turns, [s for _, r, s in self._prefix if r == "tool"]

    def tool_text_before(self, turn: int, squashed: bool = False) -> str:
        """Tool responses before ``turn`` (:meth:`tool_text`), joined by NUL characters; with
        ``squashed``, without spaces (for names whose spacing varies). Cached by the number of tool
        turns before ``turn``: turns with the same tool turns before them share one joined text."""
        tool_turns, pieces = self._tool_pieces
        k = bisect_left(tool_turns, turn)
        cache = self.__dict__.setdefault("_tool_text", {})
        key = (k, squashed)
        got = cache.get(key)
        if got is None:
            if squashed:
                sq = self.__dict__.get("_tool_sq_pieces")
                if sq is None:
                    sq = self.__dict__["_tool_sq_pieces"] = [p.replace(" ", "") for p in pieces]
                pieces = sq
            got = cache[key] = "\x00".join(pieces[:k])
        return got

    def tool_numbers_before(self, turn: int) -> list[tuple[frozenset[float], frozenset[float]]]:
        """Per tool response before ``turn``: ``(numbers, top-level numbers)`` — the numbers it
        holds (JSON numbers and numeric strings) at any depth, with the whole-number roundings
        (down and nearest) of the fractional ones added, and the scalar fields of the response
        object itself (``subtotal``, ``total``), as floats. Each response is read once."""
        tool_turns = self._tool_pieces[0]
        k = bisect_left(tool_turns, turn)
        cache = self.__dict__.setdefault("_tool_num", [])
        while len(cache) < k:
            r = self.result(tool_turns[len(cache)])
            nums: set[float] = set()
            _walk_numbers(r, nums, 0)
            nums |= {float(f(x)) for x in list(nums) if not x.is_integer() and abs(x) < 1e15 for f in (int, round)}
            top: set[float] = set()
            if isinstance(r, dict):
                for x in r.values():
                    if not isinstance(x, (dict, list)):
                        _walk_numbers(x, top, 0)
            cache.append((frozenset(nums), frozenset(top)))
        return cache[:k]

    @cached_property
    def texts(self) -> list[tuple[int, str, str]]:
        """``(turn, role, content)`` of user and assistant turns with text."""
        return [(i, t["role"], t.get("content") or "") for i, t in enumerate(self.turns) if t.get("role") in ("user", "assistant") and t.get("content")]

    @cached_property
    def assistant_texts(self) -> list[tuple[int, str]]:
        """``(turn, content)`` of the assistant turns with text (:attr:`texts` of that role)."""
        return [(i, t) for i, r, t in self.texts if r == "assistant"]

    def sentences(self, turn: int) -> list[str]:
        """:func:`text.sentences` of turn ``turn``'s content, split once for every check that reads it."""
        cache = self.__dict__.setdefault("_sentences", {})
        got = cache.get(turn)
        if got is None:
            got = cache[turn] = tx.sentences(self.turns[turn].get("content") or "")
        return got

    @cached_property
    def all_text(self) -> str:
        """All customer and assistant text, joined by newlines."""
        return "\n".join(t for _, _, t in self.texts)

    @cached_property
    def assistant_text(self) -> str:
        """All assistant text, joined by newlines (for cheap "could this match at all" tests)."""
        return "\n".join(t for _, t in self.assistant_texts)


def _walk_numbers(x: Any, out: set[float], depth: int) -> None:
    if depth > 6 or x is _NOT_JSON:
        return
    if isinstance(x, bool) or x is None:
        return
    if isinstance(x, (int, float)):
        out.add(float(x))
    elif isinstance(x, str):
        if x and (x[0].isdigit() or x[0] == "-") and len(x) < 20:
            try:
                out.add(float(x.replace(",", "")))
            except ValueError:
                pass
    elif isinstance(x, dict):
        for y in x.values():
            _walk_numbers(y, out, depth + 1)
    elif isinstance(x, list):
        for y in x:
            _walk_numbers(y, out, depth + 1)


NOT_JSON = _NOT_JSON
"""Sentinel :meth:`View.result` returns for a tool response that is not JSON."""


def run_view(view: View, only: Iterable[str] | None = None) -> list[Finding]:
    """Run the per-dialogue checks (all, or the ids in ``only``) on ``view``.

    Returns:
        Findings ordered by turn (dialogue-level ones last), then by registry order.
    """
    out: list[Finding] = []
    specs: Iterator[CheckSpec] = (CHECKS[c] for c in only) if only is not None else iter(CHECKS.values())
    for spec in specs:
        if spec.fn is None:
            continue
        for turn, message in spec.fn(view):
            out.append(Finding(spec.id, spec.severity, turn, spec.reason, message))
    if len(out) > 1:
        order = _ORDER if _ORDER_KEYS[0] == tuple(CHECKS) else _order()
        out.sort(key=lambda f: (f.turn if f.turn is not None else 1 << 30, order[f.check]))
    return out


_ORDER: dict[str, int] = {}
_ORDER_KEYS: list[tuple] = [()]


def _order() -> dict[str, int]:
    """Check id → registry position (the report order), rebuilt when the registry changed."""
    _ORDER.clear()
    _ORDER.update((cid, n) for n, cid in enumerate(CHECKS))
    _ORDER_KEYS[0] = tuple(CHECKS)
    return _ORDER
