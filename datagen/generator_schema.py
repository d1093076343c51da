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

from typing import Any

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


# ----------------------------------------------------------------------------- strict-mode rules

STRICT_KEYWORDS = frozenset(
    {
        "type",
        "description",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "enum",
        "const",
        "anyOf",
        "$defs",
        "$ref",
        "pattern",
        "format",
        "multipleOf",
        "maximum",
        "exclusiveMaximum",
        "minimum",
        "exclusiveMinimum",
        "minItems",
        "maxItems",
    }
)
"""Keywords a strict Structured Outputs schema may use (OpenAI docs, Structured Outputs, "Supported
schemas": the types string, number, boolean, integer, object, array, enum, anyOf; string ``pattern``
and ``format``; number ``multipleOf``, ``maximum``, ``exclusiveMaximum``, ``minimum``,
``exclusiveMinimum``; array ``minItems``, ``maxItems``; ``$defs`` / ``$ref``; ``description``).
Everything else is refused, among it ``allOf``, ``not``, ``if``/``then``/``else``,
``dependentRequired``, ``dependentSchemas``, ``patternProperties``, ``default``, ``minLength``."""

STRICT_TYPES = frozenset({"string", "number", "boolean", "integer", "object", "array", "null"})
STRICT_MAX_DEPTH = 5
STRICT_MAX_PROPERTIES = 100
STRICT_MAX_ENUM_VALUES = 500
"""Size limits: the stricter of those OpenAI has published for strict mode (first 5 levels of
nesting, 100 object properties and 500 enum values in total; later raised to 10 / 5,000 / 1,000),
so a schema that passes here is accepted under either."""

_JSON_TYPE_OF = {str: "string", bool: "boolean", int: "integer", float: "number", type(None): "null"}


def strict_problems(schema: dict) -> list[str]:
    """Why ``schema`` would be refused by strict Structured Outputs (``[]``: accepted), each as
    ``<JSON pointer>: <rule>``.

    Rules (OpenAI docs, Structured Outputs, "Supported schemas"): the root is an object, not
    ``anyOf``; every object lists all its properties in ``required`` and sets
    ``additionalProperties: false``; optional values are nullable through a type array such as
    ``["string", "null"]`` (one type besides ``null``); only :data:`STRICT_KEYWORDS` and
    :data:`STRICT_TYPES`; enum values of the declared types; the size limits of
    :data:`STRICT_MAX_DEPTH`. Both :data:`GENERATOR_SCHEMA` and the judge's schema
    (:data:`datagen.judge.JUDGE_SCHEMA`) are checked by the tests with this.
    """
    problems: list[str] = []
    counts = {"properties": 0, "enum": 0}

    def walk(node: Any, path: str, depth: int) -> None:
        if not isinstance(node, dict):
            problems.append(f"{path or '/'}: a schema must be an object")
            return
        for key in node:
            if key not in STRICT_KEYWORDS:
                problems.append(f"{path or '/'}: keyword {key!r} is not supported in strict mode")
        types = node.get("type")
        type_list = types if isinstance(types, list) else [types] if types is not None else []
        if "$ref" not in node and "anyOf" not in node and not type_list and "enum" not in node and "const" not in node:
            problems.append(f"{path or '/'}: no type")
        for t in type_list:
            if t not in STRICT_TYPES:
                problems.append(f"{path or '/'}: type {t!r} is not supported")
        if isinstance(types, list) and (len([t for t in types if t != "null"]) != 1 or len(set(types)) != len(types)):
            problems.append(f"{path or '/'}: a type array is one type, optionally with 'null' (nullable)")
        if "enum" in node:
            values = node["enum"]
            counts["enum"] += len(values) if isinstance(values, list) else 0
            if not isinstance(values, list) or not values:
                problems.append(f"{path or '/'}: enum must be a non-empty list")
            elif type_list:
                wrong = [v for v in values if _JSON_TYPE_OF.get(type(v)) not in type_list and not (type(v) is int and "number" in type_list)]
                if wrong:
                    problems.append(f"{path or '/'}: enum values {wrong!r} are not of type {types!r}")
        if "object" in type_list:
            if depth > STRICT_MAX_DEPTH:
                problems.append(f"{path or '/'}: objects nested deeper than {STRICT_MAX_DEPTH} levels")
            props = node.get("properties")
            if not isinstance(props, dict):
                problems.append(f"{path or '/'}: an object must list its properties")
                props = {}
            counts["properties"] += len(props)
            if node.get("additionalProperties") is not False:
                problems.append(f"{path or '/'}: additionalProperties must be false")
            required = node.get("required")
            if not isinstance(required, list) or set(required) != set(props) or len(required) != len(set(required)):
                problems.append(f"{path or '/'}: required must list every property exactly once (missing {sorted(set(props) - set(required or []))})")
            for name, sub in props.items():
                walk(sub, f"{path}/properties/{name}", depth + 1)
        if "array" in type_list:
            if "items" not in node:
                problems.append(f"{path or '/'}: an array needs items")
            else:
                walk(node["items"], f"{path}/items", depth)
        for i, sub in enumerate(node.get("anyOf") or []):
            walk(sub, f"{path}/anyOf/{i}", depth)
        for name, sub in (node.get("$defs") or {}).items():
            walk(sub, f"{path}/$defs/{name}", depth)

    if not isinstance(schema, dict) or schema.get("type") != "object" or "anyOf" in schema:
        problems.append("/: the root must be an object (type 'object'), not anyOf")
    walk(schema, "", 1)
    if counts["properties"] > STRICT_MAX_PROPERTIES:
        problems.append(f"/: {counts['properties']} object properties, over {STRICT_MAX_PROPERTIES}")
    if counts["enum"] > STRICT_MAX_ENUM_VALUES:
        problems.append(f"/: {counts['enum']} enum values, over {STRICT_MAX_ENUM_VALUES}")
    return problems
