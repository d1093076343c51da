"""Domain data for the delivery-app (배달 앱) dialogues: the single place it lives.

Everything that describes the app's world is defined here and nowhere else: the tool specs the
assistant may call (``TOOLS``), the JSON Schema of each tool's result (``TOOLS_RETURN_FORMAT``),
the scenario categories of the gold set (``GOLD_CATEGORIES``), topics, unsupported requests,
personas and the generator defaults. Records, prompts, checks and the offline backend all read
them from this module, so a schema fix is one edit plus a ``TOOLS_VERSION`` bump, never a
hand-edit of hundreds of files (ARCHITECTURE.md, "Post-mortems": tool schemas copied into every
record). Seed 001 ("설정 관리") names this file the first one to change when the data shape
changes, and its lowercase aliases ``tools`` / ``tools_return_format`` are kept.

Rules baked into the specs, each fixing a bug from the original pipeline's post-mortems:

* no ``default`` keyword anywhere (defaults biased the generator: ``only_open=true`` in 77 of 90
  search calls);
* ``enum`` wherever the values are closed (sort order, food category, payment method, status);
* every optional parameter's description says when NOT to send it ("… 보내지 마세요"), because
  vague words became invented values (``평점 높은 곳`` → ``min_rating: 4.5``) and ``page`` /
  ``page_size`` were sent for no reason;
* ids are strings with a stated ``pattern`` so invented or malformed ids are easy to spot;
* the logged-in user is implicit: no tool takes a ``user_id``.
"""

from __future__ import annotations

TOOLS_VERSION = "2026-11-21"
"""Version of ``TOOLS`` / ``TOOLS_RETURN_FORMAT``; bump it whenever a spec changes."""

# --------------------------------------------------------------------------------------------
# Id formats (one place; used by the specs, the offline dialogues and the checks)
# --------------------------------------------------------------------------------------------

ID_PATTERNS: dict[str, str] = {
    "restaurant_id": r"^R\d{4}$",
    "menu_item_id": r"^M\d{5}$",
    "cart_item_id": r"^CI\d{4}$",
    "address_id": r"^A\d{3}$",
    "checkout_id": r"^CK\d{6}$",
    "order_id": r"^O\d{8}$",
}
"""Argument name → regex of the id format: restaurant ``R1024``, menu item ``M10231``, cart item
``CI0042``, address ``A001``, checkout ``CK482913``, order ``O25112101``."""

ID_EXAMPLES: dict[str, str] = {
    "restaurant_id": "R1024",
    "menu_item_id": "M10231",
    "cart_item_id": "CI0042",
    "address_id": "A001",
    "checkout_id": "CK482913",
    "order_id": "O25112101",
}

FOOD_CATEGORIES: dict[str, str] = {
    "chicken": "치킨",
    "pizza": "피자",
    "korean": "한식·찌개·국밥",
    "chinese": "중식",
    "japanese": "일식·돈까스·회",
    "bunsik": "분식",
    "jokbal_bossam": "족발·보쌈",
    "fastfood": "버거·패스트푸드",
    "western": "양식·파스타",
    "asian": "아시안·마라탕·쌀국수",
    "cafe_dessert": "카페·디저트",
    "late_night": "야식·안주",
}
"""Enum value of a restaurant category → Korean label (shown in the parameter description)."""

PAYMENT_METHODS: dict[str, str] = {
    "card": "앱에 등록된 카드",
    "kakao_pay": "카카오페이",
    "naver_pay": "네이버페이",
    "toss_pay": "토스페이",
    "meet_card": "만나서 카드 결제",
    "meet_cash": "만나서 현금 결제",
}

SORT_ORDERS: dict[str, str] = {
    "recommended": "추천순",
    "rating": "평점 높은 순",
    "distance": "가까운 순",
    "delivery_fee": "배달비 낮은 순",
    "eta": "배달 빠른 순",
}

ORDER_STATUSES: dict[str, str] = {
    "pending": "가게 접수 대기",
    "accepted": "주문 접수 완료",
    "cooking": "조리 중",
    "delivering": "배달 중",
    "delivered": "배달 완료",
    "cancelled": "주문 취소됨",
}

ORDER_FILTERS: dict[str, str] = {"in_progress": "진행 중", "delivered": "배달 완료", "cancelled": "취소"}


def _labels(table: dict[str, str]) -> str:
    return ", ".join(f"{key}({label})" for key, label in table.items())


def _id(name: str, what: str, source: str) -> dict:
    return {
        "type": "string",
        "pattern": ID_PATTERNS[name],
        "description": f"{what} ID (형식 예: '{ID_EXAMPLES[name]}'). {source}",
    }


def _tool(name: str, description: str, properties: dict, required: list[str]) -> dict:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": properties,
                "required": required,
                "additionalProperties": False,
            },
        },
    }


# --------------------------------------------------------------------------------------------
# Tool specs (Chat Completions nested shape)
# --------------------------------------------------------------------------------------------

TOOLS: list[dict] = [
    _tool(
        "search_restaurants",
        "배달 가능한 주변 가게를 검색합니다. 로그인한 사용자의 기본 배송지 기준입니다. 사용자가 말한 조건만 인자로 넣으세요.",
        {
            "query": {
                "type": "string",
                "description": "검색어: 사용자가 말한 메뉴명이나 가게 이름 (예: '짜장면', '떡볶이'). "
                "사용자가 특정 메뉴나 가게를 말하지 않았으면 보내지 마세요.",
            },
            "category": {
                "type": "string",
                "enum": list(FOOD_CATEGORIES),
                "description": f"음식 카테고리: {_labels(FOOD_CATEGORIES)}. 사용자가 '치킨집', '중국집'처럼 "
                "종류로 찾을 때만 넣고, 종류를 말하지 않았으면 보내지 마세요.",
            },
            "sort": {
                "type": "string",
                "enum": list(SORT_ORDERS),
                "description": f"정렬 기준: {_labels(SORT_ORDERS)}. 사용자가 정렬을 요청한 경우에만 "
                "(예: '평점 높은 곳' → rating, '빨리 오는 곳' → eta). 언급이 없으면 보내지 마세요.",
            },
            "only_open": {
                "type": "boolean",
                "description": "사용자가 '지금 영업 중인 곳'처럼 명시적으로 요청한 경우에만 true. 언급이 없으면 보내지 마세요.",
            },
            "min_rating": {
                "type": "number",
                "minimum": 0,
                "maximum": 5,
                "description": "최소 평점(0~5). 사용자가 '4.5점 이상'처럼 구체적인 숫자를 말한 경우에만 넣으세요. "
                "'평점 높은 곳' 같은 모호한 표현이면 보내지 마세요(정렬 rating을 쓰세요).",
            },
            "max_delivery_fee": {
                "type": "integer",
                "minimum": 0,
                "description": "배달비 상한(원). 사용자가 '배달비 무료'(→ 0), '배달비 3천원 이하'처럼 말한 경우에만. 언급이 없으면 보내지 마세요.",
            },
            "page": {
                "type": "integer",
                "minimum": 1,
                "description": "결과 페이지 번호(1부터). 사용자가 '더 보여줘'처럼 다음 결과를 요청한 경우에만 2 이상으로 넣고, 그 외에는 보내지 마세요.",
            },
            "page_size": {
                "type": "integer",
                "minimum": 1,
                "maximum": 20,
                "description": "한 페이지의 결과 수. 사용자가 '10개 보여줘'처럼 개수를 말한 경우에만 넣고, 그 외에는 보내지 마세요.",
            },
        },
        [],
    ),
    _tool(
        "get_restaurant_detail",
        "가게 상세 정보와 메뉴판(메뉴 ID, 가격, 옵션, 품절 여부)을 조회합니다.",
        {"restaurant_id": _id("restaurant_id", "가게", "검색 결과 등 앞선 도구 결과에 나온 값만 사용하세요.")},
        ["restaurant_id"],
    ),
    _tool("get_cart", "현재 장바구니의 가게, 담긴 메뉴(장바구니 항목 ID), 금액을 조회합니다.", {}, []),
    _tool(
        "add_to_cart",
        "장바구니에 메뉴를 담습니다. 장바구니에는 한 가게의 메뉴만 담을 수 있습니다.",
        {
            "restaurant_id": _id("restaurant_id", "가게", "앞선 도구 결과에 나온 값만 사용하세요."),
            "menu_item_id": _id("menu_item_id", "메뉴", "get_restaurant_detail 결과의 메뉴 ID만 사용하세요."),
            "quantity": {"type": "integer", "minimum": 1, "description": "수량. 사용자가 말한 개수(말하지 않았으면 1)."},
            "options": {
                "type": "array",
                "items": {"type": "string"},
                "minItems": 1,
                "description": "선택 옵션 이름 목록: get_restaurant_detail 결과의 options 이름 그대로 "
                "(예: '순살 변경'). 사용자가 옵션을 고르지 않았으면 보내지 마세요.",
            },
            "special_request": {
                "type": "string",
                "description": "메뉴별 요청사항(예: '덜 맵게'). 사용자가 직접 말한 경우에만 넣고, 아니면 보내지 마세요.",
            },
        },
        ["restaurant_id", "menu_item_id", "quantity"],
    ),
    _tool(
        "update_cart_item",
        "장바구니 항목의 수량을 바꿉니다.",
        {
            "cart_item_id": _id("cart_item_id", "장바구니 항목", "get_cart 또는 add_to_cart 결과에 나온 값만 사용하세요."),
            "quantity": {"type": "integer", "minimum": 1, "description": "바꿀 수량(1 이상). 빼려면 remove_cart_items를 쓰세요."},
        },
        ["cart_item_id", "quantity"],
    ),
    _tool(
        "remove_cart_items",
        "장바구니에서 항목을 뺍니다(여러 개 한 번에 가능).",
        {
            "cart_item_ids": {
                "type": "array",
                "items": _id("cart_item_id", "장바구니 항목", "get_cart 또는 add_to_cart 결과에 나온 값만."),
                "minItems": 1,
                "description": "뺄 장바구니 항목 ID 목록. get_cart 또는 add_to_cart 결과에 나온 값만 사용하세요.",
            }
        },
        ["cart_item_ids"],
    ),
    _tool("list_addresses", "로그인한 사용자가 저장한 배송지 목록(배송지 ID, 별칭, 주소)을 조회합니다.", {}, []),
    _tool(
        "prepare_checkout",
        "현재 장바구니로 결제 정보를 준비하고 최종 금액을 계산합니다. 주문은 아직 접수되지 않습니다. "
        "결과의 checkout_id로 place_order를 호출하기 전에 사용자에게 금액과 배송지를 확인받으세요.",
        {
            "address_id": _id("address_id", "배송지", "list_addresses 결과에 나온 값만 사용하세요."),
            "payment_method": {
                "type": "string",
                "enum": list(PAYMENT_METHODS),
                "description": f"결제 수단: {_labels(PAYMENT_METHODS)}. 사용자가 고른 것만 쓰고, 모르면 물어보세요.",
            },
            "delivery_note": {
                "type": "string",
                "description": "라이더·가게 요청사항(예: '문 앞에 두고 벨 누르지 말아주세요'). 사용자가 직접 말한 경우에만 넣고, 아니면 보내지 마세요.",
            },
            "coupon_code": {
                "type": "string",
                "description": "쿠폰 코드. 사용자가 코드를 직접 말한 경우에만 넣고, 아니면 보내지 마세요.",
            },
        },
        ["address_id", "payment_method"],
    ),
    _tool(
        "place_order",
        "준비된 결제 정보로 주문을 접수합니다. 사용자가 최종 금액을 확인하고 주문을 확정한 뒤에만 호출하세요.",
        {"checkout_id": _id("checkout_id", "결제 준비", "직전 prepare_checkout 결과의 값만 사용하세요.")},
        ["checkout_id"],
    ),
    _tool(
        "get_order_status",
        "주문 한 건의 진행 상태(접수, 조리 중, 배달 중 등)와 도착 예정 시간을 조회합니다.",
        {"order_id": _id("order_id", "주문", "사용자가 말한 주문번호나 list_orders 결과의 값만 사용하세요. 모르면 물어보세요.")},
        ["order_id"],
    ),
    _tool(
        "list_orders",
        "로그인한 사용자의 최근 주문 목록(최신순)을 조회합니다. 사용자가 주문번호를 모를 때 씁니다.",
        {
            "status": {
                "type": "string",
                "enum": list(ORDER_FILTERS),
                "description": f"주문 상태 필터: {_labels(ORDER_FILTERS)}. 사용자가 '진행 중인 주문'처럼 상태를 말한 경우에만 넣고, 아니면 보내지 마세요.",
            }
        },
        [],
    ),
]
"""Tool specs in Chat Completions' nested shape ``{"type": "function", "function": {"name",
"description", "parameters"}}``; parameters are JSON Schema objects with ``additionalProperties:
false`` and no ``default`` (see the module docstring for the rules and their sources)."""

TOOL_NAMES: list[str] = [t["function"]["name"] for t in TOOLS]
"""Names of ``TOOLS`` in order."""

# --------------------------------------------------------------------------------------------
# Result schemas (draft 2020-12)
# --------------------------------------------------------------------------------------------

ERROR_RESULT_SCHEMA: dict = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {
                    "type": "string",
                    "description": "예: NOT_FOUND, INVALID_ARGUMENT, RESTAURANT_CLOSED, SOLD_OUT, "
                    "CART_RESTAURANT_MISMATCH, CART_EMPTY, BELOW_MIN_ORDER, INVALID_COUPON, CHECKOUT_EXPIRED",
                },
                "message": {"type": "string"},
            },
            "required": ["code", "message"],
            "additionalProperties": False,
        }
    },
    "required": ["error"],
    "additionalProperties": False,
}
"""The error result any tool may return instead of its success object."""


def _obj(props: dict, required: list[str] | None = None) -> dict:
    return {
        "type": "object",
        "properties": props,
        "required": list(props) if required is None else required,
        "additionalProperties": False,
    }


def _ids(name: str) -> dict:
    return {"type": "string", "pattern": ID_PATTERNS[name]}


_INT = {"type": "integer", "minimum": 0}
_STR = {"type": "string"}
_WON = {"type": "integer", "minimum": 0, "description": "원"}
_NULL_STR = {"type": ["string", "null"]}
_DATETIME = {"type": "string", "format": "date-time", "description": "ISO 8601, +09:00"}

_RESTAURANT_SUMMARY = {
    "restaurant_id": _ids("restaurant_id"),
    "name": _STR,
    "category": {"type": "string", "enum": list(FOOD_CATEGORIES)},
    "rating": {"type": "number", "minimum": 0, "maximum": 5},
    "is_open": {"type": "boolean"},
    "delivery_fee": _WON,
    "min_order_amount": _WON,
    "eta_minutes": _INT,
}
_CART_ITEM = _obj(
    {
        "cart_item_id": _ids("cart_item_id"),
        "menu_item_id": _ids("menu_item_id"),
        "name": _STR,
        "quantity": {"type": "integer", "minimum": 1},
        "options": {"type": "array", "items": _STR},
        "special_request": _NULL_STR,
        "unit_price": _WON,
        "line_total": _WON,
    }
)
_CART_CHANGE = {"cart_item": _CART_ITEM, "item_count": _INT, "subtotal": _WON}

_SUCCESS_RESULTS: dict[str, dict] = {
    "search_restaurants": _obj({"items": {"type": "array", "items": _obj(_RESTAURANT_SUMMARY)}, "total": _INT}),
    "get_restaurant_detail": _obj(
        {
            **_RESTAURANT_SUMMARY,
            "opening_hours": {"type": "string", "description": "예: 11:00-23:00"},
            "menu": {
                "type": "array",
                "items": _obj(
                    {
                        "menu_item_id": _ids("menu_item_id"),
                        "name": _STR,
                        "price": _WON,
                        "description": _STR,
                        "is_sold_out": {"type": "boolean"},
                        "options": {"type": "array", "items": _obj({"name": _STR, "price": _WON})},
                    }
                ),
            },
        }
    ),
    "get_cart": _obj(
        {
            "restaurant_id": {"type": ["string", "null"], "pattern": ID_PATTERNS["restaurant_id"]},
            "restaurant_name": _NULL_STR,
            "items": {"type": "array", "items": _CART_ITEM},
            "subtotal": _WON,
            "delivery_fee": _WON,
            "total": _WON,
        }
    ),
    "add_to_cart": _obj(_CART_CHANGE),
    "update_cart_item": _obj(_CART_CHANGE),
    "remove_cart_items": _obj(
        {
            "removed_cart_item_ids": {"type": "array", "items": _ids("cart_item_id")},
            "item_count": _INT,
            "subtotal": _WON,
        }
    ),
    "list_addresses": _obj(
        {
            "items": {
                "type": "array",
                "items": _obj(
                    {
                        "address_id": _ids("address_id"),
                        "label": {"type": "string", "description": "예: 집, 회사"},
                        "address": _STR,
                        "is_default": {"type": "boolean"},
                    }
                ),
            }
        }
    ),
    "prepare_checkout": _obj(
        {
            "checkout_id": _ids("checkout_id"),
            "restaurant_name": _STR,
            "address_id": _ids("address_id"),
            "address": _STR,
            "payment_method": {"type": "string", "enum": list(PAYMENT_METHODS)},
            "items": {
                "type": "array",
                "items": _obj({"name": _STR, "quantity": {"type": "integer", "minimum": 1}, "line_total": _WON}),
            },
            "subtotal": _WON,
            "delivery_fee": _WON,
            "discount": _WON,
            "total": _WON,
            "delivery_note": _NULL_STR,
            "coupon_code": _NULL_STR,
            "eta_minutes": _INT,
        }
    ),
    "place_order": _obj(
        {
            "order_id": _ids("order_id"),
            "status": {"type": "string", "enum": list(ORDER_STATUSES)},
            "total": _WON,
            "eta_minutes": _INT,
            "ordered_at": _DATETIME,
        }
    ),
    "get_order_status": _obj(
        {
            "order_id": _ids("order_id"),
            "restaurant_name": _STR,
            "status": {"type": "string", "enum": list(ORDER_STATUSES)},
            "items": {
                "type": "array",
                "items": _obj({"name": _STR, "quantity": {"type": "integer", "minimum": 1}}),
            },
            "total": _WON,
            "ordered_at": _DATETIME,
            "eta_minutes": {"type": ["integer", "null"], "minimum": 0, "description": "배달 완료·취소면 null"},
        }
    ),
    "list_orders": _obj(
        {
            "items": {
                "type": "array",
                "items": _obj(
                    {
                        "order_id": _ids("order_id"),
                        "restaurant_name": _STR,
                        "summary": {"type": "string", "description": "예: 후라이드 치킨 외 1건"},
                        "status": {"type": "string", "enum": list(ORDER_STATUSES)},
                        "total": _WON,
                        "ordered_at": _DATETIME,
                    }
                ),
            }
        }
    ),
}

TOOLS_RETURN_FORMAT: dict[str, dict] = {name: {"anyOf": [schema, ERROR_RESULT_SCHEMA]} for name, schema in _SUCCESS_RESULTS.items()}
"""Tool name → JSON Schema (draft 2020-12) of its JSON result: ``anyOf`` [success object,
``ERROR_RESULT_SCHEMA``]. Covers every name in ``TOOL_NAMES``."""

# Lowercase aliases: the names seed 001's config.py used.
tools = TOOLS
tools_return_format = TOOLS_RETURN_FORMAT

# --------------------------------------------------------------------------------------------
# Scenario data
# --------------------------------------------------------------------------------------------

USER_IDS: list[str] = [
    "u_10234",
    "u_10587",
    "u_11020",
    "u_11873",
    "u_12406",
    "u_13391",
    "u_14052",
    "u_15518",
    "u_16240",
    "u_17709",
    "u_18365",
    "u_19012",
    "u_20488",
    "u_21937",
    "u_23154",
    "u_24610",
    "u_25873",
    "u_27301",
    "u_28846",
    "u_30112",
]
"""Logged-in user ids; one is named in each scenario's system prompt."""

CATEGORIES: list[str] = ["search", "menu", "cart", "order_status", "checkout", "multi_turn", "no_call", "edge_case"]
"""Scenario category keys, in the order of seed 001's gold-set table."""

_CART_TOOLS = ["get_cart", "add_to_cart", "update_cart_item", "remove_cart_items"]


def _category(name_ko, description, rules, required=(), any_of=(), forbid=False, ordered=False) -> dict:
    return {
        "name_ko": name_ko,
        "description": description,
        "rules": list(rules),
        "required_tools": list(required),
        "any_of_tools": list(any_of),
        "forbid_tool_calls": forbid,
        "ordered": ordered,
    }


GOLD_CATEGORIES: dict[str, dict] = {
    "search": _category(
        "단순/연속 검색",
        "사용자가 가게를 찾고, 조건을 바꿔 가며 search_restaurants를 한 번 이상(연속) 호출하는 대화.",
        [
            "사용자가 말한 조건만 인자로 넣는다. '평점 높은 곳'은 sort: rating이지 min_rating 숫자가 아니다.",
            "only_open, page, page_size는 사용자가 요청했을 때만 보낸다.",
            "검색 결과에 없는 가게·평점·배달비를 지어내지 않는다.",
        ],
        required=["search_restaurants"],
    ),
    "menu": _category(
        "메뉴 조회",
        "앞선 검색 결과의 가게를 가리키는 말('두 번째 집', 가게 이름)을 이해해 get_restaurant_detail로 메뉴를 조회하는 대화.",
        [
            "restaurant_id는 앞선 검색 결과에서 가져온다. 가게를 특정할 수 없으면 먼저 검색하거나 묻는다.",
            "메뉴 가격·옵션·품절 여부는 조회 결과 그대로 전한다.",
            "두 가게를 비교하면 get_restaurant_detail을 한 턴에 병렬로 호출할 수 있다.",
        ],
        required=["get_restaurant_detail"],
    ),
    "cart": _category(
        "장바구니 조작",
        "장바구니 조회·담기·수량 변경·빼기(get_cart, add_to_cart, update_cart_item, remove_cart_items)를 복합적으로 쓰는 대화.",
        [
            "cart_item_id는 get_cart 또는 add_to_cart 결과에서만 가져온다.",
            "menu_item_id는 get_restaurant_detail 결과에서만 가져온다.",
            "옵션과 요청사항은 사용자가 말한 것만 넣는다. 변경 결과의 금액을 정확히 알린다.",
        ],
        any_of=_CART_TOOLS,
    ),
    "order_status": _category(
        "주문 이력/상태",
        "주문 상태를 묻는 대화. get_order_status는 order_id가 필수이므로 사용자가 주문번호를 말하거나, 모르면 list_orders로 찾거나 사용자에게 묻는다.",
        [
            "order_id 없이 또는 지어낸 order_id로 get_order_status를 호출하지 않는다.",
            "도착 예정 시간과 상태는 조회 결과 그대로 전하고, 할 수 없는 일(라이더 직접 연결, 주문 취소)은 솔직히 말한다.",
        ],
        required=["get_order_status"],
    ),
    "checkout": _category(
        "주문 처리",
        "장바구니를 주문으로 바꾸는 대화: 배송지 확인(list_addresses) → prepare_checkout → 사용자 확인 → place_order. "
        "prepare_checkout의 checkout_id를 place_order에 그대로 넘긴다.",
        [
            "address_id는 list_addresses 결과에서, checkout_id는 prepare_checkout 결과에서만 가져온다.",
            "결제 수단을 모르면 묻는다. 요청사항·쿠폰 코드는 사용자가 말한 경우에만 넣는다.",
            "place_order 전에 최종 금액·배송지·결제 수단을 알리고 확인을 받는다.",
        ],
        required=["prepare_checkout", "place_order"],
        ordered=True,
    ),
    "multi_turn": _category(
        "멀티턴 복합",
        "검색 → 메뉴 조회 → 장바구니 담기 → 결제 준비(→ 주문)까지 한 대화에서 이어지는 풀사이클 대화.",
        [
            "각 단계의 ID는 바로 앞 단계의 도구 결과에서 가져온다.",
            "사용자가 중간에 조건을 바꾸면 그에 맞게 다시 조회한다.",
            "주문 확정 전 최종 금액을 확인받는다.",
        ],
        required=["search_restaurants", "get_restaurant_detail", "add_to_cart", "prepare_checkout"],
        ordered=True,
    ),
    "no_call": _category(
        "비지원 시나리오",
        "앱의 도구로 할 수 없는 요청. 도구를 하나도 호출하지 않고, 할 수 없다는 것을 솔직히 말한 뒤 가능한 대안을 안내한다.",
        [
            "도구를 호출하지 않는다. 없는 도구(주문 취소, 환불, 상담원 연결 등)를 지어내지 않는다.",
            "처리한 척하지 않는다. 매번 같은 상담원 연결 문구로 끝내지 않는다.",
        ],
        forbid=True,
    ),
    "edge_case": _category(
        "엣지 케이스",
        "오타가 섞인 요청, 말을 번복하는 요청('아 잠깐, 2개 말고 1개로'), 모호한 지시를 다루는 대화.",
        [
            "오타는 뜻을 알아들을 수 있으면 바로잡아 처리하고, 애매하면 되묻는다.",
            "번복하면 마지막 의사를 따르고, 이미 처리한 것은 도구로 바로잡는다.",
            "모호한 지시는 값을 지어내지 말고 짧게 되물어 확인한다.",
        ],
    ),
}
"""Category key → ``{"name_ko", "description", "rules": [str], "required_tools": [str],
"any_of_tools": [str], "forbid_tool_calls": bool, "ordered": bool}``. ``required_tools`` must
all be called (as a subsequence in that order when ``ordered``); at least one of ``any_of_tools``
must be called when non-empty. Names and meanings from seed 001's gold-set table."""

GOLD_COUNT_PER_CATEGORY = 10
"""Gold dialogues per category: seed 001, 8 categories × 10 = 80."""

QUESTION_TOPICS: dict[str, list[str]] = {
    "search": [
        "동네 치킨집 찾기",
        "비 오는 날 국물 요리",
        "지금 영업 중인 야식집",
        "배달비 무료인 피자집",
        "평점 높은 중국집",
        "빨리 오는 버거집",
        "혼밥하기 좋은 분식",
        "회사 점심 단체 주문용 한식",
        "평점 4.5 이상 초밥집",
        "다이어트 중 샐러드·포케",
        "새벽에 족발 땡길 때",
        "마라탕 잘하는 곳",
        "비슷한 조건으로 다른 메뉴도 검색",
        "검색 결과 더 보기",
    ],
    "menu": [
        "검색한 치킨집 메뉴판 보기",
        "두 피자집 메뉴 비교",
        "중국집 세트 메뉴 가격 확인",
        "돈까스집 옵션 확인",
        "품절 메뉴 있는지 확인",
        "떡볶이 맵기 단계 확인",
        "족발 사이즈별 가격",
        "버거 세트 구성 확인",
        "국밥집 대표 메뉴 추천",
        "디저트 카페 케이크 종류",
        "쌀국수집 사이드 메뉴",
        "파스타집 1인 메뉴 찾기",
    ],
    "cart": [
        "장바구니 내용 확인",
        "치킨 한 마리 더 담기",
        "음료 빼기",
        "수량 2개로 변경",
        "옵션 넣어서 담기",
        "요청사항 붙여서 담기",
        "장바구니 정리하고 다시 담기",
        "떡볶이 세트 담기",
        "다른 가게 메뉴 담으려다 막힘",
        "사이드 메뉴 추가",
        "최소 주문 금액 맞추기",
        "여러 항목 한 번에 빼기",
    ],
    "order_status": [
        "주문번호로 배달 현황 확인",
        "아까 시킨 치킨 언제 와요",
        "주문번호 모르는 상태 문의",
        "조리 중인지 확인",
        "배달 완료로 뜨는데 못 받음",
        "어제 주문 내역 확인",
        "진행 중인 주문 확인",
        "취소된 주문인지 확인",
        "도착 예정 시간 문의",
        "두 건 주문 중 하나 확인",
        "라이더 위치 궁금",
        "주문 접수됐는지 확인",
    ],
    "checkout": [
        "장바구니 그대로 주문",
        "회사로 배송지 바꿔 주문",
        "카카오페이로 결제",
        "쿠폰 코드 적용해서 결제",
        "문 앞에 두고 가달라는 요청",
        "만나서 현금 결제",
        "결제 금액 확인 후 주문",
        "배송지 여러 개 중 선택",
        "결제 수단 고민",
        "최종 금액 보고 망설임",
        "일회용 수저 빼달라는 요청",
        "아기 자고 있어 벨 누르지 말라는 요청",
    ],
    "multi_turn": [
        "치킨 검색부터 주문까지",
        "점심 메뉴 고르고 회사로 주문",
        "피자 두 판 주문",
        "야식으로 족발 주문",
        "혼밥 분식 주문",
        "비 오는 날 짬뽕 주문",
        "친구들과 먹을 메뉴 주문",
        "디저트 카페 케이크 주문",
        "마라탕 옵션 골라 주문",
        "부모님 댁으로 한식 주문",
        "조건 바꿔 다시 검색 후 주문",
        "메뉴 비교 후 주문",
    ],
    "edge_case": [
        "오타 섞인 메뉴 검색",
        "수량 번복",
        "가게 선택 번복",
        "아무거나 추천해 달라는 모호한 요청",
        "평점 높은 곳이라는 모호한 조건",
        "주문번호 없이 배달 조회",
        "줄임말·신조어 섞인 요청",
        "배송지 번복",
        "한 문장에 여러 요청",
        "말 바꿔서 메뉴 변경",
        "띄어쓰기 없는 급한 요청",
        "애매한 '그거' 지칭",
    ],
}
"""Category key → Korean scenario topics (every category but ``no_call``, which uses
``UNSUPPORTED_SCENARIOS``). Seed 001 ``config.QUESTION_TOPICS``."""

UNSUPPORTED_SCENARIOS: list[str] = [
    "환불 계좌 변경",
    "라이더에게 직접 전화 연결",
    "작성한 리뷰 삭제",
    "다른 사람(가족) 주문 내역 조회",
    "음식 알레르기 의료 상담",
    "이미 접수된 주문 취소",
    "포인트 현금으로 전환",
    "회원 탈퇴 처리",
    "가게 사장님께 메뉴 추가 요청 전달",
    "결제 카드 정보 변경",
    "쿠폰 새로 발급",
    "배달 라이더 지원 방법",
    "다른 배달 앱과 가격 비교",
    "오늘 날씨 문의",
    "가게 위생 신고 접수",
]
"""Requests the app's tools cannot serve; each is the topic of a ``no_call`` scenario (seed 001
``config.UNSUPPORTED_SCENARIOS``)."""

PERSONAS: list[str] = [
    "바쁜 직장인, 짧고 급한 말투",
    "20대 대학생, 반말 섞인 편한 말투",
    "꼼꼼한 30대 주부, 가격과 구성을 자세히 묻는 말투",
    "60대 어르신, 정중하고 천천히 묻는 말투",
    "야근 중인 개발자, 피곤하고 간단한 말투",
    "아이 둘 키우는 아빠, 양과 맵기를 신경 쓰는 말투",
    "다이어트 중인 직장인, 칼로리와 메뉴 구성을 묻는 말투",
    "처음 앱을 쓰는 사용자, 조심스럽고 질문이 많은 말투",
    "자취하는 사회초년생, 배달비에 민감한 친근한 말투",
    "회식 준비하는 팀장, 인원과 수량을 챙기는 말투",
    "까다로운 단골 고객, 직설적이고 불만 섞인 말투",
    "외국인 유학생, 쉬운 한국어와 짧은 문장",
    "야식 좋아하는 고등학생, 이모티콘 없이 가벼운 반말",
]
"""Short Korean customer personas with a tone (persona-driven synthesis, seed 003 / Tülu 3)."""

DEFAULT_MODEL = "gpt-4.1-mini"
DEFAULT_TEMPERATURE = 0.9
TURN_RANGE: tuple[int, int] = (2, 6)
"""Inclusive range of user turns per generated dialogue."""
