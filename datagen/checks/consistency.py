"""Consistency: a tool response agrees with its call; the assistant names only what tools returned.

Source: the original pipeline's post-mortems (ARCHITECTURE.md, "Post-mortems"): ``only_open: true`` yet closed restaurants
listed; assistant text claiming things no tool said. Seed 001's gold rule "검색 결과에 없는 가게·평점·
배달비를 지어내지 않는다" (``config.GOLD_CATEGORIES["search"]``).
"""

from __future__ import annotations

import functools
import re

from . import text as tx
from .core import NOT_JSON, View, check
from .grounding import appears, is_id_argument

# Filters whose result field uses another vocabulary: argument value → result values that satisfy it.
FILTER_EQUIVALENTS: dict[str, dict[str, set[str]]] = {
    "status": {
        "in_progress": {"pending", "accepted", "cooking", "delivering"},
        "delivered": {"delivered"},
        "cancelled": {"cancelled"},
    }
}
_SKIP_KEYS = frozenset({"query", "page", "page_size", "limit", "offset"})

CURRENCY_NAMES: dict[str, str] = {
    "원": "KRW",
    "원화": "KRW",
    "한국돈": "KRW",
    "한국 돈": "KRW",
    "한화": "KRW",
    "₩": "KRW",
    "달러": "USD",
    "미국 달러": "USD",
    "미국달러": "USD",
    "불": "USD",
    "$": "USD",
    "유로": "EUR",
    "€": "EUR",
    "엔": "JPY",
    "엔화": "JPY",
    "일본엔": "JPY",
    "일본 엔": "JPY",
    "¥": "JPY",
    "위안": "CNY",
    "위안화": "CNY",
    "파운드": "GBP",
    "£": "GBP",
    "코루나": "CZK",
    "체코 코루나": "CZK",
    "프랑": "CHF",
    "스위스 프랑": "CHF",
    "바트": "THB",
    "동": "VND",
}
"""Korean currency words and symbols → ISO 4217 code: ``달러`` and ``USD`` name the same value
(issue 13, false-alarm class 3). Codes compare case-insensitively."""


def canonical(x):
    """A value in the form two values are compared in: numbers as floats (``760`` and ``"760"``
    agree), strings stripped and lower-cased with Korean currency words mapped to ISO codes, lists
    as sorted tuples of canonical items; other values unchanged."""
    if isinstance(x, bool) or x is None:
        return x
    if isinstance(x, (int, float)):
        return float(x)
    if isinstance(x, str):
        t = x.strip()
        code = CURRENCY_NAMES.get(t)
        if code is not None:
            return code.lower()
        try:
            return float(t.replace(",", ""))
        except ValueError:
            return t.lower()
    if isinstance(x, list):
        return tuple(sorted((canonical(y) for y in x), key=repr))
    return x


def same_value(a, b) -> bool:
    """``a`` and ``b`` are the same value after :func:`canonical`."""
    return a == b or canonical(a) == canonical(b)


def _label(obj: dict) -> str:
    name = obj.get("name") or obj.get("restaurant_name") or obj.get("menu_name")
    return f" ({name})" if isinstance(name, str) else ""


@functools.lru_cache(maxsize=4096)
def _is_id_key(key: str) -> bool:
    """:func:`grounding.is_id_argument`, cached (argument names repeat across every dialogue)."""
    return is_id_argument(key)


def _echo_problem(key: str, value, where: str, o: dict) -> str | None:
    """``o`` (the result itself, or an object in it such as ``applied_filters``) restates ``key``."""
    if key not in o:
        return None
    x = o[key]
    if x is None and value is not None and not key.startswith("only_"):
        return None
    allowed = FILTER_EQUIVALENTS.get(key, {}).get(value) if isinstance(value, str) else None
    if allowed is not None:
        return None if x in allowed or same_value(x, value) else f"{key}={value!r}로 걸렀는데 결과 {where}의 {key}={x!r}입니다"
    if isinstance(value, dict) or isinstance(x, dict):
        return None
    if not same_value(x, value):
        return f"{key}={value!r}로 호출했는데 결과 {where}{_label(o)}의 {key}={x!r}입니다"
    return None


def _element_problem(key: str, value, name: str, n: int, o: dict) -> str | None:
    """List element ``o`` (``name[n]`` of the result) against filter argument ``key``."""
    if key.startswith("only_") and value is True:
        field = key[5:]
        for f in (f"is_{field}", field):
            if o.get(f) is False:
                return f"{key}=true인데 결과 {name}[{n}]{_label(o)}의 {f}가 false입니다"
        return None
    if key.startswith(("min_", "max_")) and isinstance(value, (int, float)) and not isinstance(value, bool):
        field = key[4:]
        for f in (field, f"{field}_avg"):
            x = o.get(f)
            if isinstance(x, (int, float)) and not isinstance(x, bool):
                if (key[:3] == "min" and x < value) or (key[:3] == "max" and x > value):
                    return f"{key}={value}인데 결과 {name}[{n}]{_label(o)}의 {f}={x}입니다"
        return None
    if key not in o:  # what _echo_problem answers first: no need to name the element
        return None
    return _echo_problem(key, value, f"{name}[{n}]", o)


def _contradiction(args: dict, r) -> str | None:
    """The first way result ``r`` contradicts ``args``, as a Korean phrase, or None.

    The result and the objects directly in it (``applied_filters``, ``cart_item``) restate
    arguments: the same key must hold the same value after normalisation (:func:`same_value`).
    A list of objects in the result is compared element-wise: when the call names an element by
    an id-like argument (``menu_item_id``, ``cart_item_id``), the list must hold a matching
    element and the other arguments are compared with that element only (an add-to-cart result is
    the whole cart; the added line need not be ``items[0]`` — issue 13, false-alarm class 2);
    otherwise (a search) every element must satisfy the filters (``only_X``, ``min_X``/``max_X``,
    equal values).
    """
    if isinstance(r, dict) and (r.get("error") not in (None, False, "", {})):
        return None
    if isinstance(r, list):
        r = {"": r}
    if not isinstance(r, dict):
        return None
    echoes: list[tuple[str, dict]] = [("", r)]
    lists: list[tuple[str, list[dict]]] = []
    for k, x in r.items():
        if isinstance(x, dict):
            echoes.append((k, x))
        elif isinstance(x, list):
            objs = [y for y in x if isinstance(y, dict)]
            if objs:
                lists.append((k, objs))
    for key, value in args.items():
        if key in _SKIP_KEYS or value is None or key.startswith(("min_", "max_")):
            continue
        for where, o in echoes:
            problem = _echo_problem(key, value, where, o)
            if problem:
                return problem
    for name, objs in lists:
        id_args = {k: x for k, x in args.items() if _is_id_key(k) and isinstance(x, (str, int)) and any(k in o for o in objs)}
        if id_args:
            matched = [(n, o) for n, o in enumerate(objs) if all(k not in o or same_value(o[k], x) for k, x in id_args.items())]
            if not matched:
                k, x = next(iter(id_args.items()))
                return f"{k}={x!r}로 호출했는데 결과 {name}에 그 {k}를 가진 항목이 없습니다"
        else:
            matched = list(enumerate(objs))
        for key, value in args.items():
            if key in _SKIP_KEYS or value is None or key in id_args or isinstance(value, dict):
                continue
            for n, o in matched:
                problem = _element_problem(key, value, name, n, o)
                if problem:
                    return problem
    return None


@check("result_contradicts_call", "error", "result_contradicts_call", "호출과 모순된 결과", "consistency")
def result_contradicts_call(v: View):
    """A response field contradicting an argument of its call: the same key with another value
    (``category``, ``quantity``, ``payment_method``, ids…), ``only_X=true`` with ``is_X=false``,
    ``min_X`` / ``max_X`` violated, a status filter with other statuses."""
    answer = v.pairing[0]
    for k, (i, c) in enumerate(v.calls):
        turn = answer.get(k)
        args = c.get("arguments")
        if turn is None or not isinstance(args, dict) or not args:
            continue
        r = v.result(turn)
        if r is NOT_JSON:
            continue
        problem = _contradiction(args, r)
        if problem:
            yield turn, f"{c.get('name')}: {problem}."


_DIGITS = frozenset("0123456789,")


def _amount_before(text: str, pos: int) -> tuple[int, int]:
    """``(start, end)`` of the digits (and commas) right before ``text[pos]`` (a ``원``), spaces
    between them skipped; ``start == end`` when there are none."""
    j = pos
    while j > 0 and text[j - 1] == " ":
        j -= 1
    k = j
    while k > 0 and text[k - 1] in _DIGITS:
        k -= 1
    return k, j


def prices(text: str) -> list[tuple[str, float]]:
    """``(as written, amount)`` for each amount of money in ``text`` (:func:`text.won_amounts`:
    ``12,000원``, ``5000 원``, ``약 13만 3,096원`` → 133096)."""
    return tx.won_amounts(text)


_RATING = re.compile(r"(?:평점|별점)\s*(\d(?:\.\d)?)(?!\d)")
_LIST_ITEM = re.compile(r"(?:\d{1,2}[.)]|[-•*·])[ \t]*(.+)$")
_BRACKET = re.compile(r"\[([^\]\n]{2,30})\]")
_LABELS = (
    "상품",
    "배달비",
    "배달료",
    "총",
    "합계",
    "할인",
    "쿠폰",
    "결제",
    "배송지",
    "요청사항",
    "주문",
    "최소",
    "예상",
    "도착",
    "영업",
    "옵션",
    "가격",
    "수량",
    "메뉴",
    "가게",
)
_LIST_START = frozenset("-•*·0123456789")
_LISTING_LINE = re.compile(r"^[^\S\n]*([-•*·0-9][^\n]*)", re.M)
"""A line (between ``\\n``) without its leading white space (``str.lstrip``'s: the same Unicode
class), when that starts with one of :data:`_LIST_START`."""


_PRICE = re.compile(r"\d\s*(?:억|만|천)?\s*원")
_PARENS = re.compile(r"\([^()]*\)")
_MARKS = "*_`\"'“”‘’「」『』<> "  # stripped around a name: emphasis, quotes, brackets, spaces
_ASCII_DIGIT = re.compile(r"[0-9]")
_FIGURE_CUT = re.compile(r"[(:：]")


def _name_candidates(text: str) -> list[str]:
    """Shop or menu names in listing lines that carry figures (``1. 이름 (평점 4.5…``, ``- 이름 12,000원``)
    and in ``[이름]``; markdown emphasis and quotes around a name are ignored."""
    out = [m.group(1).strip() for m in _BRACKET.finditer(text)] if "[" in text else []
    if "\n" in text or text.lstrip()[:1] in _LIST_START:
        for line in _LISTING_LINE.findall(text):  # the lines whose first non-space character starts a list item
            if "(" not in line and not _PRICE.search(line):
                continue
            if _ASCII_DIGIT.search(line) is None:
                continue  # an option list ("- 가게 찾기 (검색)"), not a shop or a priced item
            m = _LIST_ITEM.match(line)
            if m is None:
                continue
            name = _before_figures(m.group(1))
            if name is not None:
                out.append(name)
    names = [n.strip(_MARKS) for n in out]
    return [n for n in names if len(n.replace(" ", "")) >= 2 and not n.startswith(_LABELS)]


def _before_figures(line: str) -> str | None:
    """The text of a listing line before its first ``(`` or price; None for ``label: value`` lines,
    also when the label carries a parenthesis (``- 앱 오류(결제 실패) 신고: …``: a bullet label,
    not a shop or menu name — issue 13, false-alarm class 7)."""
    if ":" in line or "：" in line:  # (without either, the line without its parentheses has neither)
        bare = _PARENS.sub("", line)
        if ":" in bare or "：" in bare:
            return None
    m = _FIGURE_CUT.search(line)
    cut = len(line) if m is None else m.start()
    if m is not None and line[cut] != "(":
        return None
    p = line.find("원", 0, cut)
    if p != -1:
        k, j = _amount_before(line, p)
        if k < j:
            cut = k
    return line[:cut].strip()


@check("ungrounded_mention", "warning", "result_contradicts_call", "결과에 없는 가게·메뉴·가격", "consistency")
def ungrounded_mention(v: View):
    """An assistant turn naming a price (``…원``), a rating (``평점 4.5``) or, in a listing, a shop or
    menu name that no earlier tool response (or, for numbers, the customer) gave."""
    for i, text in v.assistant_texts:
        results = None
        if "원" in text:
            results = v.tool_text_before(i)
            grounded = set()  # amounts found grounded in this turn: the same amount again is too
            for written, n in prices(text):
                if n in grounded:
                    continue
                if n and not _number_in_results(v, i, n, results, multiples=True) and n not in v.user_numbers_before(i):
                    yield i, f"도구 결과에 없는 가격 {written}을(를) 말했습니다."
                    break
                grounded.add(n)
        if "평점" in text or "별점" in text:
            grounded = set()
            for m in _RATING.finditer(text):
                n = float(m.group(1))
                if n in grounded:
                    continue
                grounded.add(n)
                if results is None:
                    results = v.tool_text_before(i)
                if not _number_in_results(v, i, n, results) and n not in v.user_numbers_before(i):
                    yield i, f"도구 결과에 없는 평점 {m.group(1)}을(를) 말했습니다."
                    break
        names = _name_candidates(text)
        if names:
            seen = v.tool_text_before(i, squashed=True)
            for name in names:
                if name.replace(" ", "") not in seen:
                    yield i, f"도구 결과에 없는 가게·메뉴 이름 {name!r}을(를) 말했습니다."
                    break


def _number_in_results(v: View, turn: int, n: float, text: str, multiples: bool = False) -> bool:
    """``n`` is grounded in the tool responses before ``turn`` (``text``): it appears there, or it is
    one of their numbers rounded (``약 14만 4,510원`` for 144510.98), or the sum or difference of
    two top-level numbers of one response (a delivery fee worked out as total − subtotal; issue 13,
    false-alarm class 4); with ``multiples``, ``n / k`` appears for a quantity k = 2…10 the
    customer said (a price times that quantity)."""
    if n.is_integer():
        if appears(str(int(n)), text) or appears(f"{n:.1f}", text):
            return True
    elif appears(repr(n), text):
        return True
    if multiples and n.is_integer():
        ks = [int(k) for k in v.user_numbers_before(turn) if k.is_integer() and 2 <= k <= 10]
        if any(int(n) % k == 0 and appears(str(int(n) // k), text) for k in ks):
            return True
    for nums, top in v.tool_numbers_before(turn):
        if n in nums:
            return True
        if len(top) <= 40:
            ordered = sorted(top)
            for p, x in enumerate(ordered):
                for y in ordered[p + 1 :]:
                    if y - x == n or (x + y == n and x > 0):
                        return True
    return False
