"""Grounding: ids come from somewhere; an order is placed only from a prepared checkout.

Source: the original pipeline's post-mortems (DESIGN.md): ids used without any earlier tool result or
user turn giving them, ``get_order_status`` with a fake order id; and seed 001's gold rules
(``config.GOLD_CATEGORIES``): ``address_id`` from ``list_addresses``, ``checkout_id`` from
``prepare_checkout``, the customer confirms the total before ``place_order``.
"""

from __future__ import annotations

import re

from .. import config
from .core import View, check

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


def _checkout_ids(r) -> list[str]:
    if isinstance(r, dict):
        cid = r.get("checkout_id")
        return [cid] if isinstance(cid, str) else []
    return []


@check("place_order_unprepared", "error", "ungrounded_id", "결제 준비 없는 주문", "grounding")
def place_order_unprepared(v: View):
    """``place_order`` with no successful ``prepare_checkout`` before it, or with a ``checkout_id``
    other than the latest one it returned. Applies when the record has both tools."""
    if "place_order" not in v.tools or "prepare_checkout" not in v.tools:
        return
    latest: list[str] | None = None
    for k, (i, c) in enumerate(v.calls):
        name = c.get("name")
        if name == "prepare_checkout" and v.call_ok(k):
            latest = _checkout_ids(v.call_result(k)) or latest
        elif name == "place_order":
            if latest is None:
                yield i, "prepare_checkout 결과 없이 place_order를 호출했습니다."
                continue
            got = (c.get("arguments") or {}).get("checkout_id")
            if got not in latest:
                yield i, f"place_order의 checkout_id={got!r}가 직전 prepare_checkout 결과({latest[0]})와 다릅니다."


@check("order_not_confirmed", "warning", "wrong_tool", "고객 확인 없는 주문", "grounding")
def order_not_confirmed(v: View):
    """No customer turn between the ``prepare_checkout`` response (where the total is shown) and ``place_order``."""
    last_prepared: int | None = None
    for k, (i, c) in enumerate(v.calls):
        name = c.get("name")
        if name == "prepare_checkout":
            last_prepared = v.pairing[0].get(k, i)
        elif name == "place_order" and last_prepared is not None:
            if not any(v.turns[j].get("role") == "user" for j in range(last_prepared + 1, i)):
                yield i, "최종 금액을 알리고 고객 확인을 받기 전에 place_order를 호출했습니다."
