"""Call validity: the tool exists in the record, its arguments match its JSON Schema, its response
matches the tool's return format when one is known.

Checks run against the tools the record itself carries, so imported datasets with other tools are
checked against their own specs. Validators are compiled once per schema (:mod:`.schema`).
"""

from __future__ import annotations

from typing import Any

from .core import NOT_JSON, View, check
from .schema import compiled


def argument_problems(arguments: dict[str, Any], spec: dict | None) -> dict[str, dict]:
    """What is wrong with each argument of one call, by the same rules as the checks below (for the
    Review page's argument table, so the table and the findings never disagree).

    Args:
        arguments: the call's arguments object.
        spec: the tool's function spec (``{"name", "parameters", …}``), or ``None`` for an unknown tool.

    Returns:
        ``{argument name: {"problem": p, "expected": [JSON type names] | None}}`` for the arguments
        with a problem only, ``p`` one of ``unexpected`` (not in a closed ``properties``:
        ``unexpected_argument``), ``missing`` (required and absent: ``missing_required_argument``),
        ``type`` (the value's JSON type is not the schema's; ``expected`` lists the allowed types) or
        ``value`` (any other schema violation inside that argument: enum, pattern, range, items…;
        ``invalid_argument_value``). Errors come from the tool's ``parameters`` validated with
        jsonschema (:func:`.schema.compiled`). ``{}`` without a spec or parameters.
    """
    params = (spec or {}).get("parameters")
    if not isinstance(params, dict) or not isinstance(arguments, dict):
        return {}
    out: dict[str, dict] = {}
    props = params.get("properties")
    if isinstance(props, dict) and params.get("additionalProperties") in (False, None):
        for name in arguments:
            if name not in props:
                out[name] = {"problem": "unexpected", "expected": None}
    required = params.get("required")
    for name in required if isinstance(required, list) else []:
        if name not in arguments:
            out[name] = {"problem": "missing", "expected": None}
    for err in compiled(params).errors(arguments):
        if not err.path:
            continue  # required / additionalProperties: by name above
        name = str(err.path[0])
        if len(err.path) == 1 and err.validator == "type":
            expected = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
            out[name] = {"problem": "type", "expected": [str(t) for t in expected]}
        elif name not in out:
            out[name] = {"problem": "value", "expected": None}
    return out


def _arg_problems(v: View) -> list[tuple[str, int, str]]:
    """``(check id, turn, message)`` for every argument problem, computed once per dialogue."""
    cached = v.__dict__.get("_arg_problems")
    if cached is not None:
        return cached
    out: list[tuple[str, int, str]] = []
    table = v.table
    for i, c in v.calls:
        name = c.get("name")
        if name not in table.fns:
            continue
        args = c.get("arguments")
        if not isinstance(args, dict):
            out.append(("invalid_argument_value", i, f"{name} 호출의 인자가 JSON 객체가 아닙니다."))
            continue
        missing = [r for r in table.required.get(name, ()) if r not in args]
        if missing:
            out.append(("missing_required_argument", i, f"{name} 호출에 필수 인자 {', '.join(missing)}가 없습니다."))
        if name in table.closed:
            props = table.props[name]
            unknown = [k for k in args if k not in props]
            if unknown:
                out.append(("unexpected_argument", i, f"{name}에 없는 인자 {', '.join(unknown)}를 보냈습니다."))
        schema = table.params.get(name)
        if schema is None:
            continue
        for err in schema.errors(args):
            if not err.path and err.validator in ("required", "additionalProperties"):
                continue  # reported above, by name
            where = ".".join(str(p) for p in err.path) or "(인자 전체)"
            out.append(("invalid_argument_value", i, f"{name}의 인자 {where} 값이 스키마와 맞지 않습니다: {err.message[:120]}"))
    v.__dict__["_arg_problems"] = out
    return out


@check("unknown_tool", "error", "wrong_tool", "없는 도구 호출", "calls")
def unknown_tool(v: View):
    """A call to a function the record's tool list does not have (silent when the record has no tools)."""
    if not v.tools:
        return
    for i, c in v.calls:
        if c.get("name") not in v.tools:
            yield i, f"도구 목록에 없는 {c.get('name')!r}를 호출했습니다."


@check("missing_required_argument", "error", "bad_arguments", "필수 인자 누락", "calls")
def missing_required_argument(v: View):
    return [(i, m) for cid, i, m in _arg_problems(v) if cid == "missing_required_argument"]


@check("unexpected_argument", "error", "bad_arguments", "정의되지 않은 인자", "calls")
def unexpected_argument(v: View):
    """A key the tool's ``properties`` do not define. Flagged also when the schema leaves
    ``additionalProperties`` unset (JSON Schema would allow it, a function call should not)."""
    return [(i, m) for cid, i, m in _arg_problems(v) if cid == "unexpected_argument"]


@check("invalid_argument_value", "error", "bad_arguments", "인자 값 오류(타입·enum·형식)", "calls")
def invalid_argument_value(v: View):
    return [(i, m) for cid, i, m in _arg_problems(v) if cid == "invalid_argument_value"]


@check("invalid_tool_response", "error", "other", "도구 결과 형식 오류", "calls")
def invalid_tool_response(v: View):
    """The response is not JSON or does not match the tool's return format (only when one is known)."""
    _, call_of, _ = v.pairing
    calls = v.calls
    for turn, k in call_of.items():
        if k is None:
            continue
        name = calls[k][1].get("name")
        schema = v.return_schema(name)
        if schema is None:
            continue
        r = v.result(turn)
        if r is NOT_JSON:
            yield turn, f"{name}의 도구 결과가 JSON이 아닙니다."
            continue
        err = schema.best_error(r)
        if err is not None:
            where = ".".join(str(p) for p in err.path) or "(결과 전체)"
            yield turn, f"{name}의 도구 결과가 반환 형식과 맞지 않습니다: {where}: {err.message[:120]}"
