"""Argument analytics: what the generator actually sends, per tool and parameter.

The original team counted these by hand and found ``only_open=true`` in 77 of 90 search calls and
vague "평점 높은 곳" as ``min_rating: 4.5`` in 60 calls (ARCHITECTURE.md, "Post-mortems"). Here they are
DataFrames, for any slice of the data:

- :func:`load_dialogues` / :func:`load_calls` read samples (as generated) with their category and
  decision, filtered by kind, category and decision;
- :func:`argument_presence`, :func:`argument_values`, :func:`sequence_patterns`,
  :func:`turn_distribution` are pure functions of those frames.

Decision of a sample: its latest review (:func:`decisions_sql`), ``pending`` when there is none.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable

import pandas as pd
import sqlite_utils

from . import config
from .errors import InputError

DECISIONS = ("accept", "reject", "skip", "pending")

DIALOGUE_COLUMNS = ["uid", "kind", "category", "decision", "turns", "user_turns", "tool_calls", "sequence"]
CALL_COLUMNS = ["uid", "kind", "category", "decision", "turn", "tool", "arguments"]


def decisions_sql() -> str:
    """SQL giving ``(uid, decision)`` for every decided sample: the one place that knows where the
    decision lives (the ``latest_reviews`` view today; it may become a table)."""
    return "SELECT uid, decision FROM latest_reviews"


def _rows(db: sqlite_utils.Database, kind: str | None, categories: Iterable[str] | None, decisions: Iterable[str] | None):
    clauses, params = [], []
    if kind:
        clauses.append("s.kind = ?")
        params.append(kind)
    cats = list(categories) if categories is not None else None
    if cats is not None:
        if not cats:
            return
        clauses.append(f"s.category IN ({','.join('?' * len(cats))})")
        params += cats
    decs = list(decisions) if decisions is not None else None
    if decs is not None:
        unknown = set(decs) - set(DECISIONS)
        if unknown:
            raise InputError(f"알 수 없는 결정 {', '.join(sorted(unknown))} (가능한 값: {', '.join(DECISIONS)})")
        if not decs:
            return
        clauses.append(f"COALESCE(d.decision, 'pending') IN ({','.join('?' * len(decs))})")
        params += decs
    sql = (
        f"SELECT s.uid, s.kind, s.category, COALESCE(d.decision, 'pending'), sd.dialogue FROM samples s "
        f"JOIN sample_dialogues sd ON sd.uid = s.uid LEFT JOIN ({decisions_sql()}) d ON d.uid = s.uid"
        + (" WHERE " + " AND ".join(clauses) if clauses else "")
        + " ORDER BY s.rowid"
    )
    yield from db.execute(sql, params)


def load_dialogues(
    db: sqlite_utils.Database,
    *,
    kind: str | None = None,
    categories: Iterable[str] | None = None,
    decisions: Iterable[str] | None = None,
) -> pd.DataFrame:
    """One row per sample (as generated, before edits).

    Args:
        kind: ``train`` / ``gold`` / ``None`` (both).
        categories: category keys to keep (``None``: all).
        decisions: decisions to keep, from :data:`DECISIONS` (``None``: all).

    Returns:
        Columns :data:`DIALOGUE_COLUMNS`: ``turns`` (all turns), ``user_turns``, ``tool_calls``
        (count) and ``sequence`` (tool names in call order, joined by " → "; ``""`` for none).

    Raises:
        InputError: an unknown decision.
    """
    records = []
    for uid, k, cat, dec, text in _rows(db, kind, categories, decisions):
        turns = json.loads(text).get("turns") or []
        names = [c.get("name") for t in turns for c in t.get("tool_calls") or []]
        records.append((uid, k, cat, dec, len(turns), sum(t.get("role") == "user" for t in turns), len(names), " → ".join(map(str, names))))
    return pd.DataFrame.from_records(records, columns=DIALOGUE_COLUMNS)


def load_calls(
    db: sqlite_utils.Database,
    *,
    kind: str | None = None,
    categories: Iterable[str] | None = None,
    decisions: Iterable[str] | None = None,
) -> pd.DataFrame:
    """One row per tool call (filters as in :func:`load_dialogues`).

    Returns:
        Columns :data:`CALL_COLUMNS`; ``turn`` is the call's turn index, ``arguments`` the decoded dict.

    Raises:
        InputError: an unknown decision.
    """
    records = []
    for uid, k, cat, dec, text in _rows(db, kind, categories, decisions):
        for i, t in enumerate(json.loads(text).get("turns") or []):
            for c in t.get("tool_calls") or []:
                args = c.get("arguments")
                records.append((uid, k, cat, dec, i, c.get("name"), args if isinstance(args, dict) else {}))
    return pd.DataFrame.from_records(records, columns=CALL_COLUMNS)


def _declared(tools: list[dict] | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for spec in tools if tools is not None else config.TOOLS:
        fn = spec.get("function", spec)
        props = (fn.get("parameters") or {}).get("properties") or {}
        out[fn["name"]] = list(props)
    return out


def argument_presence(calls: pd.DataFrame, tools: list[dict] | None = None) -> pd.DataFrame:
    """How often each parameter is sent, per tool.

    Args:
        calls: a :func:`load_calls` frame.
        tools: tool specs whose declared parameters are listed even when never sent (default
            ``config.TOOLS``); parameters seen in calls but not declared are listed too.

    Returns:
        Columns ``tool, parameter, calls`` (calls of the tool), ``sent`` (calls sending the
        parameter), ``share`` (sent / calls, 0–1), ``declared`` (bool); sorted by tool then share
        descending. Empty frame with these columns when there are no calls.
    """
    columns = ["tool", "parameter", "calls", "sent", "share", "declared"]
    if calls.empty:
        return pd.DataFrame(columns=columns)
    declared = _declared(tools)
    per_tool = Counter(calls["tool"])
    sent: Counter = Counter()
    for tool, args in zip(calls["tool"], calls["arguments"]):
        for key in args:
            sent[(tool, key)] += 1
    records = []
    for tool, n in per_tool.items():
        params = list(dict.fromkeys(declared.get(tool, []) + [p for (t, p) in sent if t == tool]))
        for p in params:
            k = sent[(tool, p)]
            records.append((tool, p, n, k, k / n, p in declared.get(tool, [])))
    df = pd.DataFrame.from_records(records, columns=columns)
    return df.sort_values(["tool", "share", "parameter"], ascending=[True, False, True], ignore_index=True)


def _value_label(value, limit: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def argument_values(calls: pd.DataFrame, tool: str | None = None, parameter: str | None = None, *, top: int = 20) -> pd.DataFrame:
    """Distribution of the values sent, per tool and parameter.

    Args:
        calls: a :func:`load_calls` frame.
        tool, parameter: restrict to one tool / parameter (``None``: all).
        top: most frequent values kept per (tool, parameter); the rest are summed into ``(기타)``.

    Returns:
        Columns ``tool, parameter, value`` (text: strings as they are, other values as JSON, cut at
        60 characters), ``count``, ``share`` (of the calls sending the parameter, 0–1); per (tool,
        parameter) by count descending.
    """
    columns = ["tool", "parameter", "value", "count", "share"]
    counts: dict[tuple[str, str], Counter] = {}
    for t, args in zip(calls["tool"], calls["arguments"]) if not calls.empty else ():
        if tool is not None and t != tool:
            continue
        for key, value in args.items():
            if parameter is not None and key != parameter:
                continue
            counts.setdefault((t, key), Counter())[_value_label(value)] += 1
    records = []
    for (t, key), c in sorted(counts.items()):
        total = sum(c.values())
        common = c.most_common(top)
        rest = total - sum(n for _, n in common)
        for value, n in common + ([("(기타)", rest)] if rest else []):
            records.append((t, key, value, n, n / total))
    return pd.DataFrame.from_records(records, columns=columns)


def sequence_patterns(dialogues: pd.DataFrame, *, top: int = 30) -> pd.DataFrame:
    """Call-sequence patterns and how many dialogues follow each.

    Returns:
        Columns ``sequence`` (tool names in order joined by " → ", ``(호출 없음)`` for none),
        ``calls`` (length), ``dialogues``, ``share`` (0–1); most common first, at most ``top`` rows.
    """
    columns = ["sequence", "calls", "dialogues", "share"]
    if dialogues.empty:
        return pd.DataFrame(columns=columns)
    c = Counter(s or "(호출 없음)" for s in dialogues["sequence"])
    total = len(dialogues)
    records = [(s, 0 if s == "(호출 없음)" else s.count(" → ") + 1, n, n / total) for s, n in c.most_common(top)]
    return pd.DataFrame.from_records(records, columns=columns)


def turn_distribution(dialogues: pd.DataFrame) -> pd.DataFrame:
    """Turns per dialogue.

    Returns:
        Columns ``turns`` (turns in a dialogue), ``dialogues`` (how many have that many),
        ``user_turns_mean`` (their mean number of customer turns); by ``turns``.
    """
    columns = ["turns", "dialogues", "user_turns_mean"]
    if dialogues.empty:
        return pd.DataFrame(columns=columns)
    g = dialogues.groupby("turns").agg(dialogues=("uid", "size"), user_turns_mean=("user_turns", "mean")).reset_index()
    return g[columns]
