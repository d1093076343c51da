"""What the assistant says against what the tools did: leaked internals, claims no tool returned,
capabilities no tool has, promises left hanging, items nobody asked for.

Source: issue 13 (misses 3–7 on the predecessor pipeline's own LLM output): "get_order_status 호출
시 …", raw ISO timestamps read to the customer, "인기 메뉴인 …" with no popularity in any result,
"할인·쿠폰 정보 확인은 도와드릴 수 있으니" with no such tool, a dialogue ending on "주문 준비할게요"
with no call after it, 만두 added when the customer asked for 막국수. All are warnings: Korean-text
heuristics, calibrated on ``tests/fixtures/calibration`` (``python -m datagen.validate --calibration``).
"""

from __future__ import annotations

import re

from . import text as tx
from .core import NOT_JSON, View, check

# ----------------------------------------------------------------------------- leaked internals

_ISO_TIME = re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_SNAKE_KEY = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")


def _result_keys(v: View) -> frozenset[str]:
    """snake_case keys of the dialogue's tool results (``payment_status``)."""
    cached = v.__dict__.get("_result_keys")
    if cached is None:
        keys: set[str] = set()

        def walk(x, depth=0):
            if depth > 5:
                return
            if isinstance(x, dict):
                for k, y in x.items():
                    if "_" in k:
                        keys.add(k)
                    walk(y, depth + 1)
            elif isinstance(x, list):
                for y in x[:20]:
                    walk(y, depth + 1)

        for i, t in enumerate(v.turns):
            if t.get("role") == "tool":
                r = v.result(i)
                if r is not NOT_JSON:
                    walk(r)
        cached = v.__dict__["_result_keys"] = frozenset(keys)
    return cached


def _code_like_names(table) -> list[str]:
    """Tool names that read as code (snake_case or camelCase), once per tool list."""
    return [n for n in table.fns if "_" in n or any(ch.isupper() for ch in n[1:])]


@check("tool_internals_leaked", "warning", "unnatural_korean", "도구 이름·원시 값 노출", "content")
def tool_internals_leaked(v: View):
    """Customer-facing text naming a tool of the record (``get_order_status 호출 시``), a result
    field (``payment_status: paid``) or reading out a raw ISO 8601 timestamp
    (``2025-02-17T12:46:00+09:00``) instead of saying it in Korean."""
    joined = v.assistant_text
    if not joined or ("_" not in joined and "T" not in joined):
        return
    names = v.table.memo_get("claims.code_like_names", _code_like_names)
    for i, text in v.assistant_texts:
        hit = None
        if "_" in text:
            for m in _SNAKE_KEY.finditer(text):
                w = m.group(0)
                if w in v.tools:
                    hit = f"도구 이름 {w!r}"
                    break
                if w in _result_keys(v):
                    hit = f"결과 필드 {w!r}"
                    break
        if hit is None:
            for n in names:
                if "_" not in n and n in text and re.search(rf"(?<![A-Za-z]){re.escape(n)}(?![A-Za-z])", text):
                    hit = f"도구 이름 {n!r}"
                    break
        if hit is None and "T" in text:
            iso = _ISO_TIME.search(text)
            if iso:
                hit = f"ISO 시각 {iso.group(0)!r}"
        if hit:
            yield i, f"고객에게 {hit}을(를) 그대로 말합니다."


# ----------------------------------------------------------------------------- claims

_POPULAR = re.compile(r"인기(?!척)|베스트|대표\s*메뉴|시그니처|잘\s*나가|많이\s*(?:찾|시키|주문)|주문\s*많|리뷰\s*많|맛집으로\s*유명")
_POPULAR_EVIDENCE = re.compile(r"popular|best|signature|recommend|rank|order_count|orders|sales|review_count|인기|베스트|대표|시그니처|추천", re.I)


_NOT_A_CLAIM = re.compile(r"[?？]|까요|실래요|시겠어요|는지|할지|(?:하|해|드리|보)겠습니다|할게요|드릴게요|볼게요|봐\s*드릴")
"""A question or an intention ("인기 메뉴로 고를까요?", "인기 메뉴를 확인해 볼게요") claims nothing."""


@check("ungrounded_claim", "warning", "result_contradicts_call", "도구가 주지 않은 인기·추천 주장", "consistency")
def ungrounded_claim(v: View):
    """The assistant states that a shop or dish is popular / best / signature (인기, 베스트, 대표 메뉴,
    잘 나가는) while no earlier tool result carries anything of the kind (a popularity, ranking,
    order or review count field, or those words) and the customer did not use such a word first
    (then it is their criterion, not a fact). Questions and intentions are not claims."""
    if not _POPULAR.search(v.assistant_text):
        return
    for i, text in v.assistant_texts:
        if _POPULAR.search(text) is None:
            continue
        if _POPULAR_EVIDENCE.search(v.tool_text_before(i)) or _POPULAR.search(v.user_before(i)):
            continue
        for s in v.sentences(i):
            m = _POPULAR.search(s)
            if m and not _NOT_A_CLAIM.search(s):
                yield i, f"도구 결과에 없는 '{m.group(0)}' 정보를 말합니다: {s[:60]!r}"
                break


_CAPABILITY_WORDS = {
    "할인": ("discount", "coupon", "promo", "할인"),
    "쿠폰": ("coupon", "쿠폰"),
    "프로모션": ("promo", "event", "프로모션"),
    "이벤트": ("event", "promo", "이벤트"),
    "환불": ("refund", "환불"),
    "취소": ("cancel", "취소"),
    "포인트": ("point", "reward", "포인트"),
    "적립": ("point", "reward", "적립"),
    "리뷰": ("review", "리뷰"),
    "예약": ("reserv", "book", "schedule", "예약"),
    "실시간 위치": ("track", "location", "위치"),
}
_OFFER = re.compile(
    r"도와\s*드릴\s*수\s*있|도와드릴\s*수\s*있|해\s*드릴\s*수\s*있|확인해\s*드릴\s*수\s*있|가능합니다|가능해요|할\s*수\s*있어요|할\s*수\s*있습니다"
)
_NEGATED = re.compile(r"수\s*(?:는\s*)?없|어렵|못|불가|않")


def _tool_words(v: View) -> str:
    """Tool names, descriptions, argument names and their descriptions, lower-cased (once per tool list)."""
    return v.table.memo_get("claims.tool_words", _make_tool_words)


def _make_tool_words(table) -> str:
    parts = []
    for name, fn in table.fns.items():
        parts.append(name.lower())
        d = fn.get("description")
        if isinstance(d, str):
            parts.append(d.lower())
        for pname, spec in table.props.get(name, {}).items():
            parts.append(pname.lower())
            if isinstance(spec, dict) and isinstance(spec.get("description"), str):
                parts.append(spec["description"].lower())
    return "\n".join(parts)


@check("unsupported_capability", "warning", "unsupported_handling", "도구에 없는 기능을 할 수 있다고 함", "content")
def unsupported_capability(v: View):
    """The assistant offers a service (할인·쿠폰 확인, 환불, 예약, …) that no tool of the record
    provides: no tool name, description, argument name or argument description mentions it. Only offers ("도와드릴 수
    있어요", "가능합니다") not negated after the offer word count."""
    joined = v.assistant_text
    if not _OFFER.search(joined) or not any(w in joined for w in _CAPABILITY_WORDS):
        return
    words = _tool_words(v)
    for i, text in v.assistant_texts:
        if _OFFER.search(text) is None:  # a sentence's offer is an offer in its turn's text (no anchors)
            continue
        for s in v.sentences(i):
            m = _OFFER.search(s)
            if m is None or _NEGATED.search(s, m.end()):
                continue
            before = s[: m.start()]
            missing = [w for w, keys in _CAPABILITY_WORDS.items() if w in before and not any(k in words for k in keys)]
            if missing:
                yield i, f"도구로 할 수 없는 '{missing[0]}'을(를) 도와줄 수 있다고 말합니다: {s[:60]!r}"
                break


# ----------------------------------------------------------------------------- promises left hanging

_PROMISE = re.compile(
    r"(?:준비|진행|주문|결제|담아|추가|변경|등록|검색|조회|찾아|확인)\s*(?:해\s*)?(?:드릴게요|드리겠습니다|할게요|하겠습니다|볼게요|보겠습니다)"
)
_ASKS = re.compile(r"[?？]|까요|실래요|시겠어요|시나요|할지")


@check("unfulfilled_promise", "warning", "incomplete", "약속한 처리 없이 끝남", "content")
def unfulfilled_promise(v: View):
    """After the dialogue's last tool call, the assistant promises an action a tool does (주문
    준비할게요, 담아 드릴게요, 확인해 볼게요) in a sentence that is not a question, and the dialogue
    ends without any call doing it."""
    if not v.calls or not v.turns:
        return
    last_call = v.calls[-1][0]
    for i, text in v.assistant_texts:
        if i <= last_call or _PROMISE.search(text) is None:  # a sentence's promise is one in its turn's text
            continue
        for s in v.sentences(i):
            m = _PROMISE.search(s)
            if m and not _ASKS.search(s, m.end()):
                yield i, f"'{m.group(0)}'라고 약속했지만 그 뒤로 도구 호출 없이 대화가 끝납니다."
                return


# ----------------------------------------------------------------------------- items nobody asked for

_ADD = re.compile(r"^add|add_|_add|addto|additem", re.I)
_NAME_KEYS = ("menu_name", "name", "item_name", "product_name", "title")


def _added_name(v: View, k: int, args: dict) -> str | None:
    """Name of the element the add call ``k`` names by id, from its result (or a listing before)."""
    ids = {
        key: val
        for key, val in args.items()
        if isinstance(val, str) and key.endswith("_id") and "user" not in key and "restaurant" not in key and "store" not in key and "cart" not in key
    }
    if not ids:
        return None
    r = v.call_result(k)

    def find(x, depth=0):
        if depth > 4:
            return None
        if isinstance(x, dict):
            if all(x.get(key) == val for key, val in ids.items()):
                for nk in _NAME_KEYS:
                    if isinstance(x.get(nk), str):
                        return x[nk]
            for y in x.values():
                got = find(y, depth + 1)
                if got:
                    return got
        elif isinstance(x, list):
            for y in x:
                got = find(y, depth + 1)
                if got:
                    return got
        return None

    return find(r) if r not in (None, NOT_JSON) else None


@check("unrequested_item", "warning", "bad_arguments", "고객이 고르지 않은 메뉴 담기", "values")
def unrequested_item(v: View):
    """An add-to-cart style call (name starts or ends with ``add``) whose item — the element of the
    result its id argument names — shares no two-letter piece of its name (brackets and sizes
    aside) with anything the customer said: 만두 added when the customer asked for 막국수."""
    for k, (i, c) in enumerate(v.calls):
        if not _ADD.search(c.get("name") or ""):
            continue
        args = c.get("arguments")
        if not isinstance(args, dict):
            continue
        name = _added_name(v, k, args)
        if not name:
            continue
        core = tx.squash(re.sub(r"\([^)]*\)|\[[^\]]*\]", "", name))
        if len(core) < 2:
            continue
        said = v.user_squashed_before(i)
        if not any(core[p : p + 2] in said for p in range(len(core) - 1)):
            yield i, f"{c.get('name')}로 '{name}'을(를) 담았지만 고객은 이 메뉴를 말한 적이 없습니다."
