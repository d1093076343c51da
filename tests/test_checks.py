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


SHOP = {"restaurant_id": "R2031", "name": "교촌 망원점", "category": "chicken", "rating": 4.6, "is_open": True, "delivery_fee": 2000,
        "min_order_amount": 15000, "eta_minutes": 35}
CLOSED = {**SHOP, "restaurant_id": "R2044", "name": "BBQ 합정점", "is_open": False}
MENU = [{"menu_item_id": "M20311", "name": "허니콤보", "price": 23000, "description": "꿀 소스", "is_sold_out": False, "options": []}]
DETAIL = {**SHOP, "opening_hours": "11:00-24:00", "menu": MENU}
LINE = {"cart_item_id": "CI0101", "menu_item_id": "M20311", "name": "허니콤보", "quantity": 1, "options": [], "special_request": None,
        "unit_price": 23000, "line_total": 23000}
ADDRS = {"items": [{"address_id": "A101", "label": "집", "address": "서울 마포구 월드컵로 12", "is_default": True}]}
CHECKOUT = {"checkout_id": "CK300101", "restaurant_name": "교촌 망원점", "address_id": "A101", "address": "서울 마포구 월드컵로 12",
            "payment_method": "kakao_pay", "items": [{"name": "허니콤보", "quantity": 1, "line_total": 23000}], "subtotal": 23000,
            "delivery_fee": 2000, "discount": 0, "total": 25000, "delivery_note": None, "coupon_code": None, "eta_minutes": 35}
ORDER = {"order_id": "O26112109", "status": "accepted", "total": 25000, "eta_minutes": 35, "ordered_at": "2026-11-21T19:10:00+09:00"}
STATUS = {"order_id": "O26112101", "restaurant_name": "교촌 망원점", "status": "delivering", "items": [{"name": "허니콤보", "quantity": 1}],
          "total": 25000, "ordered_at": "2026-11-21T19:02:00+09:00", "eta_minutes": 12}


def search(args=None, items=None, user="치킨집 찾아줘", answer="교촌 망원점이 있어요. 평점 4.6이에요."):
    return [U(user), A("", ("c1", "search_restaurants", args if args is not None else {"category": "chicken"})),
            R("c1", "search_restaurants", {"items": items if items is not None else [SHOP], "total": 1}), A(answer)]


def full_order(*, user="장바구니 거 집으로 카카오페이로 주문해 줘", prepare=None, place=None, confirm=True, answer=None):
    turns = [U(user), A("", ("c1", "list_addresses", {})), R("c1", "list_addresses", ADDRS),
             A("", ("c2", "prepare_checkout", prepare or {"address_id": "A101", "payment_method": "kakao_pay"})),
             R("c2", "prepare_checkout", CHECKOUT)]
    if confirm:
        turns += [A("교촌 망원점 허니콤보 1개, 총 25,000원이에요. 주문할까요?"), U("네 주문해 주세요")]
    turns += [A("", ("c3", "place_order", place or {"checkout_id": "CK300101"})), R("c3", "place_order", ORDER),
              A(answer or "주문이 접수됐어요. 주문번호 O26112109, 약 35분 뒤 도착해요.")]
    return turns


def cart(args=None, result=None, user="교촌 망원점 허니콤보 하나 담아 줘", answer="허니콤보 1개 담았어요. 합계 23,000원이에요."):
    return [U(user), A("", ("c0", "search_restaurants", {"query": "교촌 망원점"})), R("c0", "search_restaurants", {"items": [SHOP], "total": 1}),
            A("", ("c1", "get_restaurant_detail", {"restaurant_id": "R2031"})), R("c1", "get_restaurant_detail", DETAIL),
            A("", ("c2", "add_to_cart", args or {"restaurant_id": "R2031", "menu_item_id": "M20311", "quantity": 1})),
            R("c2", "add_to_cart", result or {"cart_item": LINE, "item_count": 1, "subtotal": 23000}), A(answer)]


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
        D([U("교촌 메뉴"), A("", ("c1", "get_restaurant_detail", {})), R("c1", "get_restaurant_detail", {"error": {"code": "INVALID_ARGUMENT", "message": "x"}}), A("못 불러왔어요.")]),
        GOOD),
    "unexpected_argument": (D(search({"category": "chicken", "radius_km": 3}, user="3km 안 치킨집 찾아줘")), GOOD),
    "invalid_argument_value": (D(search({"category": "치킨"})), GOOD),
    "invalid_tool_response": (D([U("치킨집 찾아줘"), A("", ("c1", "search_restaurants", {"category": "chicken"})),
                                 R("c1", "search_restaurants", {"items": [SHOP]}), A("교촌 망원점이 있어요.")]), GOOD),
    "ungrounded_id": (D([U("R2031 메뉴 말고 다른 가게 메뉴 보여줘"), A("", ("c1", "get_restaurant_detail", {"restaurant_id": "R2044"})),
                         R("c1", "get_restaurant_detail", {**DETAIL, "restaurant_id": "R2044"}), A("메뉴예요.")]),
                      D([U("R2044 메뉴 보여줘"), A("", ("c1", "get_restaurant_detail", {"restaurant_id": "R2044"})),
                         R("c1", "get_restaurant_detail", {**DETAIL, "restaurant_id": "R2044"}), A("메뉴예요.")])),
    "place_order_unprepared": (D(full_order(place={"checkout_id": "CK999999"}), "checkout"), D(full_order(), "checkout")),
    "order_not_confirmed": (D(full_order(confirm=False), "checkout"), D(full_order(), "checkout")),
    "unsaid_quantity": (D(cart({"restaurant_id": "R2031", "menu_item_id": "M20311", "quantity": 3},
                               {"cart_item": {**LINE, "quantity": 3, "line_total": 69000}, "item_count": 3, "subtotal": 69000},
                               answer="허니콤보 3개 담았어요.")),
                        D(cart({"restaurant_id": "R2031", "menu_item_id": "M20311", "quantity": 3},
                               {"cart_item": {**LINE, "quantity": 3, "line_total": 69000}, "item_count": 3, "subtotal": 69000},
                               user="교촌 망원점 허니콤보 세 개 담아 줘", answer="허니콤보 3개 담았어요."))),
    "unsaid_number": (D(search({"category": "chicken", "min_rating": 4.5}, user="평점 높은 치킨집 찾아줘")),
                      D(search({"category": "chicken", "min_rating": 4.5}, user="평점 4.5 이상 치킨집 찾아줘"))),
    "unsaid_option": (D(search({"category": "chicken", "only_open": True})),
                      D(search({"category": "chicken", "only_open": True}, user="지금 영업하는 치킨집 찾아줘"))),
    "unsaid_text": (D(cart({"restaurant_id": "R2031", "menu_item_id": "M20311", "quantity": 1, "special_request": "덜 맵게 해 주세요"})),
                    D(cart({"restaurant_id": "R2031", "menu_item_id": "M20311", "quantity": 1, "special_request": "덜 맵게 해 주세요"},
                           user="교촌 망원점 허니콤보 하나 담아 줘, 덜 맵게 해줘"))),
    "result_contradicts_call": (D(search({"category": "chicken", "only_open": True}, [SHOP, CLOSED], user="지금 문 연 치킨집")),
                                D(search({"category": "chicken", "only_open": True}, [SHOP], user="지금 문 연 치킨집"))),
    "ungrounded_mention": (D(search(answer="교촌 망원점이 있어요. 배달비는 3,500원이에요.")), GOOD),
    "category_contract": (D(search(), "no_call"), D(search(), "search")),
    "model_maker_mention": (D(search(answer="교촌 망원점이 있어요. 참고로 저는 ChatGPT예요.")), D(search(answer="교촌 망원점이 있어요. 맛있게 드세요!"))),
    "ai_self_talk": (D(search(answer="저는 AI 언어 모델이라 맛은 모르지만 교촌 망원점이 있어요.")), GOOD),
    "non_korean_text": (D(search(answer="I found one chicken place for you: 교촌 망원점.")), D(search(answer="교촌 망원점(BBQ 아님)이 있어요. OK?"))),
    "length_out_of_bounds": (D(search(answer="교촌 망원점이 있어요. " * 120)), GOOD),
    "handoff_promise": (D(search(answer="교촌 망원점이 있어요. 더 궁금하시면 상담원에게 연결해 드릴게요.")),
                        D(search(answer="교촌 망원점이 있어요. 상담원 연결은 제가 해 드릴 수 없어요."))),
    "claimed_action": (D([U("방금 주문 취소해 주세요"), A("네, 주문을 취소해 드렸어요.")], "no_call"),
                       D([U("방금 주문 취소해 주세요"), A("죄송하지만 접수된 주문 취소는 제가 도와드릴 수 없어요.")], "no_call")),
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
    same = D([U("치킨집"), A("", ("c1", "search_restaurants", {"category": "chicken"})), R("c1", "search_restaurants", "치킨집 목록"), A("있어요.")], "imported")
    assert "invalid_tool_response" in {f.check for f in run_checks(same)}  # config's tool: its return format applies


def test_the_system_prompt_grounds_the_user_id_but_not_example_ids_of_an_embedded_tools_block():
    tools_block = "# Tools\n<tools>\n" + json.dumps(config.TOOLS[9], ensure_ascii=False) + "\n</tools>"
    system = "배달 앱 상담사입니다.\n로그인한 사용자 ID: u_10234\n\n" + tools_block
    assert config.ID_EXAMPLES["order_id"] in system
    example = D([U("제 주문 어디쯤이에요?"), A("", ("c1", "get_order_status", {"order_id": config.ID_EXAMPLES["order_id"]})),
                 R("c1", "get_order_status", {**STATUS, "order_id": config.ID_EXAMPLES["order_id"]}), A("배달 중이에요.")], system_prompt=system)
    assert "ungrounded_id" in {f.check for f in run_checks(example)}
    own = [{"type": "function", "function": {"name": "get_points", "parameters": {"type": "object", "properties": {"user_id": {"type": "string"}}}}}]
    user = D([U("내 포인트 얼마야?"), A("", ("c1", "get_points", {"user_id": "u_10234"})), R("c1", "get_points", {"points": 1200}),
              A("1,200포인트 있어요.")], "imported", own, system_prompt=system)
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
    st.none() | st.booleans() | st.integers(-3, 30) | st.floats(-1, 30, allow_nan=False) | st.sampled_from(
        ["R1024", "M10231", "CI0042", "A001", "CK482913", "O25112101", "chicken", "card", "x", "", "delivering"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["restaurant_id", "items", "name", "rating", "is_open", "quantity", "error", "code", "message", "total",
                         "cart_item", "status", "order_id", "menu", "price", "options", "extra"]), children, max_size=6),
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


@pytest.mark.parametrize("extra, env, shown", [([], {}, False), (["-s"], {}, True), ([], {"DATAGEN_SHOW_RECALL": "1"}, True)])
def test_recall_table_is_printed_only_when_asked(extra, env, shown):
    """``pytest -q`` stays quiet (dots only); the recall table appears with ``-s`` or DATAGEN_SHOW_RECALL=1."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", *extra, "tests/test_checks.py::test_labelled_corpus_recall_and_false_findings"],
        cwd=root, capture_output=True, text=True, timeout=300,
        env={**{k: v for k, v in os.environ.items() if k != "DATAGEN_SHOW_RECALL"}, **env},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert ("false on clean" in proc.stdout) is shown, proc.stdout
