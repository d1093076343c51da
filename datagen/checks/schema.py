"""JSON Schema validation for tool arguments and tool responses, compiled once per schema.

Every schema (a tool's ``parameters``, a return format) is compiled once into a
:class:`CompiledSchema` and cached by content, so records that each carry their own copy of the
same tool specs (seed 001 copies them into every record) share one validator, and imported
datasets with other tools get theirs built on first use.

Two layers, one authority:

- ``jsonschema.Draft202012Validator`` is the validator of record: every reported error comes from it.
  One validator per schema, reused (ARCHITECTURE.md, "Facts": the module-level ``jsonschema.validate()``
  re-checks the schema on every call and is ~10× slower).
- A *pre-screen* compiled from the same schema into plain Python closures answers "certainly valid"
  for the common case. jsonschema walks the schema per instance (about 1 ms for the tool responses
  of one 12-turn dialogue on the benchmark machine), which alone would cap the checks near 1,000
  dialogues/s; the pre-screen makes valid instances cost a few microseconds. It is *sound*: it only
  ever returns ``True`` for instances jsonschema accepts. It understands ``type``, ``properties``,
  ``required``, ``additionalProperties``, ``items`` (one schema), string-only ``enum``, ``const``
  (str / None), ``pattern``, ``minimum`` / ``maximum`` / ``exclusive*``, ``minItems`` / ``maxItems``,
  ``minLength`` / ``maxLength`` and ``anyOf``; ``format`` is an annotation (jsonschema asserts it only
  with a format checker, which is not used). A schema using any other keyword gets no pre-screen, and
  an instance the pre-screen does not accept is validated by jsonschema, so the answers are identical
  (``tests/test_checks.py`` checks this with Hypothesis-generated instances).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError, best_match

Fast = Callable[[Any], bool]

# Keywords jsonschema 2020-12 validates that the pre-screen does not understand: their presence
# anywhere in a schema means "no pre-screen for this (sub)schema" (full validation instead).
_UNSUPPORTED = frozenset(Draft202012Validator.VALIDATORS) - {
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "anyOf",
    "format",
}

_TYPE_EXPR: dict[str, str] = {
    "string": "type({v}) is str",
    "integer": "(type({v}) is int or (type({v}) is float and {v}.is_integer()))",
    "number": "(type({v}) is int or type({v}) is float)",
    "boolean": "type({v}) is bool",
    "object": "type({v}) is dict",
    "array": "type({v}) is list",
    "null": "{v} is None",
}
_NUM_EXPR = "(type({v}) is int or type({v}) is float)"
_MISSING = object()


class _Gen:
    """Generates the pre-screen as Python source (one function per object / array / anyOf
    subschema, leaf tests inlined), in the manner of fastjsonschema's code generation."""

    def __init__(self) -> None:
        self.ns: dict[str, Any] = {"_M": _MISSING}
        self.defs: list[str] = []
        self.n = 0

    def const(self, value: Any) -> str:
        self.n += 1
        name = f"_c{self.n}"
        self.ns[name] = value
        return name

    def leaf(self, schema: dict, v: str) -> str | None:
        """An expression testing ``v`` against the scalar keywords of ``schema`` (None: unsupported).
        A guard such as "only strings have a pattern" is left out when ``type`` already requires it."""
        parts: list[str] = []
        t = schema.get("type")
        names: list = []
        if t is not None:
            names = [t] if isinstance(t, str) else t if isinstance(t, list) else []
            if not names or any(not isinstance(n, str) or n not in _TYPE_EXPR for n in names):
                return None
            exprs = [_TYPE_EXPR[n].format(v=v) for n in names]
            parts.append(exprs[0] if len(exprs) == 1 else "(" + " or ".join(exprs) + ")")
        only_str = names == ["string"]
        only_num = bool(names) and set(names) <= {"integer", "number"}
        only_list = names == ["array"]
        if "enum" in schema:
            values = schema["enum"]
            if not isinstance(values, list) or not all(type(x) is str for x in values):
                return None
            test = f"{v} in {self.const(frozenset(values))}"
            parts.append(test if only_str else f"(type({v}) is str and {test})")
        if "const" in schema:
            c = schema["const"]
            if c is None:
                parts.append(f"{v} is None")
            elif type(c) is str:
                parts.append(f"(type({v}) is str and {v} == {self.const(c)})")
            else:
                return None
        if "pattern" in schema:
            try:
                rx = re.compile(schema["pattern"])
            except (re.error, TypeError):
                return None
            test = f"{self.const(rx.search)}({v}) is not None"
            parts.append(test if only_str else f"(type({v}) is not str or {test})")
        for key, op in (("minimum", ">="), ("maximum", "<="), ("exclusiveMinimum", ">"), ("exclusiveMaximum", "<")):
            if key in schema:
                bound = schema[key]
                if type(bound) not in (int, float):
                    return None
                test = f"{v} {op} {bound!r}"
                parts.append(test if only_num else f"(not {_NUM_EXPR.format(v=v)} or {test})")
        for key, op, kind, known in (
            ("minLength", ">=", "str", only_str),
            ("maxLength", "<=", "str", only_str),
            ("minItems", ">=", "list", only_list),
            ("maxItems", "<=", "list", only_list),
        ):
            if key in schema:
                bound = schema[key]
                if type(bound) is not int:
                    return None
                test = f"len({v}) {op} {bound}"
                parts.append(test if known else f"(type({v}) is not {kind} or {test})")
        return " and ".join(parts) if parts else "True"

    def test(self, schema: Any, v: str) -> str | None:
        """An expression testing ``v`` against ``schema``: inlined for leaves, else a generated call."""
        if schema is True or schema == {}:
            return "True"
        if not isinstance(schema, dict) or _UNSUPPORTED.intersection(schema):
            return None
        if not ({"properties", "required", "additionalProperties", "items", "anyOf"} & schema.keys()):
            return self.leaf(schema, v)
        fn = self.function(schema)
        return None if fn is None else f"{fn}({v})"

    def function(self, schema: dict) -> str | None:
        """Generate ``def _fN(x) -> bool`` for ``schema``; returns its name (None: unsupported)."""
        head = self.leaf({k: schema[k] for k in schema if k not in ("properties", "required", "additionalProperties", "items", "anyOf")}, "x")
        if head is None:
            return None
        body = [f"    if not ({head}): return False"] if head != "True" else []
        if {"properties", "required", "additionalProperties"} & schema.keys():
            props = schema.get("properties", {})
            required = schema.get("required", [])
            extra = schema.get("additionalProperties", True)
            if not isinstance(props, dict) or not isinstance(required, list):
                return None
            obj: list[str] = []
            if required:
                obj.append(f"        if not ({self.const(frozenset(required))} <= x.keys()): return False")
            known = self.const(frozenset(props))
            if extra is False:
                obj.append(f"        if not (x.keys() <= {known}): return False")
            elif extra is not True:
                sub = self.test(extra, "v")
                if sub is None:
                    return None
                obj.append(f"        for k, v in x.items():\n            if k not in {known} and not ({sub}): return False")
            for name, sub_schema in props.items():
                sub = self.test(sub_schema, "v")
                if sub is None:
                    return None
                if sub != "True" and name in required:  # present: the required test above comes first
                    obj.append(f"        v = x[{name!r}]\n        if not ({sub}): return False")
                elif sub != "True":
                    obj.append(f"        v = x.get({name!r}, _M)\n        if v is not _M and not ({sub}): return False")
            if obj:
                if schema.get("type") in ("object", ["object"]):  # tested by the head already
                    body += ["\n".join(line[4:] for line in entry.split("\n")) for entry in obj]
                else:
                    body += ["    if type(x) is dict:", *obj]
        if "items" in schema:
            sub = self.test(schema["items"], "v")
            if sub is None:
                return None
            if sub != "True":
                if schema.get("type") in ("array", ["array"]):  # tested by the head already
                    body.append(f"    for v in x:\n        if not ({sub}): return False")
                else:
                    body.append(f"    if type(x) is list:\n        for v in x:\n            if not ({sub}): return False")
        if "anyOf" in schema:
            subs = schema["anyOf"]
            if not isinstance(subs, list) or not subs:
                return None
            # A branch outside the subset cannot prove validity, but the others still can.
            known_branches = [t for t in (self.test(b, "x") for b in subs) if t is not None]
            if not known_branches:
                return None
            body.append(f"    if not ({' or '.join(known_branches)}): return False")
        self.n += 1
        name = f"_f{self.n}"
        self.defs.append(f"def {name}(x):\n" + "\n".join(body + ["    return True"]))
        return name


def _compile_fast(schema: Any) -> Fast | None:
    """A sound "certainly valid" test for ``schema``, or None when the schema is outside the subset."""
    gen = _Gen()
    if schema is True or schema == {}:
        return lambda x: True
    if not isinstance(schema, dict) or _UNSUPPORTED.intersection(schema):
        return None
    name = gen.function(schema)
    if name is None:
        return None
    exec("\n\n".join(gen.defs), gen.ns)  # noqa: S102 (source generated above from the schema's own values via constants)
    return gen.ns[name]


class CompiledSchema:
    """One schema, compiled once: the jsonschema validator and its pre-screen.

    Attributes:
        schema: the schema (kept, so the cache can compare contents).
        validator: ``Draft202012Validator`` for the schema, or ``None`` when the schema itself is
            invalid (then nothing is validated against it: a check that cannot apply does not fire).
        fast: the sound pre-screen, or ``None`` when the schema is outside its subset.
    """

    __slots__ = ("schema", "validator", "fast")

    def __init__(self, schema: Any):
        self.schema = schema
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError:
            self.validator, self.fast = None, None
            return
        self.validator = Draft202012Validator(schema)
        self.fast = _compile_fast(schema)

    def is_valid(self, instance: Any) -> bool:
        """Whether ``instance`` is valid (True when the schema itself is unusable)."""
        if self.validator is None or (self.fast is not None and self.fast(instance)):
            return True
        return self.validator.is_valid(instance)

    def errors(self, instance: Any) -> list[ValidationError]:
        """jsonschema's errors for ``instance`` (``[]`` when valid or the schema is unusable)."""
        if self.validator is None or (self.fast is not None and self.fast(instance)):
            return []
        return list(self.validator.iter_errors(instance))

    def best_error(self, instance: Any) -> ValidationError | None:
        """The most relevant error (``jsonschema.exceptions.best_match``), or None when valid."""
        errs = self.errors(instance)
        return best_match(errs) if errs else None


_CACHE: dict[tuple, list[CompiledSchema]] = {}
_BY_ID: dict[int, CompiledSchema] = {}
MAX_CACHED = 4096
"""Compiled schemas kept before the cache is cleared (imported datasets with many tool variants)."""


def _fingerprint(schema: Any) -> tuple:
    """A cheap bucket key; entries in a bucket are told apart by ``==`` on the whole schema."""
    if isinstance(schema, dict):
        props = schema.get("properties")
        return (len(schema), tuple(props) if isinstance(props, dict) else None, str(schema.get("type")))
    return (type(schema).__name__,)


def compiled(schema: Any) -> CompiledSchema:
    """The :class:`CompiledSchema` for ``schema``, built on first use and then reused.

    Lookup is by object identity first (the same dict passed again), then by content: schemas are
    bucketed by a cheap fingerprint and compared with ``==``, so equal schemas parsed from different
    records share one validator without hashing a canonical JSON dump per call.
    """
    hit = _BY_ID.get(id(schema))
    if hit is not None and hit.schema is schema:
        return hit
    key = _fingerprint(schema)
    bucket = _CACHE.get(key)
    if bucket is not None:
        for entry in bucket:
            if entry.schema == schema:
                return entry
    if len(_BY_ID) >= MAX_CACHED:
        _CACHE.clear()
        _BY_ID.clear()
    entry = CompiledSchema(schema)
    _CACHE.setdefault(key, []).append(entry)
    _BY_ID[id(schema)] = entry
    return entry
