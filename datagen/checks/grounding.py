"""Grounding: ids come from somewhere; an order is placed only from a prepared checkout.

Source: the original pipeline's post-mortems (ARCHITECTURE.md, "Post-mortems"): ids used without any earlier tool result or
user turn giving them, ``get_order_status`` with a fake order id; and seed 001's gold rules
(``config.GOLD_CATEGORIES``): ``address_id`` from ``list_addresses``, ``checkout_id`` from
``prepare_checkout``, the customer confirms the total before ``place_order``.
"""

from __future__ import annotations

import re

from .. import config
from .core import NOT_JSON, View, check

_ID_NAME = re.compile(r"(?:^|_)ids?$|[a-z0-9]Ids?$")
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def is_id_argument(name: str) -> bool:
    """An id-like argument name: a key of ``config.ID_PATTERNS`` or ``…_id`` / ``…_ids`` / ``…Id``."""
    return name in config.ID_PATTERNS or bool(_ID_NAME.search(name))


def appears(value: str, text: str) -> bool:
    """``value`` occurs in ``text`` as a whole token (not inside a longer run of letters and digits)."""
    if not value:
        return False
    start = text.find(value)
    n = len(value)
    while start != -1:
        before = text[start - 1] if start else " "
        after = text[start + n] if start + n < len(text) else " "
        if before not in _ALNUM and after not in _ALNUM:
            return True
        start = text.find(value, start + 1)
    return False


def _id_values(value) -> list[str]:
    if isinstance(value, list):
        return [str(x) for x in value if isinstance(x, (str, int)) and not isinstance(x, bool)]
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return [str(value)]
    return []


@check("ungrounded_id", "error", "ungrounded_id", "근거 없는 ID", "grounding")
def ungrounded_id(v: View):
    """An id-like argument whose value no earlier user turn, tool response or the system prompt contains."""
    for i, c in v.calls:
        args = c.get("arguments")
        if not isinstance(args, dict):
            continue
        for key, value in args.items():
            if not is_id_argument(key):
                continue
            values = _id_values(value)
            if not values and isinstance(value, str):
                yield i, f"{c.get('name')}의 {key}가 비어 있습니다."
                continue
            evidence = v.evidence_before(i)
            for val in values:
                if not appears(val, evidence):
                    where = "고객이 말하거나 도구가 돌려준" if key != "order_id" else "고객이 말하거나 list_orders 등이 돌려준"
                    yield i, f"{c.get('name')}의 {key}={val!r}는 앞선 대화에 없는 값입니다({where} 적이 없음)."


def _carried(value, r) -> bool:
    """``value`` (one argument) carries prepared result ``r``: it is ``r`` or one of the objects in it,
    or it is the value of one of ``r``'s id-like keys."""
    if isinstance(value, dict):
        return isinstance(r, dict) and bool(value) and (value == r or any(value == x for x in r.values() if isinstance(x, dict)))
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        if isinstance(r, (str, int)) and not isinstance(r, bool):
            return str(r) == str(value)
        if isinstance(r, dict):
            return any(is_id_argument(k) and isinstance(x, (str, int)) and str(x) == str(value) for k, x in r.items())
    return False


def _carries(args, r) -> bool:
    return isinstance(args, dict) and any(_carried(x, r) for x in args.values())


@check("place_order_unprepared", "error", "ungrounded_id", "결제 준비 없는 주문", "grounding")
def place_order_unprepared(v: View):
    """``place_order`` with no successful ``prepare_checkout`` before it, or whose arguments do not
    carry the latest one's result. What "carry" means follows the tool's own schema and result:
    an argument equal to the prepared result or part of it (seed 001's ``snapshot`` object), or
    the value of one of its id-like fields (``checkout_id``) — issue 13, false-alarm class 1.
    Applies when the record has both tools."""
    if "place_order" not in v.tools or "prepare_checkout" not in v.tools:
        return
    latest = None
    older: list = []
    for k, (i, c) in enumerate(v.calls):
        name = c.get("name")
        if name == "prepare_checkout" and v.call_ok(k):
            r = v.call_result(k)
            if r is not NOT_JSON:
                if latest is not None:
                    older.append(latest)
                latest = r
        elif name == "place_order":
            if latest is None:
                yield i, "prepare_checkout 결과 없이 place_order를 호출했습니다."
                continue
            args = c.get("arguments") or {}
            if _carries(args, latest):
                continue
            if any(_carries(args, o) for o in older):
                yield i, "place_order가 마지막이 아닌 이전 prepare_checkout 결과로 주문합니다."
            else:
                shown = ", ".join(f"{key}={str(x)[:40]!r}" for key, x in args.items()) or "인자 없음"
                yield i, f"place_order의 인자({shown})가 직전 prepare_checkout 결과와 맞지 않습니다."


_CART_CHANGE = ("add", "update", "remove", "delete", "clear")


@check("order_not_confirmed", "warning", "wrong_tool", "고객 확인 없는 주문", "grounding")
def order_not_confirmed(v: View):
    """No customer turn between the first ``prepare_checkout`` response of this order (where the
    total is shown) and ``place_order``. The order starts after the previous ``place_order`` or the
    last change to the cart (a call whose name says add / update / remove / delete / clear); a later
    ``prepare_checkout`` that only adds a note after the customer confirmed does not restart it
    (issue 13, false-alarm class 8). Seed 001's gold rule: the customer confirms the total."""
    first_prepared: int | None = None
    for k, (i, c) in enumerate(v.calls):
        name = c.get("name") or ""
        if name == "prepare_checkout":
            if first_prepared is None:
                first_prepared = v.pairing[0].get(k, i)
        elif name == "place_order":
            if first_prepared is not None and not any(v.turns[j].get("role") == "user" for j in range(first_prepared + 1, i)):
                yield i, "최종 금액을 알리고 고객 확인을 받기 전에 place_order를 호출했습니다."
            first_prepared = None
        elif name.lower().startswith(_CART_CHANGE):
            first_prepared = None
