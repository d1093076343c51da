"""Values the customer never said: quantities, numbers from vague words, free text, optional flags.

Source: the original pipeline's post-mortems (ARCHITECTURE.md, "Post-mortems"): ``only_open=true`` in 77 of 90 search
calls, vague "평점 높은 곳" turned into ``min_rating: 4.5`` in 60 calls, ``page`` / ``page_size`` sent
for no reason; and the tool specs' own rules (``config.TOOLS``: "사용자가 말한 경우에만 넣으세요").
Only customer turns *before* the call count as having said something.
"""

from __future__ import annotations

import re

from . import text as tx
from .core import View, check

QUANTITY_ARGS = frozenset({"quantity", "qty", "count", "quantities"})
PAGE_ARGS = frozenset({"page"})
TEXT_ARG = re.compile(r"(?:^|_)(?:request|requests|note|notes|memo|comment|comments|instruction|instructions)$")
"""Free-text arguments whose words must be the customer's. Not ``message``: a message the customer
asks to send is composed by the assistant from the request (FunctionChat ``send_message``)."""
CODE_ARG = re.compile(r"(?:^|_)(?:coupon|promo|promotion)_?code$|^code$")

# Optional arguments and the words that justify them. Scalar value → pattern, or value → pattern.
OPTION_WORDS: dict[str, object] = {
    "only_open": r"영업|문\s*(?:을\s*)?(?:연|열|여는)|열려|열린|열었|오픈|운영\s*중|지금\s*(?:하는|되는|주문|시킬|배달)|안\s*닫|닫지\s*않",
    "is_default": r"기본|평소|늘\s*쓰는|자주\s*쓰는|메인",
    "sort": {
        "rating": r"평점|별점|리뷰|평가|후기|인기",
        "eta": r"빨리|빠르|빠른|금방|급해|급하|일찍|오래\s*(?:안|걸리지)|시간",
        "distance": r"가까|거리|근처",
        "delivery_fee": r"배달\s*(?:비|료|팁)|배송비",
        "recommended": r"추천|인기|아무|무난",
    },
    "status": {
        "in_progress": r"진행|배달\s*중|오고|조리|아직|지금|오는|현재|안\s*왔",
        "delivered": r"배달\s*완료|받은|도착한|완료|지난|예전|어제",
        "cancelled": r"취소",
    },
}
_OPTION_RX = {k: ({v: re.compile(p) for v, p in words.items()} if isinstance(words, dict) else re.compile(words)) for k, words in OPTION_WORDS.items()}
_MORE = re.compile(r"더|다음|다른|또|\d+\s*페이지|넘겨")
_FIRST = re.compile(r"첫|처음|1\s*페이지")


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _result_quantities(v: View, turn: int) -> set[float]:
    """``quantity`` values in tool responses before ``turn`` (e.g. the cart line being replaced)."""
    out: set[float] = set()
    for k, (i, c) in enumerate(v.calls):
        if i >= turn:
            break
        _walk_quantities(v.call_result(k), out)
    return out


def _walk_quantities(r, out: set[float], depth: int = 0) -> None:
    if depth > 4:
        return
    if isinstance(r, dict):
        for k, x in r.items():
            if k in QUANTITY_ARGS and _is_number(x):
                out.add(float(x))
            elif isinstance(x, (dict, list)):
                _walk_quantities(x, out, depth + 1)
    elif isinstance(r, list):
        for x in r:
            _walk_quantities(x, out, depth + 1)


@check("unsaid_quantity", "warning", "unsaid_value", "말하지 않은 수량", "values")
def unsaid_quantity(v: View):
    """A quantity other than 1 that the customer never said and no earlier tool response holds
    (1 is the tool spec's stated default: "말하지 않았으면 1")."""
    for i, c in v.calls:
        args = c.get("arguments")
        if not isinstance(args, dict):
            continue
        for key in QUANTITY_ARGS.intersection(args):
            q = args[key]
            if not _is_number(q) or q == 1:
                continue
            if float(q) in v.user_numbers_before(i) or float(q) in _result_quantities(v, i):
                continue
            yield i, f"{c.get('name')}의 {key}={q}: 고객이 이 수량을 말한 적이 없습니다."


@check("unsaid_number", "warning", "unsaid_value", "말하지 않은 숫자 조건", "values")
def unsaid_number(v: View):
    """A numeric argument (``min_rating``, ``max_delivery_fee``, ``page_size``, …; not quantities or
    ``page``) whose value the customer never said: e.g. vague "평점 높은 곳" → ``min_rating: 4.5``.
    Sources: the customer's turns, the system prompt and every earlier tool result."""
    for i, c in v.calls:
        args = c.get("arguments")
        if not isinstance(args, dict):
            continue
        props = v.properties(c.get("name"))
        for key, value in args.items():
            if key in QUANTITY_ARGS or key in PAGE_ARGS or not _is_number(value):
                continue
            if key in props and props[key].get("type") not in ("number", "integer", None):
                continue
            if float(value) in v.user_numbers_before(i) or float(value) in _system_numbers(v):
                continue
            if any(float(value) in nums for nums, _ in v.tool_numbers_before(i)):
                continue  # taken from an earlier tool result (a distance, a bill total): issue 13, class 4
            hint = " ('평점 높은 곳' 같은 모호한 말은 정렬(sort)로 처리)" if key == "min_rating" else ""
            yield i, f"{c.get('name')}의 {key}={value}: 고객이 이 숫자를 말한 적이 없습니다{hint}."


def _system_numbers(v: View) -> set[float]:
    cached = v.__dict__.get("_sys_num")
    if cached is None:
        cached = v.__dict__["_sys_num"] = tx.said_numbers(v.system_evidence)
    return cached


def request_text(v: View, turn: int) -> str:
    """What the customer asked for that the call at ``turn`` serves: the customer turns since the
    previous tool call (so an earlier request does not license a new search, issue 13, miss 8), or,
    when there are none (calls chained on one request), since the call before that, and so on."""
    cache = v.__dict__.setdefault("_request", {})
    if turn not in cache:
        bounds = sorted({i for i, _ in v.calls if i < turn}, reverse=True) + [-1]
        text = ""
        for b in bounds:
            users = [t.get("content") or "" for t in v.turns[b + 1 : turn] if t.get("role") == "user"]
            if users:
                text = "\n".join(users)
                break
        cache[turn] = text
    return cache[turn]


_SAME_AS_BEFORE = re.compile(r"같은\s*조건|이\s*조건|그\s*조건|똑같이|그대로|마찬가지|[가-힣]도\s*(?:찾아|보여|검색해)")
"""Words that carry the previous search's conditions: "같은 조건으로", "떡볶이도 찾아줘" (also X, same way)."""


def _previous_same_tool(v: View, turn: int, name) -> tuple[int, dict] | None:
    prev = None
    for i, c in v.calls:
        if i >= turn:
            break
        if c.get("name") == name:
            prev = (i, c)
    return prev


def _is_refinement(prev: dict, call: dict) -> bool:
    """``call`` keeps every string argument ``prev`` had under the same key (options aside)."""
    pa, ca = prev.get("arguments") or {}, call.get("arguments") or {}
    if not isinstance(pa, dict) or not isinstance(ca, dict):
        return False
    return all(pa.get(k) == x for k, x in ca.items() if isinstance(x, str) and k not in _OPTION_RX and k in pa) and any(
        isinstance(x, str) and k not in _OPTION_RX and k in pa for k, x in ca.items()
    )


def _carried_from(v: View, turn: int, call: dict, key: str, value, depth: int = 0) -> bool:
    """The option was asked for earlier in the same search: this call refines the previous call of
    the same tool (same string arguments) or the customer said "같은 조건으로", and the request
    words of that call asked for it (followed back through a chain of refinements). An option the
    previous call had without being asked does not become asked by being repeated."""
    if depth > 8:
        return False
    prev = _previous_same_tool(v, turn, call.get("name"))
    if prev is None:
        return False
    j, pc = prev
    if not (_is_refinement(pc, call) or _SAME_AS_BEFORE.search(request_text(v, turn))):
        return False
    if _said(v, j, key, value):
        return True
    return _carried_from(v, j, pc, key, value, depth + 1)


def _said(v: View, turn: int, key: str, value) -> bool | None:
    """The customer's request for the call at ``turn`` asks for ``key=value`` (None: no words known)."""
    rx = _OPTION_RX.get(key)
    if rx is None:
        return None
    if isinstance(rx, dict):
        pattern = rx.get(value) if isinstance(value, str) else None
        if pattern is None:
            return None
        return pattern.search(request_text(v, turn)) is not None
    return rx.search(request_text(v, turn)) is not None


@check("unsaid_option", "warning", "unsaid_value", "요청하지 않은 옵션", "values")
def unsaid_option(v: View):
    """Optional flags set without the customer asking: ``only_open``, ``sort``, ``is_default``,
    ``status`` filters and ``page`` (page 1 is never needed; page ≥ 2 needs "더 보여줘").

    What counts as asked: the customer's words since the previous tool call (:func:`request_text`),
    or, when this call refines the previous call of the same tool (same string arguments) or the
    customer says "같은 조건으로" / "X도 찾아줘", the words that asked for it there
    (:func:`_carried_from`). ``false`` flags (the tools' default) are not options set."""
    for i, c in v.calls:
        args = c.get("arguments")
        if not isinstance(args, dict):
            continue
        for key, value in args.items():
            if value is False:
                continue
            if key in PAGE_ARGS and _is_number(value):
                said = (_MORE if value >= 2 else _FIRST).search(request_text(v, i)) is not None
            else:
                asked = _said(v, i, key, value)
                if asked is None:
                    continue
                said = asked or _carried_from(v, i, c, key, value)
            if not said:
                yield i, f"{c.get('name')}의 {key}={value!r}: 고객이 이번 요청에서 말하지 않은 옵션입니다."


@check("unsaid_text", "warning", "unsaid_value", "말하지 않은 요청사항·코드", "values")
def unsaid_text(v: View):
    """Free text (``special_request``, ``delivery_note``, …: most of its character bigrams must be in
    the customer's words) or a coupon code (verbatim) that the customer never said."""
    for i, c in v.calls:
        args = c.get("arguments")
        if not isinstance(args, dict):
            continue
        for key, value in args.items():
            if not isinstance(value, str) or not value.strip():
                continue
            if CODE_ARG.search(key):
                if tx.squash(value) not in v.user_squashed_before(i):
                    yield i, f"{c.get('name')}의 {key}={value!r}: 고객이 말한 적 없는 코드입니다."
            elif TEXT_ARG.search(key):
                if tx.bigram_coverage(value, v.user_squashed_before(i)) < 0.6:
                    yield i, f"{c.get('name')}의 {key}={value!r}: 고객이 말하지 않은 요청사항입니다."
