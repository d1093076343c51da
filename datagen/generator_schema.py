"""The Structured Outputs schema the generator model must answer with.

The batch request asks for ``response_format = {"type": "json_schema", "json_schema": {"name":
"dialogue", "strict": true, "schema": GENERATOR_SCHEMA}}``. Strict mode (OpenAI Structured Outputs
docs, "Supported schemas") requires every property to be listed in ``required`` and
``additionalProperties: false`` on every object, so optional values are expressed as ``null`` and
free-form objects (tool-call arguments, tool results) travel as JSON *strings*
(``arguments_json``, ``content``) that :func:`datagen.dialogue.from_generator_output` decodes.

Shape of one answer::

    {"turns": [
        {"role": "user", "content": "짜장면 맛집 찾아줘", "tool_calls": null, "tool_call_id": null, "name": null},
        {"role": "assistant", "content": null,
         "tool_calls": [{"id": "call_1", "name": "search_restaurants", "arguments_json": "{\\"query\\": \\"짜장면\\"}"}],
         "tool_call_id": null, "name": null},
        {"role": "tool", "content": "{\\"items\\": [...]}", "tool_calls": null, "tool_call_id": "call_1",
         "name": "search_restaurants"},
        {"role": "assistant", "content": "홍콩반점이 있어요.", "tool_calls": null, "tool_call_id": null, "name": null}
    ]}
"""

from __future__ import annotations

_TOOL_CALL = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "description": "call id, unique in the dialogue, e.g. call_1"},
        "name": {"type": "string", "description": "function name from the tool list"},
        "arguments_json": {
            "type": "string",
            "description": "the arguments as one JSON object serialised to a string",
        },
    },
    "required": ["id", "name", "arguments_json"],
    "additionalProperties": False,
}

_TURN = {
    "type": "object",
    "properties": {
        "role": {"type": "string", "enum": ["user", "assistant", "tool"]},
        "content": {
            "type": ["string", "null"],
            "description": "user/assistant text; for role tool the result as a JSON string",
        },
        "tool_calls": {"type": ["array", "null"], "items": _TOOL_CALL},
        "tool_call_id": {
            "type": ["string", "null"],
            "description": "role tool only: the id of the call this result answers",
        },
        "name": {"type": ["string", "null"], "description": "role tool only: the function name"},
    },
    "required": ["role", "content", "tool_calls", "tool_call_id", "name"],
    "additionalProperties": False,
}

GENERATOR_SCHEMA: dict = {
    "type": "object",
    "properties": {"turns": {"type": "array", "items": _TURN}},
    "required": ["turns"],
    "additionalProperties": False,
}

RESPONSE_FORMAT: dict = {
    "type": "json_schema",
    "json_schema": {"name": "dialogue", "strict": True, "schema": GENERATOR_SCHEMA},
}
