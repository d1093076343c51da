"""Prompts: the assistant's system prompt and the generator LLM's instructions.

Seed 001 keeps ``SYSTEM_PROMPT_FIXED`` (the assistant's standing instructions) in this file. The
generator request is built static-part-first so every request shares one identical prefix
(``GENERATOR_INSTRUCTIONS``, which embeds the tool list and result formats from
:mod:`datagen.config`) and only the last user message varies: that is what prompt caching reuses.
The wording answers the original pipeline's post-mortems (ARCHITECTURE.md, "Post-mortems"): values
only from the user or earlier results, no optional arguments nobody asked for, no invented ids,
no claimed actions, no canned hand-off line.
"""

from __future__ import annotations

import json

from datagen import config

SYSTEM_PROMPT_FIXED = """당신은 배달 앱의 AI 상담사입니다. 고객이 가게를 찾고, 메뉴를 고르고, 장바구니를 정리하고, 주문하고, 주문 상태를 확인하도록 돕습니다.

지침:
- 항상 공손한 존댓말로, 짧고 분명하게 답합니다.
- 도구는 고객의 요청을 처리하는 데 필요할 때만 호출합니다. 인사나 대화 내용만으로 답할 수 있는 질문에는 호출하지 않습니다.
- 도구 인자에는 고객이 말한 값이나 앞선 도구 결과에 나온 값만 넣습니다. 가게·메뉴·장바구니 항목·배송지·주문 ID를 지어내지 않습니다.
- 고객이 말하지 않은 조건(영업 중 여부, 최소 평점, 페이지 등)은 인자로 넣지 않습니다.
- 필요한 정보(주문번호, 배송지, 결제 수단 등)가 없으면 추측하지 말고 고객에게 물어봅니다.
- 주문을 확정하기 전에 최종 금액, 배송지, 결제 수단을 알려 드리고 확인을 받습니다.
- 도구 결과에 있는 내용만 사실로 전하고, 실제로 하지 않은 일을 했다고 말하지 않습니다.
- 도구로 할 수 없는 요청(환불, 주문 취소, 라이더 연결, 리뷰 관리 등)은 할 수 없다고 솔직히 말하고, 대신 도와드릴 수 있는 일을 안내합니다.
- 대화 흐름에 맞게 답하고, 매번 같은 마무리 문구나 상담원 연결 안내를 되풀이하지 않습니다.

로그인한 사용자 ID: {user_id}
오늘 날짜: {date}"""
"""The assistant's standing instructions; ``{user_id}`` and ``{date}`` are filled by
:func:`render_system_prompt`."""


def render_system_prompt(user_id: str, date: str) -> str:
    """Return ``SYSTEM_PROMPT_FIXED`` with the logged-in user's id and today's date filled in.

    Args:
        user_id: e.g. ``"u_10234"`` (one of ``config.USER_IDS``).
        date: ``"YYYY-MM-DD"``.

    Returns:
        The system prompt the assistant works under; it names the user id and date, which are
        legitimate grounding sources for argument values (ARCHITECTURE.md, "Facts").
    """
    return SYSTEM_PROMPT_FIXED.format(user_id=user_id, date=date)


_GENERATOR_STATIC = """당신은 배달 앱 AI 상담사 모델을 학습시키기 위한 한국어 펑션콜링 대화 데이터를 작성합니다.
요청마다 시나리오(카테고리와 규칙, 주제, 고객 페르소나, 사용자 턴 수, 상담사가 따르는 시스템 프롬프트)가 주어집니다.
그 시나리오대로 고객(user)과 상담사(assistant)가 나누는 현실적이고 자연스러운 멀티턴 대화 한 편을 쓰세요.

## 출력 형식
- 주어진 JSON 스키마의 객체 {"turns": [...]} 하나로만 답하세요. 설명, 마크다운, 코드 블록을 덧붙이지 않습니다.
- 모든 턴에는 role, content, tool_calls, tool_call_id, name 다섯 키가 있고, 쓰지 않는 값은 null입니다.
- user 턴: content에 고객의 말.
- assistant 턴: 고객에게 말할 때는 content에 텍스트(tool_calls는 null). 도구를 부를 때는 content는 null, tool_calls에 [{"id": "call_1", "name": "도구 이름", "arguments_json": "{\\"인자\\": 값}"}]. arguments_json은 인자 객체를 직렬화한 JSON 문자열입니다. 서로 독립적인 호출은 한 턴에 여러 개(병렬) 넣을 수 있습니다.
- tool 턴: 호출마다 하나씩, 그 assistant 턴 바로 뒤에 호출 순서대로 둡니다. tool_call_id는 대응하는 호출의 id, name은 도구 이름, content는 도구 결과 JSON 문자열입니다. 결과는 아래 반환 형식의 성공 객체이거나 {"error": {"code": "...", "message": "..."}}입니다.
- 호출 id는 대화 안에서 겹치지 않게 call_1, call_2, … 로 붙입니다.
- 대화는 user 턴으로 시작하고 assistant의 텍스트 턴으로 끝납니다. user 턴 수는 시나리오의 user_turns에 맞춥니다.

## 도구 사용 규칙
- 아래 목록에 있는 도구만, 필요할 때만 호출합니다. 목록에 없는 도구(주문 취소, 쿠폰 발급, 상담원 연결 등)를 지어내지 않습니다.
- 인자 값은 고객이 말한 값, 앞선 도구 결과에 나온 값, 시스템 프롬프트의 사용자 ID·날짜에서만 가져옵니다.
- ID(restaurant_id, menu_item_id, cart_item_id, address_id, checkout_id, order_id)는 앞선 도구 결과나 고객의 말에 나온 것만 씁니다. 모르면 먼저 조회하거나 고객에게 묻습니다.
- 선택 인자는 고객이 그 조건을 직접 말했을 때만 넣습니다. '평점 높은 곳'을 min_rating 숫자로 바꾸지 말고(sort: rating), only_open·page·page_size는 고객이 요청할 때만 보냅니다.
- 필수 인자는 빠뜨리지 않습니다. 값을 모르면 호출하지 말고 고객에게 묻습니다(예: 주문번호 없이 get_order_status를 호출하지 않음).
- 도구 결과는 현실적이고 호출과 모순되지 않아야 합니다: only_open: true면 모든 가게가 is_open: true, category를 주면 그 카테고리만, 가격×수량과 합계가 맞게.
- place_order 전에는 prepare_checkout 결과의 최종 금액·배송지·결제 수단을 알리고 고객의 확인을 받습니다.
- 실제로 호출하지 않은 일을 했다고 말하지 않습니다.

## 말투와 내용
- 고객은 페르소나의 말투로, 실제 배달 앱 채팅처럼 짧고 구어체로 말합니다. 엣지 케이스에서는 오타, 번복, 모호한 표현을 섞습니다.
- 상담사는 존댓말로 간결하게 답하고, 가격(원)·시간·이름은 도구 결과 그대로 인용합니다.
- 할 수 없는 요청은 솔직히 할 수 없다고 말하고 할 수 있는 대안을 안내합니다.
- 마무리 문장은 대화마다 다르게 씁니다. 같은 인사말이나 상담원 연결 문구를 반복하지 않습니다.
- 가게 이름, 주소, 쿠폰 코드는 그럴듯한 가상의 것을 쓰고 실제 개인정보는 쓰지 않습니다.
- AI 모델이나 그 개발사(OpenAI, ChatGPT, GPT 등)를 언급하지 않습니다.
- ID 형식: 가게 R+숫자 4자리(R1024), 메뉴 M+숫자 5자리(M10231), 장바구니 항목 CI+숫자 4자리(CI0042), 배송지 A+숫자 3자리(A001), 결제 준비 CK+숫자 6자리(CK482913), 주문 O+숫자 8자리(O25112101)."""


def build_generator_instructions(tools: list[dict] | None = None, return_formats: dict[str, dict] | None = None) -> str:
    """Build the generator's system message: fixed rules, then the tool list, then result formats.

    Args:
        tools: tool specs (Chat Completions shape); ``None`` means ``config.TOOLS``.
        return_formats: tool name → result JSON Schema; ``None`` means ``config.TOOLS_RETURN_FORMAT``.

    Returns:
        One string, identical for every request built from the same arguments (static-first for
        prompt caching). Tools are listed one JSON per line, as in the Qwen ``<tools>`` block;
        result formats one ``name: schema`` per line.
    """
    tools = config.TOOLS if tools is None else tools
    return_formats = config.TOOLS_RETURN_FORMAT if return_formats is None else return_formats
    tool_lines = "\n".join(json.dumps(t, ensure_ascii=False) for t in tools)
    format_lines = "\n".join(f"{name}: {_dumps(_success_part(s))}" for name, s in return_formats.items())
    return (
        f"{_GENERATOR_STATIC}\n\n## 도구 목록 (한 줄에 하나, 버전 {config.TOOLS_VERSION})\n{tool_lines}\n\n"
        "## 도구 반환 형식 (도구 이름: 성공 결과의 JSON Schema)\n"
        f"모든 도구는 성공 결과 대신 다음 오류 객체를 돌려줄 수 있습니다: {_dumps(config.ERROR_RESULT_SCHEMA)}\n"
        f"{format_lines}"
    )


def _dumps(schema: dict) -> str:
    return json.dumps(schema, ensure_ascii=False, separators=(",", ":"))


def _success_part(schema: dict) -> dict:
    """Drop the shared error branch from ``anyOf`` [success, ERROR_RESULT_SCHEMA]; it is stated once."""
    branches = [b for b in schema.get("anyOf", []) if b != config.ERROR_RESULT_SCHEMA]
    return branches[0] if len(branches) == 1 and set(schema) == {"anyOf"} else schema


GENERATOR_INSTRUCTIONS: str = build_generator_instructions()
"""The generator's system message for every request (see :func:`build_generator_instructions`)."""


def _scenario_json(scenario: dict) -> str:
    return json.dumps(scenario, ensure_ascii=False, sort_keys=True)


def build_user_prompt(scenario: dict) -> str:
    """Describe one scenario to the generator, in Korean.

    Args:
        scenario: a dict from :func:`datagen.scenarios.make_scenarios` (keys ``custom_id``, ``kind``,
            ``category``, ``topic``, ``persona``, ``user_id``, ``date``, ``user_turns``,
            ``system_prompt``).

    Returns:
        The text, ending with ``"```json\\n" + json.dumps(scenario, ensure_ascii=False,
        sort_keys=True) + "\\n```"``; the offline backend parses that last block to recover the
        scenario.

    Raises:
        KeyError: the scenario lacks a key above, or its category is not in ``config.GOLD_CATEGORIES``.
    """
    cat = config.GOLD_CATEGORIES[scenario["category"]]
    if cat["forbid_tool_calls"]:
        tools_line = "도구를 하나도 호출하지 않습니다."
    elif cat["required_tools"]:
        joiner = " → " if cat["ordered"] else ", "
        tools_line = "반드시 호출할 도구: " + joiner.join(cat["required_tools"]) + (" (이 순서로)" if cat["ordered"] else "")
    elif cat["any_of_tools"]:
        tools_line = "다음 중 하나 이상 호출: " + ", ".join(cat["any_of_tools"])
    else:
        tools_line = "필요한 도구를 상황에 맞게 고릅니다."
    topic_label = "고객의 지원되지 않는 요청" if cat["forbid_tool_calls"] else "주제"
    rules = "\n".join(f"  - {r}" for r in cat["rules"])
    kind = "평가용 골드 데이터" if scenario["kind"] == "gold" else "학습 데이터"
    return (
        f"## 시나리오 ({kind}, {scenario['custom_id']})\n"
        f"- 카테고리: {cat['name_ko']} ({scenario['category']})\n"
        f"- 카테고리 설명: {cat['description']}\n"
        f"- {tools_line}\n"
        f"- 규칙:\n{rules}\n"
        f"- {topic_label}: {scenario['topic']}\n"
        f"- 고객 페르소나: {scenario['persona']}\n"
        f"- 사용자 턴 수(user_turns): {scenario['user_turns']}\n"
        f"- 상담사의 시스템 프롬프트: 아래 JSON의 system_prompt (로그인한 사용자 ID {scenario['user_id']}, "
        f"오늘 날짜 {scenario['date']})\n\n"
        "이 시나리오로 대화 한 편을 작성하세요. 시나리오 원본:\n\n"
        f"```json\n{_scenario_json(scenario)}\n```"
    )


def build_messages(scenario: dict) -> list[dict]:
    """Return the Chat Completions ``messages`` for one scenario.

    Shape: ``[{"role": "system", "content": GENERATOR_INSTRUCTIONS}, {"role": "user", "content":
    build_user_prompt(scenario)}]``. Raises what :func:`build_user_prompt` raises.
    """
    return [
        {"role": "system", "content": GENERATOR_INSTRUCTIONS},
        {"role": "user", "content": build_user_prompt(scenario)},
    ]
