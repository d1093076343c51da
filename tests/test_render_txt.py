"""render_txt: Qwen2.5 chat-template text, byte for byte. The expected strings are written out by
hand from the documented Qwen2.5-Instruct template layout (ARCHITECTURE.md, "Facts"): the system turn with
the default Qwen system text when there is no system prompt, tools one JSON per line inside
<tools></tools> (json.dumps defaults, non-ASCII kept), each call as <tool_call> with a dict
``arguments``, consecutive tool results merged into one user turn, <|im_start|>assistant at the end
with add_generation_prompt."""

import json

from datagen import render_txt
from datagen.dialogue import Dialogue, ToolCall, Turn, render_qwen_text, to_seed_record

DEFAULT_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."
TOOLS_INTRO = (
    "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>"
)
TOOLS_OUTRO = (
    "\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
    '<tool_call></tool_call> XML tags:\n<tool_call>\n{"name": <function-name>, "arguments": '
    "<args-json-object>}\n</tool_call><|im_end|>\n"
)

DETAIL = {
    "type": "function",
    "function": {
        "name": "get_restaurant_detail",
        "description": "음식점 상세",
        "parameters": {"type": "object", "properties": {"restaurant_id": {"type": "string"}}, "required": ["restaurant_id"]},
    },
}
CART = {"type": "function", "function": {"name": "get_cart", "description": "장바구니", "parameters": {"type": "object", "properties": {}}}}
DETAIL_LINE = (
    '{"type": "function", "function": {"name": "get_restaurant_detail", "description": "음식점 상세", '
    '"parameters": {"type": "object", "properties": {"restaurant_id": {"type": "string"}}, "required": ["restaurant_id"]}}}'
)
CART_LINE = '{"type": "function", "function": {"name": "get_cart", "description": "장바구니", "parameters": {"type": "object", "properties": {}}}}'


def _call(name, args, i):
    return ToolCall(id=f"call_{i}", name=name, arguments=args)


PARALLEL = Dialogue(
    uid="v2",
    system_prompt="당신은 배달 앱 상담사입니다.",
    tools=[DETAIL, CART],
    turns=[
        Turn(role="user", content="두 집 비교해줘"),
        Turn(
            role="assistant",
            tool_calls=[_call("get_restaurant_detail", {"restaurant_id": "R1"}, 1), _call("get_restaurant_detail", {"restaurant_id": "R2"}, 2)],
        ),
        Turn(role="tool", content='{"name": "홍콩반점"}', tool_call_id="call_1", name="get_restaurant_detail"),
        Turn(role="tool", content='{"name": "만리장성"}', tool_call_id="call_2", name="get_restaurant_detail"),
        Turn(role="assistant", content="홍콩반점이 더 가까워요."),
        Turn(role="user", content="장바구니도 보여줘"),
        Turn(role="assistant", content="확인할게요.", tool_calls=[_call("get_cart", {}, 3)]),
        Turn(role="tool", content='{"items": []}', tool_call_id="call_3", name="get_cart"),
    ],
)
PARALLEL_TEXT = (
    "<|im_start|>system\n당신은 배달 앱 상담사입니다."
    + TOOLS_INTRO
    + "\n"
    + DETAIL_LINE
    + "\n"
    + CART_LINE
    + TOOLS_OUTRO
    + "<|im_start|>user\n두 집 비교해줘<|im_end|>\n"
    + '<|im_start|>assistant\n<tool_call>\n{"name": "get_restaurant_detail", "arguments": {"restaurant_id": "R1"}}\n</tool_call>'
    + '\n<tool_call>\n{"name": "get_restaurant_detail", "arguments": {"restaurant_id": "R2"}}\n</tool_call><|im_end|>\n'
    + '<|im_start|>user\n<tool_response>\n{"name": "홍콩반점"}\n</tool_response>\n<tool_response>\n{"name": "만리장성"}\n</tool_response><|im_end|>\n'
    + "<|im_start|>assistant\n홍콩반점이 더 가까워요.<|im_end|>\n"
    + "<|im_start|>user\n장바구니도 보여줘<|im_end|>\n"
    + '<|im_start|>assistant\n확인할게요.\n<tool_call>\n{"name": "get_cart", "arguments": {}}\n</tool_call><|im_end|>\n'
    + '<|im_start|>user\n<tool_response>\n{"items": []}\n</tool_response><|im_end|>\n'
)


def test_parallel_calls_and_merged_tool_results():
    assert render_qwen_text(PARALLEL) == PARALLEL_TEXT
    assert render_qwen_text(PARALLEL, add_generation_prompt=True) == PARALLEL_TEXT + "<|im_start|>assistant\n"


def test_no_tools_no_system_prompt_uses_the_default_system_turn():
    d = Dialogue(
        uid="v1", turns=[Turn(role="user", content="배고파요"), Turn(role="assistant", content="무엇을 드시고 싶으세요?"), Turn(role="user", content="치킨")]
    )
    expected = (
        f"<|im_start|>system\n{DEFAULT_SYSTEM}<|im_end|>\n<|im_start|>user\n배고파요<|im_end|>\n"
        "<|im_start|>assistant\n무엇을 드시고 싶으세요?<|im_end|>\n<|im_start|>user\n치킨<|im_end|>\n"
    )
    assert render_qwen_text(d) == expected
    assert render_qwen_text(d, add_generation_prompt=True) == expected + "<|im_start|>assistant\n"


def test_tools_without_a_system_prompt_and_nested_korean_arguments():
    args = {"query": "짜장면", "filters": {"only_open": True, "min_rating": 4.5, "tags": ["중식", None]}, "page": 2}
    d = Dialogue(
        uid="v3",
        tools=[CART],
        turns=[
            Turn(role="user", content="짜장면"),
            Turn(role="assistant", tool_calls=[_call("search_restaurants", args, 1)]),
        ],
    )
    assert render_qwen_text(d) == (
        f"<|im_start|>system\n{DEFAULT_SYSTEM}"
        + TOOLS_INTRO
        + "\n"
        + CART_LINE
        + TOOLS_OUTRO
        + "<|im_start|>user\n짜장면<|im_end|>\n"
        + '<|im_start|>assistant\n<tool_call>\n{"name": "search_restaurants", "arguments": {"query": "짜장면", '
        '"filters": {"only_open": true, "min_rating": 4.5, "tags": ["중식", null]}, "page": 2}}\n</tool_call><|im_end|>\n'
    )


def test_render_txt_writes_the_template_text_for_each_record(tmp_path):
    src = tmp_path / "dataset.jsonl"
    plain = Dialogue(uid="v1", turns=[Turn(role="user", content="안녕"), Turn(role="assistant", content="안녕하세요")])
    src.write_text("\n".join(json.dumps(to_seed_record(d), ensure_ascii=False) for d in (PARALLEL, plain)) + "\n", encoding="utf-8")
    assert render_txt.main(["--input", str(src), "--output-dir", str(tmp_path / "txt")]) == 0
    assert (tmp_path / "txt" / "sample_0001.txt").read_bytes() == PARALLEL_TEXT.encode("utf-8")
    assert (tmp_path / "txt" / "sample_0002.txt").read_bytes() == (
        f"<|im_start|>system\n{DEFAULT_SYSTEM}<|im_end|>\n<|im_start|>user\n안녕<|im_end|>\n<|im_start|>assistant\n안녕하세요<|im_end|>\n"
    ).encode()
