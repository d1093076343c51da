"""The one internal model (``Dialogue``) and every format at its edges.

ARCHITECTURE.md, "One internal model, formats at the edges": parse once at the boundary into a structured
``Dialogue`` where a tool call is ``{name, arguments: dict}`` and a tool result is its own turn.
Every other format is a parser into, or a rendering of, this model:

- generator output (Structured Outputs JSON, :mod:`datagen.generator_schema`) → :func:`from_generator_output`
- seed 001 ``dataset.jsonl`` records (Qwen tags in content) ↔ :func:`from_seed_record` / :func:`to_seed_record`
- OpenAI / Hugging Face messages (``tool_calls``, role ``tool``) ↔ :func:`from_messages` / :func:`to_messages`
- Qwen2.5 chat-template text ← :func:`render_qwen_text`

Parsers raise :class:`FormatError` with a one-line reason; callers add file and line.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

import jinja2
import uuid6
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import BaseModel, Field

from .errors import InputError
from .fastjson import dumps_sorted
from .fastjson import loads as fast_loads

Role = Literal["user", "assistant", "tool"]


def new_uid() -> str:
    """A fresh sample uid: a UUIDv7 string (RFC 9562: 48-bit Unix milliseconds, then random bits;
    the ``uuid6`` package). Time-ordered, so samples stored together sit together in every uid index
    (random v4 uids made each insert touch a random B-tree page: BENCHMARKS.md, "Batches at scale")."""
    return str(uuid6.uuid7())


class FormatError(InputError):
    """A record that cannot be turned into a Dialogue; ``str(err)`` is a one-line reason in Korean
    (stored as the raw line's failure reason). Also a ``ValueError`` (:class:`datagen.errors.InputError`)."""


class ToolCall(BaseModel):
    """One function call made by the assistant.

    Attributes:
        id: call id pairing the call with its tool response (``call_1``…); ``None`` when the
            source format had none (seed 001 records are paired by order).
        name: function name.
        arguments: decoded arguments, always a dict (a JSON string would be double-encoded by the
            Qwen template: ARCHITECTURE.md, "Facts").
    """

    id: str | None = None
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class Turn(BaseModel):
    """One turn: user text, assistant text and/or tool calls, or one tool response.

    For ``role == "tool"``: ``content`` is the tool result as text (usually JSON), ``name`` the
    function and ``tool_call_id`` the call it answers.
    """

    role: Role
    content: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None


class Dialogue(BaseModel):
    """A multi-turn function-calling dialogue with its tools and provenance.

    Attributes:
        uid: stable id (:func:`new_uid` for generated samples, the source's uid when imported).
        kind: ``train`` or ``gold`` (gold = evaluation set, published as the ``test`` split).
        category: scenario category key (``config.CATEGORIES``) or ``imported``.
        dates: the dialogue's "today" as ``YYYY-MM-DD`` (seed 001 field name), may be empty.
        system_prompt: the assistant's system prompt (may embed a Qwen ``# Tools`` block).
        tools: function specs in Chat Completions' nested shape ``{"type": "function", "function": {...}}``.
        turns: user / assistant / tool turns, without the system turn.
        custom_id: batch custom_id it came from (``{kind}-{category}-{seq:05d}``), if any.
        source: where it came from (``batch:<id>``, ``import:<file>``, ``offline``…).
        model: generator model name, if known.
        user_id: the customer's id the dialogue is set for, when the source names one (seed 001's
            ``uid`` is the logged-in user's id, drawn from a pool, so it repeats across dialogues:
            seed ``config.py`` ``USER_IDS``); never the sample's identity.

    Field order is part of the stored format: :meth:`model_dump_json` writes the fields in the
    order above, ``uid, kind, category, dates, system_prompt, tools, turns, custom_id, source,
    model, user_id``. The store keeps a dialogue's tool list apart (``toolsets``) and puts it back
    right before ``,"turns":`` (:func:`datagen.store.join_tools`, the ``sample_dialogues`` view),
    which is only correct while ``tools`` comes right before ``turns`` and every field before
    ``tools`` is a string (so the first ``,"turns":`` / ``,"tools":`` of the text is the top-level
    key). Do not reorder or insert fields before ``turns`` (tests/test_dialogue.py pins this).
    """

    uid: str
    kind: Literal["train", "gold"] = "train"
    category: str = "imported"
    dates: str = ""
    system_prompt: str = ""
    tools: list[dict[str, Any]] = Field(default_factory=list)
    turns: list[Turn] = Field(default_factory=list)
    custom_id: str | None = None
    source: str = ""
    model: str | None = None
    user_id: str = ""

    def tool_calls(self) -> list[tuple[int, ToolCall]]:
        """All tool calls as ``(turn index, call)`` pairs, in dialogue order."""
        return [(i, c) for i, t in enumerate(self.turns) for c in t.tool_calls]

    def tools_json(self) -> str:
        """The tool list exactly as :meth:`model_dump_json` writes it (compact JSON, UTF-8 kept)."""
        return self.model_dump_json(include={"tools"})[len('{"tools":') : -1]

    def content_hash(self) -> str:
        """SHA-256 hex of the turns and system prompt (what a reviewer sees), for dedup and lineage:
        :func:`content_hash_of` ``(system_prompt, [turn.model_dump()…])``."""
        return content_hash_of(self.system_prompt, [t.model_dump() for t in self.turns])


def content_hash_of(system_prompt: str, turns: list[dict]) -> str:
    """SHA-256 hex of ``[system_prompt, turns]`` as canonical JSON (:func:`fastjson.dumps_sorted`);
    ``turns`` in the ``Turn.model_dump()`` shape (the stored JSON decoded gives the same)."""
    return hashlib.sha256(dumps_sorted([system_prompt, turns])).hexdigest()


# ----------------------------------------------------------------------------- tools


def normalize_tool(spec: dict) -> dict:
    """Return a tool spec in Chat Completions' nested shape.

    Accepts the nested shape ``{"type": "function", "function": {"name", ...}}`` and the Responses
    API's flat shape ``{"type": "function", "name", "description", "parameters"}`` (ARCHITECTURE.md, "Facts").

    Raises:
        FormatError: the spec is not a dict or has no function name.
    """
    if not isinstance(spec, dict):
        raise FormatError(f"도구 명세가 {type(spec).__name__}입니다: 객체여야 합니다")
    fn = spec.get("function") if isinstance(spec.get("function"), dict) else None
    if fn is None:
        fn = {k: v for k, v in spec.items() if k not in ("type", "strict")}
        if "strict" in spec:
            fn["strict"] = spec["strict"]
    if not isinstance(fn.get("name"), str) or not fn["name"]:
        raise FormatError("도구 명세에 함수 이름이 없습니다")
    return {"type": "function", "function": fn}


def normalize_tools(specs: Any) -> list[dict]:
    """Normalise a list of tool specs (see :func:`normalize_tool`); ``None`` gives ``[]``.

    Raises:
        FormatError: ``specs`` is not a list, or one spec is malformed.
    """
    if specs is None:
        return []
    if not isinstance(specs, list):
        raise FormatError("tools는 목록이어야 합니다")
    return [normalize_tool(s) for s in specs]


def tool_by_name(tools: list[dict]) -> dict[str, dict]:
    """Map function name → the ``function`` object of each nested spec."""
    return {t["function"]["name"]: t["function"] for t in tools}


def _decode_arguments(raw: Any, where: str) -> dict:
    """Arguments as a dict: accepts a dict or a JSON string holding an object."""
    if isinstance(raw, dict):
        return raw
    if raw is None or raw == "":
        return {}
    if isinstance(raw, str):
        try:
            value = fast_loads(raw)
        except json.JSONDecodeError as exc:
            raise FormatError(f"{where}: arguments가 올바른 JSON이 아닙니다 ({exc.msg})") from None
        if isinstance(value, str):  # double-encoded
            return _decode_arguments(value, where)
        if isinstance(value, dict):
            return value
    raise FormatError(f"{where}: arguments는 JSON 객체여야 합니다: {type(raw).__name__}입니다")


# ----------------------------------------------------------------------------- generator output


def from_generator_output(content: str | dict, *, uid: str | None = None, **fields: Any) -> Dialogue:
    """Parse the generator's Structured Outputs answer (:data:`generator_schema.GENERATOR_SCHEMA`).

    Args:
        content: the assistant message content (a JSON string) or the decoded object.
        uid: the Dialogue uid; :func:`new_uid` when omitted.
        **fields: other Dialogue fields (kind, category, dates, system_prompt, tools, custom_id, …).

    Raises:
        FormatError: not JSON, not an object with ``turns``, a turn with an unknown role, a tool
            call whose ``arguments_json`` is not a JSON object, or no turns at all.
    """
    if isinstance(content, str):
        try:
            data = json.loads(content)
        except json.JSONDecodeError as exc:
            raise FormatError(f"생성 결과가 올바른 JSON이 아닙니다 ({exc.msg}, 위치 {exc.pos})") from None
    else:
        data = content
    if not isinstance(data, dict) or not isinstance(data.get("turns"), list):
        raise FormatError("생성 결과에 'turns' 목록이 없습니다")
    turns: list[dict] = []  # validated in one go with the Dialogue (faster than a model per turn)
    for i, t in enumerate(data["turns"]):
        if not isinstance(t, dict) or t.get("role") not in ("user", "assistant", "tool"):
            raise FormatError(f"턴 {i}: role은 user, assistant, tool 중 하나여야 합니다")
        calls = []
        for j, c in enumerate(t.get("tool_calls") or []):
            if not isinstance(c, dict) or not c.get("name"):
                raise FormatError(f"턴 {i} 호출 {j}: 이름 없는 도구 호출입니다")
            raw = c.get("arguments_json", c.get("arguments"))
            calls.append({"id": c.get("id"), "name": c["name"], "arguments": _decode_arguments(raw, f"턴 {i} 호출 {j}")})
        turns.append({"role": t["role"], "content": t.get("content") or "", "tool_calls": calls, "tool_call_id": t.get("tool_call_id"), "name": t.get("name")})
    if not turns:
        raise FormatError("생성 결과에 턴이 없습니다")
    return Dialogue.model_validate({**fields, "uid": uid or new_uid(), "turns": turns})


# ----------------------------------------------------------------------------- OpenAI / HF messages


def to_messages(d: Dialogue, *, system: bool = True, arguments_as: Literal["dict", "json"] = "dict") -> list[dict]:
    """Render as OpenAI / Hugging Face chat messages.

    Args:
        d: the dialogue.
        system: prepend ``{"role": "system", "content": system_prompt}`` when there is one.
        arguments_as: ``dict`` (what Hugging Face chat templates take) or ``json`` (OpenAI API wire
            format: a JSON string).

    Returns:
        ``[{"role", "content", ["tool_calls": [{"id", "type": "function", "function": {"name",
        "arguments"}}]], ["tool_call_id", "name"]}]``.
    """
    out: list[dict] = []
    if system and d.system_prompt:
        out.append({"role": "system", "content": d.system_prompt})
    for t in d.turns:
        m: dict[str, Any] = {"role": t.role, "content": t.content}
        if t.tool_calls:
            m["tool_calls"] = [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {
                        "name": c.name,
                        "arguments": c.arguments if arguments_as == "dict" else json.dumps(c.arguments, ensure_ascii=False),
                    },
                }
                for c in t.tool_calls
            ]
        if t.role == "tool":
            m["tool_call_id"] = t.tool_call_id
            m["name"] = t.name
        out.append(m)
    return out


def _content_text(content: Any, where: str) -> str:
    """Message content as text: a string, null, or a list of ``{"type": "text", "text"}`` parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for p in content:
            if isinstance(p, dict) and isinstance(p.get("text"), str):
                parts.append(p["text"])
            else:
                raise FormatError(f"{where}: text가 없는 content 조각이 있습니다")
        return "".join(parts)
    if isinstance(content, (dict, list)):
        return json.dumps(content, ensure_ascii=False)
    raise FormatError(f"{where}: content는 텍스트여야 합니다")


def from_messages(messages: Any, *, tools: Any = None, uid: str | None = None, **fields: Any) -> Dialogue:
    """Parse OpenAI / Hugging Face chat messages (``tool_calls``, role ``tool``).

    A leading system message becomes ``system_prompt``. Call ids missing in the source are assigned
    (``call_1``, …) and tool turns without ``tool_call_id`` are paired with open calls in order.
    Arguments may be dicts or JSON strings. If the messages carry Qwen tags instead (seed 001 style)
    they are parsed as such.

    Raises:
        FormatError: not a list of messages, unknown role, malformed tool call, or no user turn.
    """
    if not isinstance(messages, list) or not messages:
        raise FormatError("messages는 비어 있지 않은 목록이어야 합니다")
    system_prompt = fields.pop("system_prompt", "")
    turns: list[Turn] = []
    open_calls: list[ToolCall] = []
    seq = 0
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            raise FormatError(f"메시지 {i}이(가) 객체가 아닙니다")
        role = m.get("role")
        where = f"메시지 {i}"
        if role in ("system", "developer"):
            if i == 0:
                system_prompt = _content_text(m.get("content"), where)
                continue
            raise FormatError(f"{where}: 첫 턴 뒤에 system 메시지가 있습니다")
        if role == "function":
            role = "tool"
        if role not in ("user", "assistant", "tool"):
            raise FormatError(f"{where}: 알 수 없는 role {role!r}")
        text = _content_text(m.get("content"), where)
        if role == "assistant":
            calls = []
            raw_calls = list(m.get("tool_calls") or [])
            if m.get("function_call"):
                raw_calls.append({"function": m["function_call"]})
            for j, c in enumerate(raw_calls):
                if not isinstance(c, dict):
                    raise FormatError(f"{where}: 도구 호출 {j}이(가) 객체가 아닙니다")
                nested = c.get("function")
                fn = nested if isinstance(nested, dict) else c
                if not isinstance(fn.get("name"), str):
                    raise FormatError(f"{where}: 도구 호출 {j}에 함수 이름이 없습니다")
                seq += 1
                call = ToolCall(
                    id=c.get("id") or f"call_{seq}",
                    name=fn["name"],
                    arguments=_decode_arguments(fn.get("arguments"), f"{where} 호출 {j}"),
                )
                calls.append(call)
            if not calls and _OPEN_CALL in text:
                text, calls = _split_tool_calls(text, where, start=seq)
                seq += len(calls)
            open_calls.extend(calls)
            turns.append(Turn(role="assistant", content=text, tool_calls=calls))
        elif role == "tool":
            call_id = m.get("tool_call_id")
            match = next((c for c in open_calls if c.id == call_id), None) if call_id else None
            if match is None and open_calls:
                match = open_calls[0]
            if match is not None:
                open_calls.remove(match)
            turns.append(
                Turn(
                    role="tool",
                    content=text,
                    tool_call_id=call_id or (match.id if match else None),
                    name=m.get("name") or (match.name if match else None),
                )
            )
        else:
            responses = _split_tool_responses(text)
            if responses is not None:
                for r in responses:
                    match = open_calls.pop(0) if open_calls else None
                    turns.append(
                        Turn(
                            role="tool",
                            content=r,
                            tool_call_id=match.id if match else None,
                            name=match.name if match else None,
                        )
                    )
            else:
                turns.append(Turn(role="user", content=text))
    if not any(t.role == "user" for t in turns):
        raise FormatError("user 턴이 없습니다")
    return Dialogue(
        uid=uid or new_uid(),
        system_prompt=system_prompt,
        tools=normalize_tools(tools),
        turns=turns,
        **fields,
    )


# ----------------------------------------------------------------------------- seed 001 (Qwen tags)


_JSON = json.JSONDecoder()
_OPEN_CALL, _CLOSE_CALL = "<tool_call>", "</tool_call>"
_RESPONSE_SEP = "\n</tool_response>\n<tool_response>\n"


def _split_tool_calls(text: str, where: str, start: int = 0) -> tuple[str, list[ToolCall]]:
    """Split assistant text with Qwen ``<tool_call>`` blocks into (remaining text, calls).

    Each block's JSON is read with a JSON decoder rather than up to the next ``</tool_call>``, so an
    argument that itself contains ``</tool_call>`` (hostile or not) cannot cut a call short.
    """
    calls: list[ToolCall] = []
    rest: list[str] = []
    pos = 0
    while True:
        i = text.find(_OPEN_CALL, pos)
        if i < 0:
            rest.append(text[pos:])
            break
        rest.append(text[pos:i])
        j = i + len(_OPEN_CALL)
        while j < len(text) and text[j].isspace():
            j += 1
        try:
            obj, end = _JSON.raw_decode(text, j)
        except json.JSONDecodeError as exc:
            raise FormatError(f"{where}: <tool_call>이 올바른 JSON이 아닙니다 ({exc.msg})") from None
        k = end
        while k < len(text) and text[k].isspace():
            k += 1
        if not text.startswith(_CLOSE_CALL, k):
            raise FormatError(f"{where}: <tool_call> JSON 뒤에 </tool_call>이 없습니다")
        if not isinstance(obj, dict) or not isinstance(obj.get("name"), str):
            raise FormatError(f"{where}: <tool_call>에 함수 이름이 없습니다")
        calls.append(
            ToolCall(
                id=f"call_{start + len(calls) + 1}",
                name=obj["name"],
                arguments=_decode_arguments(obj.get("arguments"), f"{where} <tool_call>"),
            )
        )
        pos = k + len(_CLOSE_CALL)
    return "".join(rest).strip(), calls


def _split_tool_responses(text: str) -> list[str] | None:
    """Tool responses of a user turn that starts and ends with the tags (Qwen3 rule), else None.

    Responses are separated exactly as the Qwen2.5 template joins them
    (``\n</tool_response>\n<tool_response>\n``), so a result whose text merely mentions the
    closing tag stays whole.
    """
    s = text.strip()
    if not (s.startswith("<tool_response>") and s.endswith("</tool_response>")):
        return None
    inner = s[len("<tool_response>") : -len("</tool_response>")]
    inner = inner[1:] if inner.startswith("\n") else inner
    inner = inner[:-1] if inner.endswith("\n") else inner
    return inner.split(_RESPONSE_SEP)


def from_seed_record(rec: Any, **fields: Any) -> Dialogue:
    """Parse one seed 001 ``dataset.jsonl`` record.

    Shape: ``{"tools": [...], "uid", "dates", "system_prompt", "messages": [{"role", "content"}]}``
    where assistant content holds ``<tool_call>\\n{"name", "arguments"}\\n</tool_call>`` blocks and
    tool results are user turns made only of ``<tool_response>`` blocks (seed 001, Step 4).
    Extra keys ``kind`` and ``category`` are honoured when present.

    Raises:
        FormatError: not an object, no messages, malformed tags or tool JSON.
    """
    if not isinstance(rec, dict) or not isinstance(rec.get("messages"), list):
        raise FormatError("레코드에 'messages' 목록이 없습니다")
    kind = rec.get("kind") if rec.get("kind") in ("train", "gold") else fields.pop("kind", "train")
    fields.pop("kind", None)
    category = rec.get("category") or fields.pop("category", "imported")
    fields.pop("category", None)
    return from_messages(
        rec["messages"],
        tools=rec.get("tools"),
        uid=str(rec.get("uid") or new_uid()),
        system_prompt=rec.get("system_prompt") or "",
        dates=str(rec.get("dates") or ""),
        kind=kind,
        category=category,
        **fields,
    )


def format_tool_call(call: ToolCall) -> str:
    """One call as the Qwen2.5 template writes it: ``<tool_call>\\n{"name": ..., "arguments": {...}}\\n</tool_call>``."""
    return '<tool_call>\n{"name": "' + call.name + '", "arguments": ' + json.dumps(call.arguments, ensure_ascii=False) + "}\n</tool_call>"


def to_seed_record(d: Dialogue) -> dict:
    """Render in seed 001's ``dataset.jsonl`` shape (Qwen tags in content, tool results as user turns).

    Consecutive tool responses merge into one user turn, as the Qwen2.5 template does. Extra keys
    ``kind``, ``category``, ``custom_id``, ``model`` and ``source`` follow the seed's five.
    """
    messages: list[dict] = []
    for t in d.turns:
        if t.role == "tool":
            block = "<tool_response>\n" + t.content + "\n</tool_response>"
            if messages and messages[-1].get("_tool"):
                messages[-1]["content"] += "\n" + block
            else:
                messages.append({"role": "user", "content": block, "_tool": True})
        elif t.role == "assistant" and t.tool_calls:
            parts = ([t.content] if t.content else []) + [format_tool_call(c) for c in t.tool_calls]
            messages.append({"role": "assistant", "content": "\n".join(parts)})
        else:
            messages.append({"role": t.role, "content": t.content})
    for m in messages:
        m.pop("_tool", None)
    return {
        "tools": d.tools,
        "uid": d.uid,
        "dates": d.dates,
        "system_prompt": d.system_prompt,
        "messages": messages,
        "kind": d.kind,
        "category": d.category,
        "custom_id": d.custom_id,
        "model": d.model,
        "source": d.source,
    }


# ----------------------------------------------------------------------------- Qwen2.5 chat template

# The Qwen2.5-Instruct chat template (tokenizer_config.json "chat_template"), verbatim.
QWEN25_CHAT_TEMPLATE = (
    "{%- if tools %}\n"
    "    {{- '<|im_start|>system\\n' }}\n"
    "    {%- if messages[0]['role'] == 'system' %}\n"
    "        {{- messages[0]['content'] }}\n"
    "    {%- else %}\n"
    "        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}\n"
    "    {%- endif %}\n"
    '    {{- "\\n\\n# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\n'
    'You are provided with function signatures within <tools></tools> XML tags:\\n<tools>" }}\n'
    "    {%- for tool in tools %}\n"
    '        {{- "\\n" }}\n'
    "        {{- tool | tojson }}\n"
    "    {%- endfor %}\n"
    '    {{- "\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments '
    'within <tool_call></tool_call> XML tags:\\n<tool_call>\\n{\\"name\\": <function-name>, \\"arguments\\": '
    '<args-json-object>}\\n</tool_call><|im_end|>\\n" }}\n'
    "{%- else %}\n"
    "    {%- if messages[0]['role'] == 'system' %}\n"
    "        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}\n"
    "    {%- else %}\n"
    "        {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}\n"
    "    {%- endif %}\n"
    "{%- endif %}\n"
    "{%- for message in messages %}\n"
    '    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or '
    '(message.role == "assistant" and not message.tool_calls) %}\n'
    "        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}\n"
    '    {%- elif message.role == "assistant" %}\n'
    "        {{- '<|im_start|>' + message.role }}\n"
    "        {%- if message.content %}\n"
    "            {{- '\\n' + message.content }}\n"
    "        {%- endif %}\n"
    "        {%- for tool_call in message.tool_calls %}\n"
    "            {%- if tool_call.function is defined %}\n"
    "                {%- set tool_call = tool_call.function %}\n"
    "            {%- endif %}\n"
    '            {{- \'\\n<tool_call>\\n{"name": "\' }}\n'
    "            {{- tool_call.name }}\n"
    '            {{- \'", "arguments": \' }}\n'
    "            {{- tool_call.arguments | tojson }}\n"
    "            {{- '}\\n</tool_call>' }}\n"
    "        {%- endfor %}\n"
    "        {{- '<|im_end|>\\n' }}\n"
    '    {%- elif message.role == "tool" %}\n'
    '        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}\n'
    "            {{- '<|im_start|>user' }}\n"
    "        {%- endif %}\n"
    "        {{- '\\n<tool_response>\\n' }}\n"
    "        {{- message.content }}\n"
    "        {{- '\\n</tool_response>' }}\n"
    '        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}\n'
    "            {{- '<|im_end|>\\n' }}\n"
    "        {%- endif %}\n"
    "    {%- endif %}\n"
    "{%- endfor %}\n"
    "{%- if add_generation_prompt %}\n"
    "    {{- '<|im_start|>assistant\\n' }}\n"
    "{%- endif %}\n"
)


def _tojson(x: Any, ensure_ascii: bool = False, indent: Any = None, separators: Any = None, sort_keys: bool = False) -> str:
    """The ``tojson`` filter as transformers' chat-template environment defines it."""
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


_TEMPLATE: jinja2.Template | None = None


def _template() -> jinja2.Template:
    """The compiled Qwen2.5 template (compiled once)."""
    global _TEMPLATE
    if _TEMPLATE is None:
        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        env.filters["tojson"] = _tojson
        _TEMPLATE = env.from_string(QWEN25_CHAT_TEMPLATE)
    return _TEMPLATE


def render_qwen_text(d: Dialogue, *, add_generation_prompt: bool = False) -> str:
    """Render the Qwen2.5 chat-template text, as ``tokenizer.apply_chat_template(messages, tools=tools,
    tokenize=False)`` would for the same messages (same template, same jinja options and ``tojson``
    filter as transformers' ``_compile_jinja_template``).
    """
    return _template().render(
        messages=to_messages(d, system=bool(d.system_prompt)),
        tools=d.tools or None,
        add_generation_prompt=add_generation_prompt,
    )
