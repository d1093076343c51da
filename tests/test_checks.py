"""Checks (datagen.checks): each check fails one dialogue and passes another; the labelled corpus;
the schema pre-screen agrees with jsonschema; validators are built once."""

from __future__ import annotations

import copy
import json
import os
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from datagen import config
from datagen.checks import CHECKS, PER_DIALOGUE, REASONS, check_stored, run_checks
from datagen.checks import schema as schema_mod
from datagen.dialogue import Dialogue

DEFECTS = Path(__file__).parent / "fixtures" / "defects"

# ----------------------------------------------------------------------------- a small DSL


def U(text):
    return {"role": "user", "content": text}


def A(text="", *calls):
    return {"role": "assistant", "content": text, "tool_calls": [{"id": i, "name": n, "arguments": a} for i, n, a in calls]}


def R(cid, name, data):
    return {"role": "tool", "content": data if isinstance(data, str) else json.dumps(data, ensure_ascii=False), "tool_call_id": cid, "name": name}


def D(turns, category="edge_case", tools=None, system_prompt=""):
    return Dialogue(uid="t", category=category, turns=turns, tools=config.TOOLS if tools is None else tools, system_prompt=system_prompt)


SHOP = {
    "restaurant_id": "R2031",
    "name": "교촌 망원점",
    "category": "chicken",
    "rating": 4.6,
    "is_open": True,
    "delivery_fee": 2000,
    "min_order_amount": 15000,
    "eta_minutes": 35,
}
CLOSED = {**SHOP, "restaurant_id": "R2044", "name": "BBQ 합정점", "is_open": False}
MENU = [{"menu_item_id": "M20311", "name": "허니콤보", "price": 23000, "description": "꿀 소스", "is_sold_out": False, "options": []}]
DETAIL = {**SHOP, "opening_hours": "11:00-24:00", "menu": MENU}
LINE = {
    "cart_item_id": "CI0101",
    "menu_item_id": "M20311",
    "name": "허니콤보",
    "quantity": 1,
    "options": [],
    "special_request": None,
    "unit_price": 23000,
    "line_total": 23000,
}
ADDRS = {"items": [{"address_id": "A101", "label": "집", "address": "서울 마포구 월드컵로 12", "is_default": True}]}
CHECKOUT = {
    "checkout_id": "CK300101",
    "restaurant_name": "교촌 망원점",
    "address_id": "A101",
    "address": "서울 마포구 월드컵로 12",
    "payment_method": "kakao_pay",
    "items": [{"name": "허니콤보", "quantity": 1, "line_total": 23000}],
    "subtotal": 23000,
    "delivery_fee": 2000,
    "discount": 0,
    "total": 25000,
    "delivery_note": None,
    "coupon_code": None,
    "eta_minutes": 35,
}
ORDER = {"order_id": "O26112109", "status": "accepted", "total": 25000, "eta_minutes": 35, "ordered_at": "2026-11-21T19:10:00+09:00"}
STATUS = {
    "order_id": "O26112101",
    "restaurant_name": "교촌 망원점",
    "status": "delivering",
    "items": [{"name": "허니콤보", "quantity": 1}],
    "total": 25000,
    "ordered_at": "2026-11-21T19:02:00+09:00",
    "eta_minutes": 12,
}


def search(args=None, items=None, user="치킨집 찾아줘", answer="교촌 망원점이 있어요. 평점 4.6이에요."):
    return [
        U(user),
        A("", ("c1", "search_restaurants", args if args is not None else {"category": "chicken"})),
        R("c1", "search_restaurants", {"items": items if items is not None else [SHOP], "total": 1}),
        A(answer),
    ]


def full_order(*, user="장바구니 거 집으로 카카오페이로 주문해 줘", prepare=None, place=None, confirm=True, answer=None):
    turns = [
        U(user),
        A("", ("c1", "list_addresses", {})),
        R("c1", "list_addresses", ADDRS),
        A("", ("c2", "prepare_checkout", prepare or {"address_id": "A101", "payment_method": "kakao_pay"})),
        R("c2", "prepare_checkout", CHECKOUT),
    ]
    if confirm:
        turns += [A("교촌 망원점 허니콤보 1개, 총 25,000원이에요. 주문할까요?"), U("네 주문해 주세요")]
    turns += [
        A("", ("c3", "place_order", place or {"checkout_id": "CK300101"})),
        R("c3", "place_order", ORDER),
        A(answer or "주문이 접수됐어요. 주문번호 O26112109, 약 35분 뒤 도착해요."),
    ]
    return turns


def cart(args=None, result=None, user="교촌 망원점 허니콤보 하나 담아 줘", answer="허니콤보 1개 담았어요. 합계 23,000원이에요."):
    return [
        U(user),
        A("", ("c0", "search_restaurants", {"query": "교촌 망원점"})),
        R("c0", "search_restaurants", {"items": [SHOP], "total": 1}),
        A("", ("c1", "get_restaurant_detail", {"restaurant_id": "R2031"})),
        R("c1", "get_restaurant_detail", DETAIL),
        A("", ("c2", "add_to_cart", args or {"restaurant_id": "R2031", "menu_item_id": "M20311", "quantity": 1})),
        R("c2", "add_to_cart", result or {"cart_item": LINE, "item_count": 1, "subtotal": 23000}),
        A(answer),
    ]


GOOD = D(search())

# check id → (a dialogue that fails it, one that passes it)
CASES: dict[str, tuple[Dialogue, Dialogue]] = {
    "first_turn_user": (D([A("안녕하세요! 무엇을 도와드릴까요?"), *search()]), GOOD),
    "role_order": (D([U("치킨집"), U("찾아줘"), *search()[1:]]), GOOD),
    "tool_call_unanswered": (D([U("치킨집 찾아줘"), A("", ("c1", "search_restaurants", {"category": "chicken"})), A("찾아볼게요.")]), GOOD),
    "tool_response_orphan": (D([U("치킨집 찾아줘"), R("c9", "search_restaurants", {"items": [], "total": 0}), A("없네요.")]), GOOD),
    "ends_without_answer": (D(search()[:3]), GOOD),
    "empty_turn": (D([U("치킨집 찾아줘"), A("   "), *search()[1:]]), GOOD),
    "leftover_markup": (D(search(answer="교촌 망원점이 있어요.<|im_end|>")), D(search(answer="교촌 망원점이 있어요 {평점 4.6}."))),
    "unknown_tool": (D([U("리뷰 보여줘"), A("", ("c1", "get_reviews", {})), R("c1", "get_reviews", {"reviews": []}), A("리뷰가 없어요.")]), GOOD),
    "missing_required_argument": (
        D(
            [
                U("교촌 메뉴"),
                A("", ("c1", "get_restaurant_detail", {})),
                R("c1", "get_restaurant_detail", {"error": {"code": "INVALID_ARGUMENT", "message": "x"}}),
                A("못 불러왔어요."),
            ]
        ),
        GOOD,
    ),
    "unexpected_argument": (D(search({"category": "chicken", "radius_km": 3}, user="3km 안 치킨집 찾아줘")), GOOD),
    "invalid_argument_value": (D(search({"category": "치킨"})), GOOD),
    "invalid_tool_response": (
        D(
            [
                U("치킨집 찾아줘"),
                A("", ("c1", "search_restaurants", {"category": "chicken"})),
                R("c1", "search_restaurants", {"items": [SHOP]}),
                A("교촌 망원점이 있어요."),
            ]
        ),
        GOOD,
    ),
    "ungrounded_id": (
        D(
            [
                U("R2031 메뉴 말고 다른 가게 메뉴 보여줘"),
                A("", ("c1", "get_restaurant_detail", {"restaurant_id": "R2044"})),
                R("c1", "get_restaurant_detail", {**DETAIL, "restaurant_id": "R2044"}),
                A("메뉴예요."),
            ]
        ),
        D(
            [
                U("R2044 메뉴 보여줘"),
                A("", ("c1", "get_restaurant_detail", {"restaurant_id": "R2044"})),
                R("c1", "get_restaurant_detail", {**DETAIL, "restaurant_id": "R2044"}),
                A("메뉴예요."),
            ]
        ),
    ),
    "place_order_unprepared": (D(full_order(place={"checkout_id": "CK999999"}), "checkout"), D(full_order(), "checkout")),
    "order_not_confirmed": (D(full_order(confirm=False), "checkout"), D(full_order(), "checkout")),
    "unsaid_quantity": (
        D(
            cart(
                {"restaurant_id": "R2031", "menu_item_id": "M20311", "quantity": 3},
                {"cart_item": {**LINE, "quantity": 3, "line_total": 69000}, "item_count": 3, "subtotal": 69000},
                answer="허니콤보 3개 담았어요.",
            )
        ),
        D(
            cart(
                {"restaurant_id": "R2031", "menu_item_id": "M20311", "quantity": 3},
                {"cart_item": {**LINE, "quantity": 3, "line_total": 69000}, "item_count": 3, "subtotal": 69000},
                user="교촌 망원점 허니콤보 세 개 담아 줘",
                answer="허니콤보 3개 담았어요.",
            )
        ),
    ),
    "unsaid_number": (
        D(search({"category": "chicken", "min_rating": 4.5}, user="평점 높은 치킨집 찾아줘")),
        D(search({"category": "chicken", "min_rating": 4.5}, user="평점 4.5 이상 치킨집 찾아줘")),
    ),
    "unsaid_option": (
        D(search({"category": "chicken", "only_open": True})),
        D(search({"category": "chicken", "only_open": True}, user="지금 영업하는 치킨집 찾아줘")),
    ),
    "unsaid_text": (
        D(cart({"restaurant_id": "R2031", "menu_item_id": "M20311", "quantity": 1, "special_request": "덜 맵게 해 주세요"})),
        D(
            cart(
                {"restaurant_id": "R2031", "menu_item_id": "M20311", "quantity": 1, "special_request": "덜 맵게 해 주세요"},
                user="교촌 망원점 허니콤보 하나 담아 줘, 덜 맵게 해줘",
            )
        ),
    ),
    "result_contradicts_call": (
        D(search({"category": "chicken", "only_open": True}, [SHOP, CLOSED], user="지금 문 연 치킨집")),
        D(search({"category": "chicken", "only_open": True}, [SHOP], user="지금 문 연 치킨집")),
    ),
    "ungrounded_mention": (D(search(answer="교촌 망원점이 있어요. 배달비는 3,500원이에요.")), GOOD),
    "category_contract": (D(search(), "no_call"), D(search(), "search")),
    "model_maker_mention": (D(search(answer="교촌 망원점이 있어요. 참고로 저는 ChatGPT예요.")), D(search(answer="교촌 망원점이 있어요. 맛있게 드세요!"))),
    "ai_self_talk": (D(search(answer="저는 AI 언어 모델이라 맛은 모르지만 교촌 망원점이 있어요.")), GOOD),
    "non_korean_text": (D(search(answer="I found one chicken place for you: 교촌 망원점.")), D(search(answer="교촌 망원점(BBQ 아님)이 있어요. OK?"))),
    "length_out_of_bounds": (D(search(answer="교촌 망원점이 있어요. " * 120)), GOOD),
    "handoff_promise": (
        D(search(answer="교촌 망원점이 있어요. 더 궁금하시면 상담원에게 연결해 드릴게요.")),
        D(search(answer="교촌 망원점이 있어요. 상담원 연결은 제가 해 드릴 수 없어요.")),
    ),
    "tool_internals_leaked": (
        D(search(answer="search_restaurants 결과로 교촌 망원점이 있어요. 평점 4.6이에요.")),
        D(search(answer="교촌 망원점이 있어요. 평점 4.6, 배달비 2,000원이에요.")),
    ),
    "ungrounded_claim": (
        D(search(answer="교촌 망원점이 있어요. 이 동네에서 제일 인기 있는 집이에요.")),
        D(search(answer="교촌 망원점이 있어요. 인기 메뉴도 찾아볼까요?")),
    ),
    "unsupported_capability": (
        D(search(answer="교촌 망원점이 있어요. 포인트 적립도 도와드릴 수 있어요.")),
        D(search(answer="교촌 망원점이 있어요. 쿠폰이 있으면 결제할 때 적용해 드릴 수 있어요.")),
    ),
    "unfulfilled_promise": (
        D(search(answer="교촌 망원점이 있어요. 허니콤보 바로 장바구니에 담아 드릴게요.")),
        D(search(answer="교촌 망원점이 있어요. 허니콤보를 장바구니에 담아 드릴까요?")),
    ),
    "unrequested_item": (D(cart(user="교촌 망원점 콜라 하나 담아 줘", answer="담았어요. 합계 23,000원이에요.")), D(cart())),
    "claimed_action": (
        D([U("방금 주문 취소해 주세요"), A("네, 주문을 취소해 드렸어요.")], "no_call"),
        D([U("방금 주문 취소해 주세요"), A("죄송하지만 접수된 주문 취소는 제가 도와드릴 수 없어요.")], "no_call"),
    ),
}


def test_every_per_dialogue_check_has_a_case():
    assert set(CASES) == set(PER_DIALOGUE)


@pytest.mark.parametrize("check_id", sorted(CASES))
def test_check_fails_one_dialogue_and_passes_another(check_id):
    bad, good = CASES[check_id]
    found = [f for f in run_checks(bad) if f.check == check_id]
    assert found, f"{check_id} did not fire"
    f = found[0]
    assert f.severity == CHECKS[check_id].severity and f.reason == CHECKS[check_id].reason
    assert f.turn is None or 0 <= f.turn < len(bad.turns)
    assert any("\uac00" <= ch <= "\ud7a3" for ch in f.message)  # a Korean message
    assert not [f for f in run_checks(good) if f.check == check_id]


def test_the_clean_example_has_no_finding_at_all():
    assert run_checks(GOOD) == []


def test_registry_ids_severities_and_reasons_are_the_review_taxonomy():
    from datagen.review import REJECT_REASONS

    assert set(REASONS) == set(REJECT_REASONS)
    for spec in CHECKS.values():
        assert spec.severity in ("error", "warning") and spec.reason in REASONS and spec.title


# ----------------------------------------------------------------------------- imported records, seed 001


def test_seed001_record_with_only_open_asked_for_is_not_flagged_and_record_3_is():
    from datagen.dialogue import from_seed_record

    records = [from_seed_record(json.loads(line)) for line in (Path(__file__).parent / "fixtures" / "seed001_dataset.jsonl").open()]
    assert run_checks(records[0]) == [] and run_checks(records[1]) == []
    found = {f.check: f for f in run_checks(records[2])}
    assert "ORD-12345" in found["ungrounded_id"].message and found["ungrounded_id"].turn == 1
    assert "handoff_promise" in found


def test_imported_tools_are_checked_against_their_own_schema_and_return_formats_apply_only_to_the_same_tool():
    own = [{"type": "function", "name": "search_restaurants", "parameters": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}}]
    d = D([U("피자"), A("", ("c1", "search_restaurants", {"q": 3})), R("c1", "search_restaurants", "피자나라"), A("피자나라가 있어요.")], "imported", own)
    ids = {f.check for f in run_checks(d)}
    assert "invalid_argument_value" in ids  # the record's own schema says string
    assert "invalid_tool_response" not in ids  # no return format known for this tool
    same = D(
        [U("치킨집"), A("", ("c1", "search_restaurants", {"category": "chicken"})), R("c1", "search_restaurants", "치킨집 목록"), A("있어요.")], "imported"
    )
    assert "invalid_tool_response" in {f.check for f in run_checks(same)}  # config's tool: its return format applies


def test_the_system_prompt_grounds_the_user_id_but_not_example_ids_of_an_embedded_tools_block():
    tools_block = "# Tools\n<tools>\n" + json.dumps(config.TOOLS[9], ensure_ascii=False) + "\n</tools>"
    system = "배달 앱 상담사입니다.\n로그인한 사용자 ID: u_10234\n\n" + tools_block
    assert config.ID_EXAMPLES["order_id"] in system
    example = D(
        [
            U("제 주문 어디쯤이에요?"),
            A("", ("c1", "get_order_status", {"order_id": config.ID_EXAMPLES["order_id"]})),
            R("c1", "get_order_status", {**STATUS, "order_id": config.ID_EXAMPLES["order_id"]}),
            A("배달 중이에요."),
        ],
        system_prompt=system,
    )
    assert "ungrounded_id" in {f.check for f in run_checks(example)}
    own = [{"type": "function", "function": {"name": "get_points", "parameters": {"type": "object", "properties": {"user_id": {"type": "string"}}}}}]
    user = D(
        [U("내 포인트 얼마야?"), A("", ("c1", "get_points", {"user_id": "u_10234"})), R("c1", "get_points", {"points": 1200}), A("1,200포인트 있어요.")],
        "imported",
        own,
        system_prompt=system,
    )
    assert run_checks(user) == []


def test_a_record_without_tools_does_not_fire_unknown_tool():
    d = D([U("피자"), A("", ("c1", "search", {})), R("c1", "search", "{}"), A("있어요.")], "imported", [])
    assert "unknown_tool" not in {f.check for f in run_checks(d)}


# ----------------------------------------------------------------------------- the labelled corpus


def _corpus(name):
    for line in (DEFECTS / name).open(encoding="utf-8"):
        rec = json.loads(line)
        data = rec["dialogue"]
        data.setdefault("tools", config.TOOLS)
        yield rec, Dialogue.model_validate(data)


def test_labelled_corpus_recall_and_false_findings(capsys, request):
    defects, clean = list(_corpus("defects.jsonl")), list(_corpus("clean.jsonl"))
    kinds = Counter(tuple(r["labels"]) for r, _ in defects)
    assert len([k for k, n in Counter(lab for r, _ in defects for lab in r["labels"]).items() if n >= 5]) >= 12
    assert len(clean) >= 60 and min(kinds.values()) >= 1
    hit, total = Counter(), Counter()
    for rec, d in defects:
        got = {f.check for f in run_checks(d)}
        for label in rec["labels"]:
            total[label] += 1
            hit[label] += label in got
    false = Counter()
    dirty = 0
    for rec, d in clean:
        found = run_checks(d)
        dirty += bool(found)
        false.update({f.check for f in found})
    show = request.config.getoption("capture") == "no" or os.environ.get("DATAGEN_SHOW_RECALL") == "1"
    with capsys.disabled():
        if show:  # the table only with -s or DATAGEN_SHOW_RECALL=1: `pytest -q` stays dots
            _print_recall(hit, total, false, clean, dirty)
    assert sum(hit.values()) / sum(total.values()) >= 0.95
    assert dirty / len(clean) <= 0.02


def _print_recall(hit, total, false, clean, dirty):
    """The per-check recall / false-finding table (shown with ``-s`` or DATAGEN_SHOW_RECALL=1)."""
    print(f"\n{'check':28} {'recall':>8} {'false on clean':>15}")
    for check_id in CHECKS:
        if total[check_id] or false[check_id]:
            r = f"{hit[check_id]}/{total[check_id]}" if total[check_id] else "-"
            print(f"{check_id:28} {r:>8} {false[check_id]:>8}/{len(clean)}")
    print(f"recall {sum(hit.values())}/{sum(total.values())}, clean dialogues with a finding {dirty}/{len(clean)}")


def test_stored_json_path_gives_the_same_findings_as_the_dialogue_path():
    for rec, d in list(_corpus("defects.jsonl"))[::3] + list(_corpus("clean.jsonl"))[::5]:
        assert check_stored(d.model_dump_json()) == run_checks(d) == check_stored(d.model_dump())


# ----------------------------------------------------------------------------- schemas


def test_validators_are_built_once_per_schema(monkeypatch):
    built = []
    real = schema_mod.Draft202012Validator

    class Counting(real):  # type: ignore[misc, valid-type]
        def __init__(self, *a, **kw):
            built.append(1)
            super().__init__(*a, **kw)

    monkeypatch.setattr(schema_mod, "Draft202012Validator", Counting)
    schema_mod._CACHE.clear(), schema_mod._BY_ID.clear()
    from datagen.checks import core

    core._TABLES.clear(), core._TABLE_BY_ID.clear()
    own = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {"x": {"type": "integer"}}}}}]
    for _ in range(50):  # fresh copies, as parsed from 50 records
        run_checks(D(full_order(), "checkout"))
        run_checks(D([U("x 1"), A("", ("c1", "f", {"x": 1})), R("c1", "f", "{}"), A("네.")], "imported", copy.deepcopy(own)))
    assert 0 < len(built) <= len(config.TOOLS) * 2 + 1


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 30)
    | st.floats(-1, 30, allow_nan=False)
    | st.sampled_from(["R1024", "M10231", "CI0042", "A001", "CK482913", "O25112101", "chicken", "card", "x", "", "delivering"]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "restaurant_id",
                    "items",
                    "name",
                    "rating",
                    "is_open",
                    "quantity",
                    "error",
                    "code",
                    "message",
                    "total",
                    "cart_item",
                    "status",
                    "order_id",
                    "menu",
                    "price",
                    "options",
                    "extra",
                ]
            ),
            children,
            max_size=6,
        )
    ),
    max_leaves=20,
)
SCHEMAS = [t["function"]["parameters"] for t in config.TOOLS] + list(config.TOOLS_RETURN_FORMAT.values())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(range(len(SCHEMAS))), json_values)
def test_the_pre_screen_never_accepts_what_jsonschema_rejects(i, instance):
    compiled = schema_mod.compiled(SCHEMAS[i])
    valid = Draft202012Validator(SCHEMAS[i]).is_valid(instance)
    if compiled.fast is not None and compiled.fast(instance):
        assert valid
    assert (compiled.errors(instance) == []) == valid


def test_the_pre_screen_accepts_the_valid_results_of_the_offline_dialogues():
    """Soundness alone would allow a pre-screen that accepts nothing: it must also be useful."""
    from datagen.offline_dialogues import scripted_dialogue

    for n, cat in enumerate(config.CATEGORIES * 3):
        turns = scripted_dialogue({"custom_id": f"train-{cat}-{n:05d}", "category": cat})["turns"]
        for t in turns:
            if t["role"] == "tool" and t["name"] in config.TOOLS_RETURN_FORMAT:
                assert schema_mod.compiled(config.TOOLS_RETURN_FORMAT[t["name"]]).fast(json.loads(t["content"]))


# ----------------------------------------------------------------------------- issue 13: real-data false alarms and misses

SEED_TOOLS = [  # seed 001's own tool shapes (flat, snapshot-based place_order): not config.TOOLS
    {
        "type": "function",
        "name": "prepare_checkout",
        "parameters": {
            "type": "object",
            "properties": {"user_id": {"type": "string"}, "address_id": {"type": "string"}, "delivery_note": {"type": "string"}},
            "required": ["user_id", "address_id"],
        },
    },
    {
        "type": "function",
        "name": "place_order",
        "parameters": {"type": "object", "properties": {"snapshot": {"type": "object"}, "payment_method": {"type": "string"}}, "required": ["snapshot"]},
    },
    {
        "type": "function",
        "name": "add_to_cart",
        "parameters": {
            "type": "object",
            "properties": {
                "user_id": {"type": "string"},
                "restaurant_id": {"type": "string"},
                "menu_item_id": {"type": "string"},
                "quantity": {"type": "integer"},
            },
            "required": ["user_id", "restaurant_id", "menu_item_id"],
        },
    },
    {
        "type": "function",
        "name": "search_restaurants",
        "parameters": {
            "type": "object",
            "properties": {"query": {"type": "string"}, "category": {"type": "string"}, "only_open": {"type": "boolean"}, "sort": {"type": "string"}},
        },
    },
]
USER = "af1b5d7a-f9db-479f-9749-226ba884f3ff"
SNAP = {
    "user_id": USER,
    "cart_id": "b9a1c3d4-0000-4000-8000-000000000001",
    "address_id": "3f47a2b9-0000-4000-8000-000000000002",
    "items": [{"menu_name": "더블치즈 피자", "quantity": 1, "line_total": 18000}],
    "subtotal": 18000,
    "total": 21000,
}


def seed_order(snapshot, *, note_after_confirm=False):
    turns = [
        U("장바구니 거 결제 준비해 주세요. 배송지는 3f47a2b9-0000-4000-8000-000000000002이에요."),
        A("", ("c1", "prepare_checkout", {"user_id": USER, "address_id": SNAP["address_id"]})),
        R("c1", "prepare_checkout", SNAP),
        A("더블치즈 피자 1개, 배달비 포함 총 21,000원이에요. 결제 수단을 알려주세요."),
        U("카드로 결제할게요. 문 앞에 두라고 해 주세요"),
    ]
    if note_after_confirm:
        noted = {**SNAP, "delivery_note": "문 앞에 두세요"}
        turns += [
            A("", ("c2", "prepare_checkout", {"user_id": USER, "address_id": SNAP["address_id"], "delivery_note": "문 앞에 두세요"})),
            R("c2", "prepare_checkout", noted),
        ]
        snapshot = noted if snapshot is SNAP else snapshot
    turns += [
        A("", ("c3", "place_order", {"snapshot": snapshot, "payment_method": "card"})),
        R("c3", "place_order", "8a9b7c6d-0000-4000-8000-000000000003"),
        A("주문이 완료되었습니다. 총 21,000원이에요."),
    ]
    return D(turns, "imported", SEED_TOOLS, system_prompt=f"로그인한 사용자의 현재 ID: {USER}")


def ids(d):
    return {f.check for f in run_checks(d)}


def test_place_order_is_grounded_by_the_tools_own_schema_a_snapshot_object():
    assert "place_order_unprepared" not in ids(seed_order(SNAP))
    assert "place_order_unprepared" not in ids(seed_order(SNAP, note_after_confirm=True))
    forged = {**SNAP, "total": 9000}
    assert "place_order_unprepared" in ids(seed_order(forged))
    old = seed_order(SNAP, note_after_confirm=True)
    old.turns[-3].tool_calls[0].arguments["snapshot"] = SNAP  # the first prepare's result, not the latest
    assert any("이전" in f.message for f in run_checks(old) if f.check == "place_order_unprepared")


def test_a_later_note_only_prepare_after_the_customer_confirmed_is_not_an_unconfirmed_order():
    assert "order_not_confirmed" not in ids(seed_order(SNAP, note_after_confirm=True))


def whole_cart(added_id, added_name):
    first = {"cart_item_id": "CI1", "menu_item_id": "M1", "menu_name": "마라탕 1인분", "quantity": 1, "line_total": 13000}
    second = {"cart_item_id": "CI2", "menu_item_id": added_id, "menu_name": added_name, "quantity": 1, "line_total": 18000}
    return {"cart_id": "C1", "restaurant_id": "R1", "items": [first, second], "item_count": 2, "subtotal": 31000}


def test_an_add_to_cart_result_is_the_whole_cart_and_the_added_line_is_matched_by_its_id():
    def dlg(result):
        return D(
            [
                U("R1 가게 M1이랑 M2 마라샹궈 하나씩 넣어줘"),
                A("", ("c1", "add_to_cart", {"user_id": USER, "restaurant_id": "R1", "menu_item_id": "M2", "quantity": 1})),
                R("c1", "add_to_cart", result),
                A("마라샹궈를 담았어요. 합계 31,000원이에요."),
            ],
            "imported",
            SEED_TOOLS,
        )

    assert "result_contradicts_call" not in ids(dlg(whole_cart("M2", "마라샹궈 (중)")))
    assert "result_contradicts_call" in ids(dlg(whole_cart("M9", "마라샹궈 (중)")))  # no line with the called id


@pytest.mark.parametrize("word,code", [("달러", "USD"), ("유로", "EUR"), ("원", "KRW"), ("한국돈", "KRW"), ("엔화", "JPY")])
def test_currency_words_and_iso_codes_are_the_same_value(word, code):
    tools = [
        {
            "type": "function",
            "function": {
                "name": "convert_currency",
                "parameters": {"type": "object", "properties": {"amount": {"type": "number"}, "from": {"type": "string"}, "to": {"type": "string"}}},
            },
        }
    ]
    d = D(
        [
            U(f"100{word}는 얼마야?"),
            A("", ("c1", "convert_currency", {"amount": 100, "from": word, "to": "KRW"})),
            R("c1", "convert_currency", {"converted_amount": 133096.0, "from": code, "to": "KRW"}),
            A("약 13만 3,096원입니다."),
        ],
        "imported",
        tools,
    )
    assert ids(d) == set()
    wrong = D(
        [
            U(f"100{word}는 얼마야?"),
            A("", ("c1", "convert_currency", {"amount": 100, "from": word, "to": "KRW"})),
            R("c1", "convert_currency", {"converted_amount": 1.0, "from": "CHF", "to": "KRW"}),
            A("1원입니다."),
        ],
        "imported",
        tools,
    )
    assert "result_contradicts_call" in ids(wrong)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([("round", int, str), ("amount", float, lambda x: f"{x:.2f}")]))
def test_a_number_and_its_string_agree_but_other_numbers_do_not(n, spec):
    from datagen.checks.consistency import same_value

    _, cast, show = spec
    assert same_value(cast(n), show(cast(n)))
    assert not same_value(cast(n), show(cast(n + 1)))


def korean_reading(n: int) -> str:
    """``n`` won written the way Korean text writes it: 13만 3,096원, 1억 2,000만 원, 5,000원."""
    eok, rest = divmod(n, 100_000_000)
    man, one = divmod(rest, 10_000)
    parts = [f"{eok:,}억"] if eok else []
    parts += [f"{man:,}만"] if man else []
    parts += [f"{one:,}"] if one or not parts else []
    return " ".join(parts) + "원"


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 3_000_000_000), st.sampled_from(["", "약 ", "총 "]), st.sampled_from(["입니다.", "이에요", " 정도예요"]))
def test_korean_amounts_are_read_whole(n, before, after):
    from datagen.checks.text import won_amounts

    text = f"환산하면 {before}{korean_reading(n)}{after}"
    assert [v for _, v in won_amounts(text)] == [float(n)]
    assert won_amounts(text.replace(",", "")) == [(w.replace(",", ""), v) for w, v in won_amounts(text)]


def test_a_price_read_the_korean_way_or_worked_out_from_a_result_is_grounded():
    conv = [
        {
            "type": "function",
            "function": {
                "name": "convert_currency",
                "parameters": {"type": "object", "properties": {"amount": {"type": "number"}, "from": {"type": "string"}, "to": {"type": "string"}}},
            },
        }
    ]
    d = D(
        [
            U("100유로는 얼마야?"),
            A("", ("c1", "convert_currency", {"amount": 100, "from": "유로", "to": "한국돈"})),
            R("c1", "convert_currency", {"converted_amount": 144510.98, "from": "EUR", "to": "KRW"}),
            A("100유로는 약 14만 4,510원입니다."),
        ],
        "imported",
        conv,
    )
    assert "ungrounded_mention" not in ids(d)
    invented = D(
        [
            U("100유로는 얼마야?"),
            A("", ("c1", "convert_currency", {"amount": 100, "from": "유로", "to": "한국돈"})),
            R("c1", "convert_currency", {"converted_amount": 144510.98, "from": "EUR", "to": "KRW"}),
            A("100유로는 약 15만 2,000원입니다."),
        ],
        "imported",
        conv,
    )
    assert "ungrounded_mention" in ids(invented)
    fee = seed_order(SNAP)
    fee.turns[-1].content = "주문이 완료되었습니다. 총 21,000원(상품 18,000원 + 배달비 3,000원)이에요."
    assert "ungrounded_mention" not in ids(fee)  # 3,000 = total - subtotal of one result


def test_a_bullet_label_is_not_a_shop_or_menu_name():
    text = (
        "요청하신 내용 안내드릴게요.\n- 앱 오류(결제 실패) 신고: 오류가 난 시각(예: 2025-06-09 18:23)과 기기 정보를 알려주세요.\n"
        "- 주문 취소(주문번호 3f8b2c4a) 요청: 도와드릴 수 없는 내용입니다."
    )
    assert "ungrounded_mention" not in ids(D([U("앱 오류 신고하고 주문 취소도 하고 싶어요"), A(text)], "no_call"))


def test_numbers_from_an_earlier_tool_result_are_not_unsaid():
    tools = [
        {"type": "function", "function": {"name": n, "parameters": {"type": "object", "properties": p}}}
        for n, p in [
            ("getWalkInfo", {"origin": {"type": "string"}, "destination": {"type": "string"}}),
            ("calculateCaloriesBurnedByWalking", {"distance": {"type": "number"}, "weight": {"type": "number"}}),
        ]
    ]
    d = D(
        [
            U("한글박물관에서 한남파출소까지 걸었어"),
            A("", ("c1", "getWalkInfo", {"origin": "한글박물관", "destination": "한남파출소"})),
            R("c1", "getWalkInfo", {"distance": 3.3, "distance_unit": "km"}),
            A("약 3.3km예요."),
            U("몇 칼로리 썼을까? 58키로야"),
            A("", ("c2", "calculateCaloriesBurnedByWalking", {"distance": 3.3, "weight": 58})),
            R("c2", "calculateCaloriesBurnedByWalking", {"calories_burned": 133.98}),
            A("약 133.98kcal입니다."),
        ],
        "imported",
        tools,
    )
    assert "unsaid_number" not in ids(d)
    d.turns[5].tool_calls[0].arguments["distance"] = 4.1
    assert "unsaid_number" in ids(d)


def test_a_filter_carried_into_a_new_search_is_unsaid_but_a_refinement_keeps_it():
    shop = {"name": "정성가득 한상", "category": "한식", "is_open": True}

    def two_searches(second_user, second_args):
        return D(
            [
                U("지금 영업 중인 한식집 찾아줘"),
                A("", ("c1", "search_restaurants", {"category": "한식", "only_open": True})),
                R("c1", "search_restaurants", {"items": [shop]}),
                A("정성가득 한상이 있어요."),
                U(second_user),
                A("", ("c2", "search_restaurants", second_args)),
                R("c2", "search_restaurants", {"items": [{**shop, "category": second_args.get("category", "한식")}]}),
                A("찾아봤어요."),
            ],
            "imported",
            SEED_TOOLS,
        )

    drift = [f for f in run_checks(two_searches("이번엔 중식으로 바꿔서 찾아줘", {"category": "중식", "only_open": True})) if f.check == "unsaid_option"]
    assert [f.turn for f in drift] == [5] and "only_open" in drift[0].message
    assert "unsaid_option" not in ids(two_searches("평점 높은 순으로 정렬해줘", {"category": "한식", "only_open": True, "sort": "rating"}))
    assert "unsaid_option" not in ids(two_searches("같은 조건으로 중식도 찾아줘", {"category": "중식", "only_open": True}))


def test_codes_emails_and_quoted_text_do_not_make_a_turn_non_korean():
    tools = [
        {
            "type": "function",
            "function": {
                "name": "create_user",
                "parameters": {"type": "object", "properties": {"name": {"type": "string"}, "email": {"type": "string"}, "password": {"type": "string"}}},
            },
        }
    ]
    d = D(
        [
            U("새 계정 만들어줘"),
            A("성함과 이메일, 비밀번호를 알려주세요."),
            U("이름 코비 이메일 kobi@example.com 비밀번호 abc123cba"),
            A("", ("c1", "create_user", {"name": "코비", "email": "kobi@example.com", "password": "abc123cba"})),
            R("c1", "create_user", {"status": "success"}),
            A("계정을 만들었습니다."),
        ],
        "imported",
        tools,
    )
    assert ids(d) == set()
    order = D([U("주문번호 3f8b0a5c-7d49-4e1b-9c3a-1a2b3c4d5e6f 배달 출발했나요?"), A("확인해 볼게요. 앱에서 확인해 주세요.")], "imported", [])
    assert "non_korean_text" not in ids(order)
    assert "non_korean_text" in ids(D([U("Where is my order? It has been an hour already."), A("확인해 드릴게요.")], "imported", []))


def test_a_hand_off_promised_after_a_negated_reason_is_found():
    d = D([U("환불해 주세요"), A("환불은 제가 직접 처리할 수 없어서, 문의하신 내용을 담당자에게 전달하여 신속히 처리하겠습니다.")], "no_call")
    assert "handoff_promise" in ids(d)
    assert "handoff_promise" not in ids(D([U("환불해 주세요"), A("담당자 연결은 제가 해 드릴 수 없어요. 앱의 1:1 문의를 이용해 주세요.")], "no_call"))


def test_a_canned_sign_off_of_two_short_sentences_is_one_closing_span():
    from datagen.checks.corpus import final_closing

    a = final_closing([A("네, 맛있게 드세요! 배달 앱 AI 상담사였습니다. 감사합니다.")])
    b = final_closing([A("네, 좋은 하루 되세요! 배달 앱 AI 상담사였습니다. 감사합니다.")])
    assert a == b == "배달 앱 AI 상담사였습니다. 감사합니다"
    assert final_closing([A("주문이 접수됐어요. 더 궁금한 점은 고객센터 앱 메뉴에서 문의해 주세요.")]) == "더 궁금한 점은 고객센터 앱 메뉴에서 문의해 주세요"


# ----------------------------------------------------------------------------- calibration on real data (issue 13)


def test_calibration_on_the_real_corpus_holds_the_reached_targets(capsys, request):
    """Figures computed from the checks and the hand labels (datagen.calibration); the floors are
    the targets of issue 13 this code reaches (BENCHMARKS.md), asserted as regression floors."""
    from datagen import calibration

    items = calibration.run(calibration.load_real())
    assert len(items) >= 150 and len({it.dialogue.tools[0]["function"]["name"] for it in items if it.dialogue.tools}) >= 2
    r = calibration.score_real(items)
    if request.config.getoption("capture") == "no" or os.environ.get("DATAGEN_SHOW_RECALL") == "1":
        with capsys.disabled():  # the report only with -s or DATAGEN_SHOW_RECALL=1: `pytest -q` stays dots
            print(
                "\n"
                + "\n".join(
                    list(
                        calibration.format_report(
                            {"real": r, "scripted": calibration.score_scripted(calibration.run(calibration.load_scripted(), corpus_checks=False))}
                        )
                    )
                )
            )
    assert r["error"]["precision"] >= 0.90
    assert r["warning"]["precision"] >= 0.70
    assert r["recall"]["value"] >= 0.80
    assert r["held_back"]["human_curated_clean_with_error"] == 0 and r["held_back"]["human_curated_clean"] >= 100


def test_the_matching_rule_of_the_calibration():
    from datagen.calibration import matches
    from datagen.checks import Finding

    label = {"turn": 6, "reason": "result_contradicts_call"}
    assert matches(Finding("result_contradicts_call", "error", 7, "result_contradicts_call", ""), label)
    assert matches(Finding("unsaid_option", "warning", 6, "unsaid_value", ""), label)  # the same turn, another name
    assert not matches(Finding("unsaid_option", "warning", 7, "unsaid_value", ""), label)
    assert not matches(Finding("result_contradicts_call", "error", 8, "result_contradicts_call", ""), label)
    assert matches(Finding("repeated_closing", "warning", None, "result_contradicts_call", ""), label)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(sorted(__import__("datagen.checks.consistency", fromlist=["CURRENCY_NAMES"]).CURRENCY_NAMES.items())),
    st.sampled_from(["", " ", "  "]),
    st.booleans(),
    st.sampled_from(["USD", "EUR", "KRW", "JPY", "CNY", "GBP", "CZK", "CHF"]),
)
def test_currency_words_match_their_iso_code_in_any_case_and_no_other(pair, pad, lower, other):
    from datagen.checks.consistency import same_value

    word, code = pair
    shown = code.lower() if lower else code
    assert same_value(pad + word + pad, shown) and same_value(shown, word)
    if other != code:
        assert not same_value(word, other)


def test_validate_calibration_prints_both_corpora_per_check(capsys):
    from datagen import validate

    assert validate.main(["--calibration", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"real", "scripted"}
    for name in out:
        per = out[name]["per_check"]
        assert set(per) == set(CHECKS)
        for c in per.values():
            assert c["findings"] == c["true"] + c["false"]
            assert c["precision"] is None or 0 <= c["precision"] <= 1
    assert out["real"]["dialogues"] >= 150 and out["real"]["labelled_defects"] > 100


@pytest.mark.parametrize("extra, env, shown", [([], {}, False), (["-s"], {}, True), ([], {"DATAGEN_SHOW_RECALL": "1"}, True)])
def test_recall_table_is_printed_only_when_asked(extra, env, shown):
    """``pytest -q`` stays quiet (dots only); the recall table appears with ``-s`` or DATAGEN_SHOW_RECALL=1."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", *extra, "tests/test_checks.py::test_labelled_corpus_recall_and_false_findings"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        env={**{k: v for k, v in os.environ.items() if k != "DATAGEN_SHOW_RECALL"}, **env},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert ("false on clean" in proc.stdout) is shown, proc.stdout


# ----------------------------------------------------------------------------- one argument validator (Review's table = the checks)

_ARG_CHECKS = {"missing_required_argument": "missing", "unexpected_argument": "unexpected", "invalid_argument_value": "value"}
_TOOLS = {t["function"]["name"]: t["function"] for t in config.TOOLS}
_ARG_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=False, width=32),
    st.sampled_from(["R2031", "R12", "M20311", "CI0101", "A101", "CK300101", "O26112101", "chicken", "kakao_pay", "", "치킨"]),
    st.lists(st.sampled_from(["CI0101", "x"]), max_size=2),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(_TOOLS)), data=st.data())
def test_the_review_argument_table_and_the_checks_judge_arguments_alike(name, data):
    from datagen.checks.calls import argument_problems
    from datagen.dialogue import ToolCall
    from datagen.ui import argument_rows

    spec = _TOOLS[name]
    keys = sorted(spec["parameters"].get("properties", {})) + ["extra_arg"]
    args = data.draw(st.dictionaries(st.sampled_from(keys), _ARG_VALUES, max_size=4))
    problems = argument_problems(args, spec)
    found = {f.check for f in run_checks(D([U("주문 도와줘"), A("", ("c1", name, args)), R("c1", name, {}), A("네.")])) if f.turn == 1}
    kinds = {"value" if p["problem"] == "type" else p["problem"] for p in problems.values()}
    assert kinds == {_ARG_CHECKS[c] for c in found if c in _ARG_CHECKS}
    rows = {r["인자"]: r["상태"] for r in argument_rows(ToolCall(id="c1", name=name, arguments=args), spec)}
    assert {n for n, s in rows.items() if s} == set(problems)
    assert all(("타입 불일치" in rows[n]) == (p["problem"] == "type") for n, p in problems.items())


def test_argument_problems_name_each_kind():
    from datagen.checks.calls import argument_problems

    spec = _TOOLS["update_cart_item"]  # cart_item_id ^CI\d{4}$, quantity integer ≥ 1, both required
    assert argument_problems({"cart_item_id": "CI0042", "quantity": 2}, spec) == {}
    assert argument_problems({"cart_item_id": 42, "quantity": 0, "x": 1}, spec) == {
        "cart_item_id": {"problem": "type", "expected": ["string"]},
        "quantity": {"problem": "value", "expected": None},
        "x": {"problem": "unexpected", "expected": None},
    }
    assert argument_problems({"cart_item_id": "C1"}, spec) == {
        "cart_item_id": {"problem": "value", "expected": None},
        "quantity": {"problem": "missing", "expected": None},
    }
    assert argument_problems({"a": 1}, None) == {}
