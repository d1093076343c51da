"""Streamlit pieces shared by the pages: the database handle, the backend banner, dialogue rendering,
the schema-driven argument editor.

Model-written text is data, never markup: it is shown with ``st.text``, ``st.code``, ``st.json`` or
inside dataframes only, never ``st.markdown`` or HTML (ARCHITECTURE.md, "Habits"). Markdown is used only for
fixed Korean labels written here.

Errors (ARCHITECTURE.md, "Errors and messages"): a :class:`~datagen.errors.DatagenError` raised by
an action is shown as ``st.error`` (:func:`user_errors`, or the page's own ``except DatagenError``);
any other exception is a bug and is left to surface with its traceback.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from typing import Any

import pandas as pd
import streamlit as st

from . import settings
from .checks.calls import argument_problems
from .dialogue import Dialogue, ToolCall, Turn, tool_by_name
from .errors import DatagenError
from .store import get_db

ROLE_KO = {"user": "고객", "assistant": "상담사", "tool": "도구 결과"}
# Status in words, not emoji: a machine without an emoji font shows emoji as empty boxes (issue 15).
SEVERITY_LABEL: dict[str | None, str] = {"error": "[오류]", "warning": "[경고]"}
_ARG_STATUS = {
    "unexpected": "오류: 스키마에 없는 인자",
    "missing": "오류: 필수 인자 누락",
    "type": "오류: 타입 불일치 (기대: {expected})",
    "value": "오류: 허용되지 않은 값",
}
_JSON_TYPES = {str: "string", bool: "boolean", int: "integer", float: "number", list: "array", dict: "object", type(None): "null"}


def db():
    """The per-thread cached database connection (sqlite3 connections are not thread-safe)."""
    return get_db()


@contextmanager
def user_errors(prefix: str = "") -> Iterator[None]:
    """Run a page action; a :class:`~datagen.errors.DatagenError` it raises (bad input, a refused
    action: its message is one Korean line) is shown as ``st.error`` with ``prefix`` before it, and
    the rest of the block is skipped. Any other exception propagates: it is a bug, and Streamlit
    shows its traceback (a ``ValueError`` from a mistake must not read like a user's error).

    Example::

        with user_errors("제출하지 못했습니다: "):
            job = jobs.create_job(...)
            st.success(f"작업 {job['id']} 제출됨")
    """
    try:
        yield
    except DatagenError as exc:
        st.error(f"{prefix}{exc}")


def backend_banner(*, sidebar: bool = False) -> None:
    """Say which batch backend is active; a warning when it is the offline one. Every page shows it:
    in the main column, or in the sidebar (``sidebar=True``: Review, where the dialogue comes first)."""
    where = st.sidebar if sidebar else st
    if settings.backend_name() == "offline":
        where.warning(settings.offline_notice(), icon=":material/warning:")
    else:
        where.info("OpenAI Batch API 사용 중 (OPENAI_BASE_URL이 설정되어 있으면 해당 호환 서버).", icon=":material/key:")


_MD_SPECIAL = re.compile("([" + re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") + "])")  # CommonMark: any ASCII punctuation may be escaped


def md_literal(text: str) -> str:
    """``text`` made inert inside a Streamlit markdown string (button labels, toasts, captions all
    read markdown): every ASCII punctuation character is backslash-escaped (CommonMark 0.31, 2.4
    "Backslash escapes"), so no emphasis, link, image, HTML, entity, list marker, colour or icon
    directive (``:red[…]``, ``:material/x:``) or LaTeX can start; stored ids (uid, custom_id,
    source) show as the very characters they are."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def use_app_navigation() -> None:
    """Make a page opened by a direct link (``/Review``) show app.py's navigation (홈, 생성, …).

    Streamlit 1.67 starts in its legacy "pages/ folder" mode until the entrypoint has called
    ``st.navigation`` once in the server process; until then a direct link runs the page file alone
    under a sidebar of English file names (streamlit/runtime/scriptrunner/script_runner.py,
    ``_mpa_v1``). Called first by every page: in that mode it switches to app.py's navigation
    (the flag ``st.navigation`` itself clears) and reruns, so app.py runs and opens this page."""
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def fmt_time(iso: str | None) -> str:
    """A stored timestamp (ISO-8601 UTC with microseconds) as ``2026-11-21 12:00:05 UTC`` for the
    screen; ``""`` for none; text that is not a timestamp comes back unchanged."""
    if not iso:
        return ""
    from datetime import datetime

    try:
        t = datetime.fromisoformat(str(iso))
    except ValueError:
        return str(iso)
    if t.tzinfo is not None:
        t = t.astimezone(UTC)
    return t.strftime("%Y-%m-%d %H:%M:%S") + " UTC"


def hf_token() -> str | None:
    """:func:`datagen.settings.hf_token` with Streamlit secrets as the fallback after ``HF_TOKEN``
    (no ``secrets.toml`` at all: the environment only); never shown or stored."""
    try:
        secrets = st.secrets if "HF_TOKEN" in st.secrets else None
    except Exception:  # no secrets.toml at all (Streamlit raises its own FileNotFoundError subclass)
        secrets = None
    return settings.hf_token(secrets)


def oidc_configured() -> bool:
    """True when ``.streamlit/secrets.toml`` has an ``[auth]`` section (Streamlit's built-in OIDC login)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def identity() -> str:
    """Who is using the page: the logged-in user (``st.user``, OIDC) when ``[auth]`` is configured —
    the page stops at a login button until then — or, in the local single-team mode, a name typed
    once per session (``st.session_state["annotator"]``). The sidebar says which mode is active and
    which roles the person has."""
    if oidc_configured():
        if not st.user.is_logged_in:
            st.info("로그인이 필요합니다.")
            st.button("로그인", on_click=st.login, key="login")
            st.stop()
        name = str(st.user.get("email") or st.user.get("name") or "")
        st.sidebar.caption(f"로그인: {name}")
        st.sidebar.button("로그아웃", on_click=st.logout, key="logout")
        st.session_state["annotator"] = name
    else:
        if "annotator" not in st.session_state:  # a new session (reload, new tab): the name from the cookie;
            # another page of this session: the name typed there (Streamlit drops a widget's state when a page without it runs)
            saved = st.session_state["_annotator_name"] if "_annotator_name" in st.session_state else _saved_name()
            if saved:
                st.session_state["annotator"] = saved
        name = (st.sidebar.text_input("검토자 이름", key="annotator", placeholder="이름을 입력하세요") or "").strip()
        st.session_state["_annotator_name"] = name
        st.sidebar.caption(
            "로컬 단일 팀 모드: 로그인 없이 입력한 이름으로 기록합니다. 이름은 이 브라우저에 기억되고, "
            "Enter를 누르면 입력칸을 벗어나 바로 단축키를 쓸 수 있습니다."
        )
        _remember_name(name)
    _roles_caption(name)
    return name


NAME_COOKIE = "datagen_annotator"


def _saved_name() -> str:
    """The local-mode name kept in this browser's cookie (``datagen_annotator``), or ``""``."""
    from urllib.parse import unquote

    try:
        raw = st.context.cookies.get(NAME_COOKIE) or ""
    except Exception:  # no browser request (bare script run)
        return ""
    if not isinstance(raw, str):  # AppTest and bare runs have no real request
        return ""
    name = unquote(raw).strip()
    return name[:200] if name.isprintable() else ""


_NAME_SCRIPT = """<script>
(function () {
  var name = %s;
  document.cookie = "%s=" + encodeURIComponent(name) + "; path=/; max-age=" + (name ? 31536000 : 0) + "; SameSite=Lax";
  /* the name was just committed (Enter): leave the field even if Enter came before the listener below */
  var a = document.activeElement;
  if (name && a && a.tagName === "INPUT" && a.getAttribute("aria-label") === "검토자 이름") a.blur();
  if (window.__datagenNameBlur) return;
  window.__datagenNameBlur = true;
  /* Enter in the name field commits it and leaves the field, so the next key is a shortcut. */
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.key === "Enter" && !e.isComposing && t && t.tagName === "INPUT" && t.getAttribute("aria-label") === "검토자 이름") {
      setTimeout(function () { t.blur(); }, 0);
    }
  }, true);
})();
</script>"""


def _remember_name(name: str) -> None:
    """Keep the local-mode name in a cookie (one year, this site's path) so a reload keeps it, and
    install the Enter-leaves-the-name-field listener. The name is embedded as a JSON string literal
    with ``<``, ``>`` and ``&`` escaped (static script of ours; the name is data)."""
    if st.session_state.get("_annotator_cookie") == name:
        return
    st.session_state["_annotator_cookie"] = name
    literal = json.dumps(name).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    with st.sidebar:
        st.html(_NAME_SCRIPT % (literal, NAME_COOKIE), unsafe_allow_javascript=True)


def _roles_caption(name: str) -> None:
    from . import auth

    if auth.open_mode(db()):
        st.sidebar.caption("권한이 아직 설정되지 않아 누구나 모든 작업을 할 수 있습니다 (관리 페이지에서 설정).")
    elif name:
        roles = sorted(auth.roles_of(db(), name))
        st.sidebar.caption("권한: " + (", ".join(auth.ROLE_KO[r] for r in roles) or "없음"))


def can(role: str) -> bool:
    """Whether the current identity holds ``role`` (for disabling buttons; the library checks again)."""
    from . import auth

    return role in auth.roles_of(db(), st.session_state.get("annotator"))


def _json_type(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def argument_rows(call: ToolCall, spec: dict | None) -> list[dict]:
    """Rows of the argument table: name, value (JSON text), type, expected type, and a status that
    marks arguments outside the schema, missing required ones, type mismatches and other invalid
    values — judged by the checks' own validator (:func:`datagen.checks.calls.argument_problems`)."""
    problems = argument_problems(call.arguments, spec)
    rows = []
    for name, value in call.arguments.items():
        p = problems.get(name)
        status = "" if p is None else _ARG_STATUS[p["problem"]].format(expected="/".join(p["expected"] or []))
        rows.append({"인자": name, "값": json.dumps(value, ensure_ascii=False), "타입": _json_type(value), "상태": status})
    for name in sorted(n for n, p in problems.items() if p["problem"] == "missing"):
        rows.append({"인자": name, "값": "", "타입": "", "상태": _ARG_STATUS["missing"]})
    return rows


def _findings_by_turn(findings: list[dict]) -> dict[int | None, list[dict]]:
    out: dict[int | None, list[dict]] = {}
    for f in findings:
        out.setdefault(f.get("turn"), []).append(f)
    return out


def render_findings(items: list[dict]) -> None:
    """Findings as one fixed-format line each (severity in words, check id, message as plain text).
    A judge model's finding (source ``judge:<model>``) is its message, which names the model, the
    reason and the evidence quote the model wrote: plain text too, never markup."""
    for f in items:
        label = SEVERITY_LABEL.get(f.get("severity"), "[참고]")
        if (f.get("source") or "rule") != "rule":
            st.text(f"{label} {f.get('message') or ''}")
        else:
            st.text(f"{label} [{f.get('check_id') or f.get('check')}] {f.get('message') or ''}")


def render_dialogue(d: Dialogue, findings: list[dict] | None = None) -> None:
    """Show a dialogue: turns as chat messages, then the system prompt and tools folded; each tool call a
    card (name, argument table with types and flags, raw JSON on demand, the tool's schema one click
    away); each tool response a distinct card naming the call it answers; findings next to the turn
    they concern."""
    known = tool_by_name(d.tools)
    by_turn = _findings_by_turn(findings or [])
    if by_turn.get(None):
        render_findings(by_turn[None])
    call_no: dict[str, int] = {}
    n = 0
    for i, t in enumerate(d.turns):
        if t.role == "tool":
            _render_tool_response(i, t, call_no, by_turn.get(i, []))
            continue
        with st.chat_message("user" if t.role == "user" else "assistant", avatar=":material/person:" if t.role == "user" else ":material/support_agent:"):
            st.caption(f"#{i} {ROLE_KO[t.role]}")
            if t.content:
                st.text(t.content)
            for c in t.tool_calls:
                n += 1
                if c.id:
                    call_no[c.id] = n
                _render_call(i, n, c, known.get(c.name))
            if by_turn.get(i):
                render_findings(by_turn[i])
    # context after the turns: the dialogue is the work and comes first (each call's tool schema is
    # also one click away on its card)
    with st.expander("시스템 프롬프트", expanded=False):
        st.text(d.system_prompt or "(없음)")
    with st.expander(f"도구 목록 ({len(d.tools)}개)", expanded=False):
        st.code(json.dumps(d.tools, ensure_ascii=False, indent=2), language="json")


def _render_call(turn: int, n: int, c: ToolCall, spec: dict | None) -> None:
    with st.container(border=True):
        head = st.columns([4, 1])
        head[0].markdown(f":orange-badge[:material/build: 도구 호출 {n}]" + ("" if spec else " :red-badge[:material/error: 오류: 알 수 없는 도구]"))
        if spec:
            with head[1].popover("도구 설명"):
                st.text(spec.get("description") or "")
                st.code(json.dumps(spec.get("parameters") or {}, ensure_ascii=False, indent=2), language="json")
        st.code(c.name, language=None)
        rows = argument_rows(c, spec)
        if rows:
            st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key=f"args_{turn}_{n}")
        else:
            st.caption("인자 없음")
        with st.expander("원본 JSON"):
            st.code(json.dumps({"name": c.name, "arguments": c.arguments}, ensure_ascii=False, indent=2), language="json")


def _render_tool_response(i: int, t: Turn, call_no: dict[str, int], findings: list[dict]) -> None:
    """One tool response card, labelled with the number of the call it answers; JSON folded."""
    with st.chat_message("tool", avatar=":material/data_object:"):
        with st.container(border=True):
            no = call_no.get(t.tool_call_id or "")
            st.markdown(f":blue-badge[:material/data_object: 도구 결과{f' ← 호출 {no}' if no else ''}]")
            st.caption(f"#{i}")
            if t.name:
                st.code(t.name, language=None)
            try:
                data = json.loads(t.content)
            except (ValueError, TypeError):
                st.code(t.content, language=None)
            else:
                st.json(data, expanded=2)
            if findings:
                render_findings(findings)


# ----------------------------------------------------------------------------- editing


def argument_form(call: ToolCall, spec: dict | None, key: str) -> dict:
    """Widgets for a call's arguments built from the tool's JSON Schema; returns the new arguments.

    string → text input (select box when ``enum``); integer / number → number input; boolean →
    select (보내지 않음 / true / false); anything else (arrays, objects, unknown arguments) → JSON
    text. Optional arguments can be left out ("보내지 않음" / empty); required ones are marked *.
    Invalid JSON in a JSON field keeps the old value and shows an error.
    """
    params = (spec or {}).get("parameters") or {}
    props = dict(params.get("properties") or {})
    required = set(params.get("required") or [])
    for extra in call.arguments:
        props.setdefault(extra, {})
    out: dict = {}
    for name, schema in props.items():
        label = f"{name}{' *' if name in required else ''}"
        current = call.arguments.get(name)
        present = name in call.arguments
        typ = schema.get("type")
        wkey = f"{key}_{name}"
        if "enum" in schema:
            options = ["(보내지 않음)", *schema["enum"]]
            idx = options.index(current) if present and current in options else 0
            v = st.selectbox(label, options, index=idx, key=wkey)
            if v != "(보내지 않음)":
                out[name] = v
        elif typ == "string":
            v = st.text_input(label, value=current if isinstance(current, str) else "", key=wkey, help="비우면 보내지 않습니다")
            if v != "" or (present and name in required):
                out[name] = v
        elif typ in ("integer", "number"):
            send = st.checkbox(f"{label} 보내기", value=present, key=wkey + "_on")
            if send:
                step = 1 if typ == "integer" else 0.1
                num = current if isinstance(current, (int, float)) and not isinstance(current, bool) else 0
                v = st.number_input(label, value=int(num) if typ == "integer" else float(num), step=step, key=wkey, label_visibility="collapsed")
                out[name] = int(v) if typ == "integer" else float(v)
        elif typ == "boolean":
            options = ["(보내지 않음)", "true", "false"]
            idx = 0 if not present else (1 if current else 2)
            v = st.selectbox(label, options, index=idx, key=wkey)
            if v != "(보내지 않음)":
                out[name] = v == "true"
        else:
            text = st.text_area(label + " (JSON)", value=json.dumps(current, ensure_ascii=False) if present else "", key=wkey, height=68)
            if text.strip():
                try:
                    out[name] = json.loads(text)
                except json.JSONDecodeError as exc:
                    st.error(f"{name}: JSON이 올바르지 않습니다 ({exc.msg}); 원래 값을 유지합니다.")
                    if present:
                        out[name] = current
    return out


def edit_dialogue(d: Dialogue, key: str) -> Dialogue:
    """An edit form for every turn (text) and every tool call (schema form); returns the edited copy."""
    known = tool_by_name(d.tools)
    edited = d.model_copy(deep=True)
    for i, t in enumerate(edited.turns):
        with st.container(border=True):
            st.caption(f"#{i} {ROLE_KO[t.role]}")
            if t.role != "assistant" or t.content or not t.tool_calls:
                t.content = st.text_area("내용", value=t.content, key=f"{key}_t{i}", label_visibility="collapsed")
            for j, c in enumerate(t.tool_calls):
                st.code(c.name, language=None)
                c.arguments = argument_form(c, known.get(c.name), key=f"{key}_t{i}_c{j}")
    return edited


def diff_text(before: Dialogue, after: Dialogue) -> str:
    """A unified diff of two versions' turns (pretty JSON, one line per field)."""

    def lines(d: Dialogue) -> list[str]:
        return json.dumps([t.model_dump(exclude_defaults=True) for t in d.turns], ensure_ascii=False, indent=1).splitlines()

    return "\n".join(difflib.unified_diff(lines(before), lines(after), "원본", "수정본", lineterm="", n=1))


# ----------------------------------------------------------------------------- keyboard


_KEY_SCRIPT = """<script>
(function () {
  window.__datagenKeyMap = %s;
  if (window.__datagenKeysInstalled) return;
  window.__datagenKeysInstalled = true;
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || e.repeat) return;
    if (/^[a-z0-9]$/i.test(e.key)) return;  /* Streamlit's own shortcut handles Latin keys */
    var t = e.target;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable)) return;
    var label = (window.__datagenKeyMap || {})[e.code];
    if (!label) return;
    var buttons = document.querySelectorAll("button");
    for (var i = 0; i < buttons.length; i++) {
      var b = buttons[i];
      if (!b.disabled && b.innerText.trim().indexOf(label) === 0) { e.preventDefault(); b.click(); return; }
    }
  }, true);
})();
</script>"""


def physical_key_shortcuts(mapping: dict[str, str]) -> None:
    """Make button shortcuts work whatever the keyboard layout (Korean 2-set, IME on).

    Streamlit's ``shortcut=`` matches the typed character, which is ``ㅁ`` or ``Process`` (IME)
    instead of ``a`` while the Korean layout is active. This installs one document-level listener
    that maps the *physical* key (``KeyboardEvent.code``, e.g. ``KeyA``) to the enabled button whose
    label starts with the given text, and only for non-Latin key values, so Latin keys still go
    through Streamlit alone (no double trigger). ``mapping``: ``{"KeyA": "승인", ...}`` (static text
    written here, never model output).
    """
    st.html(_KEY_SCRIPT % json.dumps(mapping, ensure_ascii=False), unsafe_allow_javascript=True)


_FOCUS_SCRIPT = """<script>
(function () {
  var tries = 0;
  var t = setInterval(function () {
    var el = document.querySelector("section.main textarea, [data-testid='stMain'] textarea");
    if (el || ++tries > 40) { clearInterval(t); if (el && document.activeElement !== el) el.focus(); }
  }, 50);
})();
</script>"""


def focus_first_field() -> None:
    """Put the keyboard focus in the first text area of the main area (edit mode opened by a key),
    so editing needs no mouse: Tab moves on, Ctrl+S saves."""
    st.html(_FOCUS_SCRIPT, unsafe_allow_javascript=True)


_SCROLL_SCRIPT = """<script>
(function () {
  var n = %d;
  if (window.__datagenScrolledFor === n) return;
  window.__datagenScrolledFor = n;
  function top() {
    window.scrollTo(0, 0);
    var els = document.querySelectorAll("[data-testid='stMain'], [data-testid='stAppViewContainer'], section.main");
    for (var i = 0; i < els.length; i++) els[i].scrollTop = 0;
  }
  top();
  requestAnimationFrame(top);
  setTimeout(top, 150);
})();
</script>"""


def scroll_to_top(nav: int) -> None:
    """Scroll the main area to the top once per new sample on screen (``nav`` counts what was shown:
    a decision, jump or step increments it), so its uid, decision bar and findings are in view."""
    with st.sidebar:
        st.html(_SCROLL_SCRIPT % int(nav), unsafe_allow_javascript=True)
