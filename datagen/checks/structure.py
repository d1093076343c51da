"""Structure: who speaks when, calls paired with responses, a final answer, no empty turns, no leftovers.

Sources: the Qwen2.5 chat template and seed 001's record rules (ARCHITECTURE.md, "Facts"): a dialogue starts
with the customer, every ``<tool_call>`` is answered by a ``<tool_response>`` and the assistant
answers in text at the end; the original pipeline's regex splitter left tags and role labels inside
turns (post-mortems).
"""

from __future__ import annotations

import re

from .core import View, check

_ROLE_KO: dict[str | None, str] = {"user": "고객", "assistant": "상담사", "tool": "도구 결과"}  # keyed by t.get("role"): None when missing


@check("first_turn_user", "error", "other", "첫 턴이 고객이 아님", "structure")
def first_turn_user(v: View):
    if not v.turns:
        yield None, "턴이 하나도 없습니다."
    elif v.turns[0].get("role") != "user":
        yield 0, f"첫 턴이 고객이 아니라 {_ROLE_KO.get(v.turns[0].get('role'), '알 수 없는 역할')}입니다."


@check("role_order", "error", "other", "역할 순서 오류", "structure")
def role_order(v: View):
    """user→user, assistant text→assistant text, tool→user. Transitions that involve an unanswered
    call or an orphan response are reported by the pairing checks instead."""
    prev = None
    prev_text_only = False
    for i, t in enumerate(v.turns):
        role = t.get("role")
        if prev == "user" and role == "user":
            yield i, "고객 턴이 연속으로 나옵니다 (사이에 상담사 답변이 없음)."
        elif prev == "assistant" and prev_text_only and role == "assistant" and not t.get("tool_calls"):
            yield i, "상담사 텍스트 턴이 연속으로 나옵니다."
        elif prev == "tool" and role == "user":
            yield i, "도구 결과 뒤에 상담사 답변 없이 고객 턴이 나옵니다."
        prev, prev_text_only = role, role == "assistant" and not t.get("tool_calls")


@check("tool_call_unanswered", "error", "incomplete", "응답 없는 도구 호출", "structure")
def tool_call_unanswered(v: View):
    answer = v.pairing[0]
    for k, (i, c) in enumerate(v.calls):
        if k not in answer:
            yield i, f"도구 호출 {c.get('name')}에 대한 도구 결과가 없습니다."


@check("tool_response_orphan", "error", "other", "호출 없는 도구 결과", "structure")
def tool_response_orphan(v: View):
    for i in v.pairing[2]:
        yield i, "앞선 도구 호출 없이 도구 결과가 나옵니다."


@check("ends_without_answer", "error", "incomplete", "상담사 답변으로 끝나지 않음", "structure")
def ends_without_answer(v: View):
    if not v.turns:
        return
    last = v.turns[-1]
    if last.get("role") != "assistant" or not (last.get("content") or "").strip() or last.get("tool_calls"):
        what_of: dict[str | None, str] = {"user": "고객 턴", "tool": "도구 결과"}
        what = what_of.get(last.get("role"), "도구 호출")
        yield v.n - 1, f"대화가 상담사의 텍스트 답변이 아니라 {what}(으)로 끝납니다."


@check("empty_turn", "error", "incomplete", "빈 턴", "structure")
def empty_turn(v: View):
    for i, t in enumerate(v.turns):
        if (t.get("content") or "").strip() or (t.get("role") == "assistant" and t.get("tool_calls")):
            continue
        yield i, f"{_ROLE_KO.get(t.get('role'), '?')} 턴이 비어 있습니다."


_MARKUP = re.compile(
    r"<\|[a-z_]+\|>|</?tool_(?:call|response)>|</?tools>|</?think>|\[/?INST\]|<</?SYS>>|</?s>"
    r"|\{\{[^{}\n]{0,60}\}\}|\{%[^\n]{0,60}%\}|(?<!\{)\{[a-z_]{1,30}\}(?!\})|\$\{[A-Za-z_]\w*\}",
    re.I,
)
_MARKUP_HINTS = ("<", "{", "[", "$")
_MARKUP_HINT_ONLY = re.compile(r"[<{\[$]")
_ROLE_LABEL = re.compile(r"^[ \t]*(?:user|assistant|system|사용자|어시스턴트|상담사|고객)[ \t]*[:：]", re.M | re.I)


@check("leftover_markup", "error", "other", "남은 태그·템플릿 토큰", "structure")
def leftover_markup(v: View):
    """Chat-template tokens, tool tags, role labels at a line start and unfilled ``{placeholders}``
    in customer or assistant text (the system prompt may legitimately hold a ``<tools>`` block)."""
    all_text = v.all_text  # no hint or colon anywhere: no turn can match
    if not any(h in all_text for h in _MARKUP_HINTS) and ":" not in all_text and "：" not in all_text:
        return
    for i, role, text in v.texts:
        m = None
        if _MARKUP_HINT_ONLY.search(text):
            m = _MARKUP.search(text)
        if m is None and (":" in text or "：" in text):
            m = _ROLE_LABEL.search(text)
        if m:
            yield i, f"{_ROLE_KO[role]} 턴에 남은 태그·템플릿 토큰이 있습니다: {m.group(0).strip()[:40]!r}"
