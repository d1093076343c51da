"""Streamlit pieces shared by the pages: the database handle, the backend banner, dialogue rendering.

Model-written text is data, never markup: it is shown with ``st.text`` / ``st.code`` only, never
``st.markdown`` or HTML (DESIGN.md, Habits). Labels built here are fixed Korean strings; names and
values that come from a dialogue go into code blocks.
"""

from __future__ import annotations

import json

import streamlit as st

from . import settings
from .dialogue import Dialogue, Turn, tool_by_name
from .store import get_db

ROLE_KO = {"user": "고객", "assistant": "상담사", "tool": "도구 결과"}


def db():
    """The per-thread cached database connection (sqlite3 connections are not thread-safe)."""
    return get_db()


def backend_banner() -> None:
    """Say which batch backend is active; a warning when it is the offline one."""
    if settings.backend_name() == "offline":
        st.warning(settings.offline_notice(), icon="⚠️")
    else:
        st.info("OpenAI Batch API 사용 중 (OPENAI_BASE_URL이 설정되어 있으면 해당 호환 서버).", icon="🔑")


def annotator_input() -> str:
    """The annotator name, typed once per session (kept in ``st.session_state["annotator"]``)."""
    name = st.sidebar.text_input("검토자 이름", key="annotator", placeholder="이름을 입력하세요")
    return (name or "").strip()


def _pretty(text: str) -> tuple[str, str]:
    """Tool result text as pretty JSON when it parses (``("json", ...)``), else as is (``("text", ...)``)."""
    try:
        return "json", json.dumps(json.loads(text), ensure_ascii=False, indent=2)
    except (ValueError, TypeError):
        return "text", text


def render_dialogue(d: Dialogue) -> None:
    """Show a dialogue: system prompt and tools folded; turns as chat messages; each tool call and
    each tool response its own bordered block, calls numbered so a response names the call it answers."""
    known = tool_by_name(d.tools)
    with st.expander("시스템 프롬프트", expanded=False):
        st.text(d.system_prompt or "(없음)")
    with st.expander(f"도구 목록 ({len(d.tools)}개)", expanded=False):
        st.code(json.dumps(d.tools, ensure_ascii=False, indent=2), language="json")
    call_no: dict[str, int] = {}
    n = 0
    for i, t in enumerate(d.turns):
        if t.role == "tool":
            _render_tool_response(i, t, call_no)
            continue
        with st.chat_message("user" if t.role == "user" else "assistant", avatar="🙂" if t.role == "user" else "🛵"):
            st.caption(f"#{i} {ROLE_KO[t.role]}")
            if t.content:
                st.text(t.content)
            for c in t.tool_calls:
                n += 1
                if c.id:
                    call_no[c.id] = n
                with st.container(border=True):
                    flag = "" if c.name in known else "  ⚠️ 알 수 없는 도구"
                    st.markdown(f":orange-badge[🔧 도구 호출 {n}]{flag}")
                    st.code(c.name, language=None)
                    st.code(json.dumps(c.arguments, ensure_ascii=False, indent=2), language="json")


def _render_tool_response(i: int, t: Turn, call_no: dict[str, int]) -> None:
    """One tool response block, labelled with the number of the call it answers."""
    with st.chat_message("tool", avatar="📦"):
        with st.container(border=True):
            no = call_no.get(t.tool_call_id or "")
            st.markdown(f":blue-badge[📦 도구 결과{f' ← 호출 {no}' if no else ''}]")
            st.caption(f"#{i}")
            if t.name:
                st.code(t.name, language=None)
            kind, body = _pretty(t.content)
            st.code(body, language="json" if kind == "json" else None)
