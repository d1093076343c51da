"""Automatic checks on dialogues: the quality gate before a person looks.

Each check has a stable id, a severity (``error`` / ``warning``), the turn it points at, a Korean
message and the reject reason it suggests (the review taxonomy keys). Precision and recall per
check on real, hand-labelled dialogues: :mod:`datagen.calibration` (``python -m datagen.validate
--calibration``); a heuristic that is not precise there is a warning, not an error. Checks read the
:class:`~datagen.dialogue.Dialogue` and the tools the record itself carries, so imported datasets
with other tools are checked against their own specs; a check that cannot apply (no return format
known, no such tool in the record) does not fire.

Public API::

    run_checks(dialogue, only=None) -> list[Finding]          # one Dialogue
    check_stored(data, only=None) -> list[Finding]            # the same, on stored Dialogue JSON (fast path)
    CHECKS: dict[str, CheckSpec]                              # id → severity, reason, Korean title, group
    Finding(check, severity, turn, reason, message)

Groups (modules): ``structure``, ``calls``, ``grounding``, ``values``, ``consistency``, ``content``
(category contracts too; module ``claims`` adds content, consistency and values checks that compare
what the assistant says with what the tools did); ``corpus`` checks (repeated closing line, duplicates, contamination) are
computed over many samples by :mod:`datagen.quality`.
"""

from __future__ import annotations

import json
from typing import Any
from collections.abc import Iterable, Mapping

from .. import config
from ..dialogue import Dialogue

# Registration order is report order: structure, calls, grounding, values, consistency, contract/content, corpus.
from . import structure, calls, grounding, values, consistency, content, claims, corpus  # noqa: F401,I001
from .core import CHECKS, REASONS, SEVERITIES, CheckSpec, Finding, View, run_view

RETURN_FORMATS: dict[str, tuple[dict, dict]] = {
    t["function"]["name"]: (t["function"]["parameters"], config.TOOLS_RETURN_FORMAT[t["function"]["name"]])
    for t in config.TOOLS
    if t["function"]["name"] in config.TOOLS_RETURN_FORMAT
}
"""Tool name → ``(parameters schema, return format)`` from ``config.TOOLS`` / ``config.TOOLS_RETURN_FORMAT``.
A record's tool gets this return format only if its ``parameters`` equal these (same tool, same version)."""

PER_DIALOGUE: tuple[str, ...] = tuple(c for c, s in CHECKS.items() if s.fn is not None)
"""Ids of the checks :func:`run_checks` runs (all but the corpus-level ones)."""


def _turn_dict(t) -> dict:
    return {
        "role": t.role,
        "content": t.content,
        "tool_calls": [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in t.tool_calls],
        "tool_call_id": t.tool_call_id,
        "name": t.name,
    }


def run_checks(dialogue: Dialogue, only: Iterable[str] | None = None) -> list[Finding]:
    """Run the per-dialogue checks on one dialogue.

    Args:
        dialogue: the dialogue; its own ``tools`` are the specs calls are checked against.
        only: check ids to run (default: every id in :data:`PER_DIALOGUE`).

    Returns:
        Findings ordered by turn (dialogue-level ones, ``turn=None``, last), then by registry order.
        Empty when nothing is wrong.

    Raises:
        KeyError: an id in ``only`` is not a registered check.
    """
    view = View(
        [_turn_dict(t) for t in dialogue.turns],
        dialogue.tools,
        dialogue.category,
        dialogue.system_prompt,
        RETURN_FORMATS,
    )
    return run_view(view, only)


def load_view(data: Mapping[str, Any] | str) -> View:
    """The :class:`~datagen.checks.core.View` the checks read, from stored Dialogue JSON (text or
    decoded) without building the pydantic model. Fields pydantic would default (``content``,
    ``tool_calls``, ``arguments`` left null) are filled in, in place when ``data`` is a dict.

    Raises:
        ValueError: ``data`` is text that is not JSON.
    """
    tools = None
    if isinstance(data, str):
        data, tools = _loads_stored(data)
    turns = data.get("turns") or []
    for t in turns:
        if t.get("content") is None:
            t["content"] = ""
        if t.get("tool_calls") is None:
            t["tool_calls"] = []
        else:
            for c in t["tool_calls"]:
                if c.get("arguments") is None:
                    c["arguments"] = {}
    if tools is None:
        tools = data.get("tools") or []
    return View(turns, tools, data.get("category") or "", data.get("system_prompt") or "", RETURN_FORMATS)


def check_stored(data: Mapping[str, Any] | str, only: Iterable[str] | None = None) -> list[Finding]:
    """:func:`run_checks` on a stored dialogue without building the pydantic model (the fast path
    :func:`datagen.quality.check_samples` and the benchmark use).

    Args:
        data: ``Dialogue.model_dump()`` output, or its JSON text (``samples.dialogue``).
        only: as in :func:`run_checks`.

    Returns:
        The same findings :func:`run_checks` gives for ``Dialogue.model_validate(data)``.

    Raises:
        ValueError: ``data`` is text that is not JSON.
        KeyError: an id in ``only`` is not a registered check.
    """
    return run_view(load_view(data), only)


_TOOLS_TEXT: dict[str, list] = {}


def _loads_stored(text: str) -> tuple[dict, list | None]:
    """Parse stored Dialogue JSON, reusing the parsed ``tools`` of an identical tools text.

    ``Dialogue.model_dump_json()`` writes ``uid, kind, category, dates, system_prompt, tools, turns``
    in that order, and every record of a run carries the same tool specs (~7 KB): the tools text is
    cut out, parsed once per distinct text and shared (the ``ToolTable`` built from it is then found
    by identity). The cut is used only when it is provably the tools value: the first ``"tools":``
    key comes before the first ``"turns":`` key (a quote inside a JSON string is escaped, so neither
    can match inside a value), and the cut text parses as a JSON array on its own (no proper prefix
    of a JSON array is a complete array). Anything else is parsed whole.

    Returns:
        ``(data without tools, tools)``, or ``(data, None)`` when the text was parsed whole.
    """
    a = text.find('"tools":')
    b = text.find(',"turns":', a) if a > 0 else -1
    if a > 0 and b > a and text.find('"turns":') == b + 1:
        tools_text = text[a + 8 : b]
        tools = _TOOLS_TEXT.get(tools_text)
        if tools is None:
            try:
                parsed = json.loads(tools_text)
            except ValueError:
                parsed = None
            if isinstance(parsed, list):
                if len(_TOOLS_TEXT) >= 256:
                    _TOOLS_TEXT.clear()
                tools = _TOOLS_TEXT[tools_text] = parsed
        if tools is not None:
            return json.loads(text[: a + 8] + "[]" + text[b:]), tools
    return json.loads(text), None


def check_table() -> list[dict]:
    """Every registered check as ``{"id", "severity", "reason", "title", "group"}``, in registry order."""
    return [{"id": s.id, "severity": s.severity, "reason": s.reason, "title": s.title, "group": s.group} for s in CHECKS.values()]


__all__ = [
    "CHECKS",
    "PER_DIALOGUE",
    "REASONS",
    "RETURN_FORMATS",
    "SEVERITIES",
    "CheckSpec",
    "Finding",
    "View",
    "check_stored",
    "check_table",
    "load_view",
    "run_checks",
]
