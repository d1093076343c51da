"""Domain data (config, scenarios, prompts) and the scripted offline dialogues (offline_dialogues).

Rules checked come from seed 001 (gold-set table, config) and the post-mortems (ARCHITECTURE.md, "Post-mortems"): no schema
defaults, optional parameters that say when not to send them, grounded ids, results that agree with
their calls, optional arguments only when the customer said them.
"""

from __future__ import annotations

import functools
import json
import re

import pytest
from jsonschema import Draft202012Validator

from datagen import config, prompts, scenarios
from datagen.generator_schema import GENERATOR_SCHEMA
from datagen.offline_dialogues import DEFECTS, choose_defect, scripted_dialogue

SPECS = {t["function"]["name"]: t["function"] for t in config.TOOLS}
ARGS_OK = {name: Draft202012Validator(f["parameters"]) for name, f in SPECS.items()}
RESULT_OK = {name: Draft202012Validator(s) for name, s in config.TOOLS_RETURN_FORMAT.items()}
ANSWER_OK = Draft202012Validator(GENERATOR_SCHEMA)
TURN_KEYS = {"role", "content", "tool_calls", "tool_call_id", "name"}
REQUIRED_TOOLS = [
    "search_restaurants",
    "get_restaurant_detail",
    "get_cart",
    "add_to_cart",
    "update_cart_item",
    "remove_cart_items",
    "list_addresses",
    "prepare_checkout",
    "place_order",
    "get_order_status",
]
IN_PROGRESS = {"pending", "accepted", "cooking", "delivering"}


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def walk_keys(obj):
    """Every dict key anywhere inside ``obj``."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield k
            yield from walk_keys(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from walk_keys(v)


def args_of(call: dict) -> dict:
    return json.loads(call["arguments_json"])


def result_of(turn: dict) -> dict:
    return json.loads(turn["content"])


def calls_of(turns: list[dict]) -> list[tuple[int, dict]]:
    """(turn index, call) for every tool call, in order."""
    return [(i, c) for i, t in enumerate(turns) for c in t["tool_calls"] or []]


def exchanges(turns: list[dict]) -> list[tuple[int, dict, dict]]:
    """(turn index, call, tool turn) for every call that got an answer."""
    answers = {t["tool_call_id"]: t for t in turns if t["role"] == "tool"}
    return [(i, c, answers[c["id"]]) for i, c in calls_of(turns) if c["id"] in answers]


def id_values(args: dict) -> list[tuple[str, str]]:
    """(argument name, value) for every id-like argument (``cart_item_ids`` counts each item)."""
    out = [(k, v) for k, v in args.items() if k in config.ID_PATTERNS]
    return out + [("cart_item_id", v) for v in args.get("cart_item_ids", [])]


def seen_before(turns: list[dict], index: int) -> str:
    """User texts and tool results before turn ``index``: the legitimate sources of ids."""
    return "\n".join(t["content"] or "" for t in turns[:index] if t["role"] in ("user", "tool"))


def user_text_before(turns: list[dict], index: int) -> str:
    return "\n".join(t["content"] for t in turns[:index] if t["role"] == "user")


def is_assistant_text(turn: dict) -> bool:
    return turn["role"] == "assistant" and isinstance(turn["content"], str) and not turn["tool_calls"]


def ungrounded(turns: list[dict]) -> list[str]:
    bad = []
    for i, c in calls_of(turns):
        seen = seen_before(turns, i)
        bad += [f"{c['name']}.{k}={v}" for k, v in id_values(args_of(c)) if not re.search(rf"(?<![A-Za-z0-9]){re.escape(v)}(?![0-9])", seen)]
    return bad


def contradictions(name: str, args: dict, res: dict) -> list[str]:
    """Ways a tool result disagrees with its call (ARCHITECTURE.md, "Post-mortems": ``only_open: true`` yet closed shops…)."""
    if "error" in res:
        return []
    out = []
    if name == "search_restaurants":
        for s in res["items"]:
            out += ["closed shop after only_open"] if args.get("only_open") and not s["is_open"] else []
            out += ["other category"] if "category" in args and s["category"] != args["category"] else []
            out += ["rating below min_rating"] if "min_rating" in args and s["rating"] < args["min_rating"] else []
            out += ["fee above max_delivery_fee"] if "max_delivery_fee" in args and s["delivery_fee"] > args["max_delivery_fee"] else []
        key = {"rating": lambda s: -s["rating"], "eta": lambda s: s["eta_minutes"], "delivery_fee": lambda s: s["delivery_fee"]}.get(args.get("sort"))
        out += ["not sorted"] if key and [key(s) for s in res["items"]] != sorted(key(s) for s in res["items"]) else []
    elif name == "get_restaurant_detail":
        out += ["other restaurant"] if res["restaurant_id"] != args.get("restaurant_id") else []
    elif name in ("add_to_cart", "update_cart_item"):
        line = res["cart_item"]
        out += ["other quantity"] if line["quantity"] != args.get("quantity") else []
        out += ["line total"] if line["line_total"] != line["unit_price"] * line["quantity"] else []
        out += ["other item"] if any(k in args and line[k] != args[k] for k in ("cart_item_id", "menu_item_id")) else []
    elif name == "remove_cart_items":
        out += ["other items removed"] if set(res["removed_cart_item_ids"]) != set(args.get("cart_item_ids", [])) else []
    elif name == "prepare_checkout":
        out += [f"other {k}" for k in ("address_id", "payment_method") if res[k] != args.get(k)]
        out += [f"other {k}" for k in ("delivery_note", "coupon_code") if res[k] != args.get(k)]
        out += ["total"] if res["total"] != res["subtotal"] + res["delivery_fee"] - res["discount"] else []
    elif name == "get_order_status":
        out += ["other order"] if res["order_id"] != args.get("order_id") else []
    elif name == "list_orders" and "status" in args:
        allowed = IN_PROGRESS if args["status"] == "in_progress" else {args["status"]}
        out += ["status filter"] if any(o["status"] not in allowed for o in res["items"]) else []
    return out


def unjustified_optionals(turns: list[dict]) -> list[str]:
    """Optional arguments the customer never asked for (ARCHITECTURE.md, "Post-mortems": only_open in 77 of 90 calls…)."""
    bad = []
    for i, c in calls_of(turns):
        said, a = user_text_before(turns, i), args_of(c)
        checks = {
            "only_open": "영업 중" in said or "문 연" in said,
            "sort": any(w in said for w in ("순으로", "평점 높은", "빨리 오는")),
            "min_rating": str(a.get("min_rating")) in said,
            "max_delivery_fee": "배달비" in said,
            "page": "더 보여" in said,
            "page_size": False,
            "status": "진행 중" in said,
        }
        bad += [f"{c['name']}.{k}" for k, ok in checks.items() if k in a and not ok]
        for k in ("special_request", "delivery_note", "coupon_code"):
            bad += [f"{c['name']}.{k}"] if k in a and a[k] not in said else []
        bad += [f"{c['name']}.options"] if any(o not in said for o in a.get("options", [])) else []
    return bad


def unsupported_amounts(turns: list[dict]) -> list[str]:
    """Amounts (N원) in assistant text that no earlier tool result contains: invented prices."""
    bad = []
    for i, t in enumerate(turns):
        if is_assistant_text(t):
            numbers = set(re.findall(r"\d+", "".join(x["content"] for x in turns[:i] if x["role"] == "tool")))
            bad += [m for m in re.findall(r"([\d,]+)원", t["content"]) if m.replace(",", "") not in numbers]
    return bad


def is_subsequence(needles: list[str], hay: list[str]) -> bool:
    it = iter(hay)
    return all(n in it for n in needles)


def structure_problems(answer: dict) -> list[str]:
    """Shape problems: schema, 5 keys per turn, call ids unique and answered right after their call."""
    errors = [e.message for e in ANSWER_OK.iter_errors(answer)]
    turns = answer["turns"]
    errors += [f"turn {i} keys" for i, t in enumerate(turns) if set(t) != TURN_KEYS]
    if errors:
        return errors
    roles = ["text" if is_assistant_text(t) else t["role"] for t in turns]
    errors += [f"turn {i}: two {a} turns in a row" for i, (a, b) in enumerate(zip(roles, roles[1:]), 1) if a == b and a in ("user", "text")]
    ids = [c["id"] for _, c in calls_of(turns)]
    errors += ["duplicate call id"] if len(ids) != len(set(ids)) else []
    for i, t in enumerate(turns):
        if t["tool_calls"]:
            errors += [f"turn {i}: calling turn has content"] if t["content"] is not None else []
            answers = turns[i + 1 : i + 1 + len(t["tool_calls"])]
            expected = [(c["id"], c["name"]) for c in t["tool_calls"]]
            got = [(a["tool_call_id"], a["name"]) for a in answers if a["role"] == "tool"]
            errors += [f"turn {i}: tool turns {got} != calls {expected}"] if got != expected[: len(got)] else []
    return errors


def clean_problems(answer: dict, category: str) -> list[str]:
    """Everything a clean scripted dialogue must satisfy (seed 001 gold-set rules + tool specs)."""
    turns = answer["turns"]
    errors = structure_problems(answer)
    errors += ["does not start with user"] if turns[0]["role"] != "user" else []
    errors += ["does not end with assistant text"] if not is_assistant_text(turns[-1]) else []
    for i, c, tool_turn in exchanges(turns):
        if c["name"] not in SPECS:
            errors.append(f"unknown tool {c['name']}")
            continue
        a, r = args_of(c), result_of(tool_turn)
        errors += [f"{c['name']} args: {e.message}" for e in ARGS_OK[c["name"]].iter_errors(a)]
        errors += [f"{c['name']} result: {e.message}" for e in RESULT_OK[c["name"]].iter_errors(r)]
        errors += [f"{c['name']}: {x}" for x in contradictions(c["name"], a, r)]
    errors += [f"unanswered call {c['id']}" for _, c in calls_of(turns) if c["id"] not in {t["tool_call_id"] for t in turns}]
    errors += [f"ungrounded {x}" for x in ungrounded(turns)]
    errors += [f"unasked optional {x}" for x in unjustified_optionals(turns)]
    errors += [f"amount not in any result: {x}" for x in unsupported_amounts(turns)]
    rules, names = config.GOLD_CATEGORIES[category], [c["name"] for _, c in calls_of(turns)]
    if rules["forbid_tool_calls"] and names:
        errors.append(f"no_call dialogue calls {names}")
    if rules["ordered"] and not is_subsequence(rules["required_tools"], names):
        errors.append(f"required tools {rules['required_tools']} not called in order: {names}")
    errors += [f"required tool {n} not called" for n in rules["required_tools"] if n not in names]
    if rules["any_of_tools"] and not set(rules["any_of_tools"]) & set(names):
        errors.append(f"none of {rules['any_of_tools']} called")
    return errors


def defect_present(answer: dict, defect: str) -> bool:
    turns = answer["turns"]
    if defect == "unknown_tool":
        return any(c["name"] not in config.TOOL_NAMES for _, c in calls_of(turns))
    if defect == "missing_required_argument":
        return any(c["name"] in SPECS and not set(SPECS[c["name"]]["parameters"]["required"]) <= set(args_of(c)) for _, c in calls_of(turns))
    if defect == "ungrounded_id":
        return bool(ungrounded(turns))
    if defect == "result_contradicts_call":
        return any(c["name"] in SPECS and contradictions(c["name"], args_of(c), result_of(t)) for _, c, t in exchanges(turns))
    if defect == "cut_short":
        return not is_assistant_text(turns[-1])
    raise AssertionError(defect)


@functools.cache
def all_scenarios() -> tuple[dict, ...]:
    """Every topic of every category once (gold), plus a few train scenarios with other personas."""
    counts = {c: len(config.UNSUPPORTED_SCENARIOS if c == "no_call" else config.QUESTION_TOPICS[c]) for c in config.CATEGORIES}
    return tuple(scenarios.make_scenarios("gold", counts, seed=11) + scenarios.make_scenarios("train", {c: 4 for c in config.CATEGORIES}, seed=5))


def of_category(category: str) -> list[dict]:
    return [s for s in all_scenarios() if s["category"] == category]


# --------------------------------------------------------------------------------------------
# Tool specs and result formats
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", config.TOOL_NAMES)
def test_tool_spec_is_a_closed_valid_schema_without_defaults(name):
    spec = SPECS[name]
    Draft202012Validator.check_schema(spec["parameters"])
    assert spec["parameters"]["additionalProperties"] is False
    assert "default" not in set(walk_keys(spec)), 'defaults biased the generator (ARCHITECTURE.md, "Post-mortems")'


@pytest.mark.parametrize("name", config.TOOL_NAMES)
def test_optional_parameters_say_when_not_to_send_them(name):
    params = SPECS[name]["parameters"]
    for pname, p in params["properties"].items():
        if pname not in params["required"]:
            assert "보내지" in p["description"], f"{name}.{pname}"


def test_the_ten_core_tools_exist():
    assert set(REQUIRED_TOOLS) <= set(config.TOOL_NAMES)
    assert len(config.TOOL_NAMES) == len(set(config.TOOL_NAMES))


def test_return_formats_cover_every_tool_and_are_valid_schemas():
    assert set(config.TOOLS_RETURN_FORMAT) == set(config.TOOL_NAMES)
    for schema in config.TOOLS_RETURN_FORMAT.values():
        Draft202012Validator.check_schema(schema)


# --------------------------------------------------------------------------------------------
# Scenarios and prompts
# --------------------------------------------------------------------------------------------


def test_make_scenarios_is_deterministic_with_well_formed_ids():
    counts = {"search": 3, "no_call": 2, "checkout": 1}
    first = scenarios.make_scenarios("train", counts, seed=42)
    assert first == scenarios.make_scenarios("train", counts, seed=42)
    assert first != scenarios.make_scenarios("train", counts, seed=43)
    assert all(re.fullmatch(r"(train|gold)-[a-z_]+-\d{5}", s["custom_id"]) for s in first)
    assert [s["category"] for s in first] == ["search"] * 3 + ["checkout"] + ["no_call"] * 2  # config.CATEGORIES order
    assert all(s["topic"] in config.UNSUPPORTED_SCENARIOS for s in first if s["category"] == "no_call")


def test_make_scenarios_counts_and_start_seq():
    whole = scenarios.make_scenarios("gold", {"menu": 10}, seed=1)
    head = scenarios.make_scenarios("gold", {"menu": 5}, seed=1)
    tail = scenarios.make_scenarios("gold", {"menu": 5}, seed=1, start_seq={"menu": 6})
    assert len(whole) == 10 and head + tail == whole
    assert tail[0]["custom_id"] == "gold-menu-00006"
    assert scenarios.make_scenarios("train", {"search": 0}, seed=1) == []


@pytest.mark.parametrize("counts", [{"pizza": 1}, {"search": -1}])
def test_make_scenarios_rejects_bad_input(counts):
    with pytest.raises(ValueError):
        scenarios.make_scenarios("train", counts, seed=1)


def test_gold_counts_sum_to_80():
    assert sum(scenarios.gold_counts().values()) == 80
    assert set(scenarios.gold_counts()) == set(config.CATEGORIES)


@pytest.mark.parametrize("total", [0, 1, 7, 20, 400, 12345])
def test_default_train_counts_sum_exactly(total):
    counts = scenarios.default_train_counts(total)
    assert sum(counts.values()) == total and min(counts.values()) >= 0


def test_build_user_prompt_ends_with_the_scenario_json():
    scenario = scenarios.make_scenarios("gold", {"checkout": 1}, seed=3)[0]
    text = prompts.build_user_prompt(scenario)
    assert text.endswith("\n```")
    block = text[text.rindex("```json\n") + len("```json\n") : -len("\n```")]
    assert json.loads(block) == scenario


# --------------------------------------------------------------------------------------------
# Scripted offline dialogues
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("category", config.CATEGORIES)
def test_clean_dialogues_follow_the_specs_and_category_rules(category):
    for scenario in of_category(category):
        answer = scripted_dialogue(scenario)
        assert clean_problems(answer, category) == [], (scenario["custom_id"], scenario["topic"])
        assert not [d for d in DEFECTS if defect_present(answer, d)], scenario["custom_id"]


@pytest.mark.parametrize("category", config.CATEGORIES)
def test_partial_scenarios_fall_back_to_the_custom_id(category):
    answer = scripted_dialogue({"custom_id": f"train-{category}-00003"})
    assert clean_problems(answer, category) == []
    assert scripted_dialogue({"custom_id": f"train-{category}-00003", "category": category}) == answer


def test_some_dialogues_make_parallel_calls():
    answers = [scripted_dialogue(s) for s in all_scenarios()]
    assert any(len(t["tool_calls"] or []) >= 2 for a in answers for t in a["turns"])


def test_dialogues_vary():
    answers = [scripted_dialogue(s) for s in of_category("search")]
    first_lines = {a["turns"][0]["content"] for a in answers}
    last_lines = {a["turns"][-1]["content"] for a in answers}
    assert len(first_lines) > len(answers) // 2 and len(last_lines) > len(answers) // 2


@pytest.mark.parametrize("defect", DEFECTS)
@pytest.mark.parametrize("category", config.CATEGORIES)
def test_each_defect_is_really_present(category, defect):
    for scenario in of_category(category)[:6]:
        answer = scripted_dialogue(scenario, defect)
        assert structure_problems(answer) == [], (scenario["custom_id"], defect)
        assert answer["turns"][0]["role"] == "user"
        assert defect_present(answer, defect), (scenario["custom_id"], scenario["topic"], defect)


def test_dialogues_are_deterministic():
    for scenario in all_scenarios()[::9]:
        for defect in (None,) + DEFECTS:
            assert scripted_dialogue(dict(scenario), defect) == scripted_dialogue(dict(scenario), defect)


def test_scripted_dialogue_rejects_unknown_defects_and_missing_ids():
    with pytest.raises(ValueError):
        scripted_dialogue({"custom_id": "train-search-00001"}, "typo")
    with pytest.raises(ValueError):
        scripted_dialogue({"category": "search"})


@pytest.mark.parametrize("rate", [0.15, 0.5])
def test_choose_defect_share_matches_the_rate(rate):
    picks = [choose_defect(f"train-search-{i:05d}", rate) for i in range(2000)]
    share = sum(p is not None for p in picks) / len(picks)
    assert abs(share - rate) <= 0.03
    assert set(picks) - {None} == set(DEFECTS)
    assert picks == [choose_defect(f"train-search-{i:05d}", rate) for i in range(2000)]


def test_choose_defect_edges():
    assert all(choose_defect(f"gold-menu-{i:05d}", 0) is None for i in range(500))
    assert all(choose_defect(f"gold-menu-{i:05d}", 1) in DEFECTS for i in range(500))
    with pytest.raises(ValueError):
        choose_defect("gold-menu-00001", 1.5)
