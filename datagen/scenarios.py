"""Scenario mix: which dialogues to ask the generator for.

A scenario is a plain dict with exactly these keys::

    {"custom_id": "train-search-00001",   # f"{kind}-{category}-{seq:05d}", seq from 1 per (kind, category)
     "kind": "train",                     # "train" | "gold"
     "category": "search",                # one of config.CATEGORIES
     "topic": "동네 치킨집 찾기",           # QUESTION_TOPICS item (no_call: UNSUPPORTED_SCENARIOS item)
     "persona": "바쁜 직장인, 짧고 급한 말투",
     "user_id": "u_10234",
     "date": "2026-11-21",
     "user_turns": 3,
     "system_prompt": "..."}              # prompts.render_system_prompt(user_id, date)

The ``custom_id`` is the Batch API's request key and the join key through the whole pipeline.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from datagen import config
from datagen.errors import InputError
from datagen.prompts import render_system_prompt

KINDS = ("train", "gold")

TRAIN_WEIGHTS: dict[str, int] = {
    "search": 20,
    "menu": 15,
    "cart": 15,
    "order_status": 10,
    "checkout": 10,
    "multi_turn": 15,
    "no_call": 8,
    "edge_case": 7,
}
"""Default share of each category in a training mix, in percent (sums to 100)."""


@dataclass(frozen=True)
class ScenarioMix:
    """What to generate: one value shared by the Generate page, its presets and
    :func:`datagen.jobs.create_job`.

    Fields:
        kind: ``"train"`` or ``"gold"``.
        counts: category key (``config.CATEGORIES``) → number of requests.
        seed: the sampling seed (:func:`make_scenarios`).
        model / temperature: the generator's chat-completions model and temperature.
        personas: personas / tones to draw from; ``None`` or empty: all (``config.PERSONAS``).
        turn_range: inclusive ``(min, max)`` user turns; ``None``: ``config.TURN_RANGE``.
        date_range: inclusive ``("YYYY-MM-DD", "YYYY-MM-DD")`` of the dialogue date; ``None``: the
            default of :func:`make_scenarios`.

    Validation happens where scenarios are drawn (:func:`make_scenarios`, ``create_job``).
    """

    kind: str = "train"
    counts: dict[str, int] = field(default_factory=dict)
    seed: int = 42
    model: str = config.DEFAULT_MODEL
    temperature: float = config.DEFAULT_TEMPERATURE
    personas: tuple[str, ...] | None = None
    turn_range: tuple[int, int] | None = None
    date_range: tuple[str, str] | None = None

    def options(self) -> dict[str, Any]:
        """The scenario options that are set, as :func:`make_scenarios` keywords:
        ``{"date_range": (from, to), "turn_range": (min, max), "personas": [...]}`` (unset ones left out)."""
        return {
            k: v
            for k, v in {
                "date_range": tuple(self.date_range) if self.date_range else None,
                "turn_range": tuple(self.turn_range) if self.turn_range else None,
                "personas": list(self.personas) if self.personas else None,
            }.items()
            if v
        }

    def to_preset(self) -> dict[str, Any]:
        """The JSON config a preset stores: ``{"kind", "counts", "model", "temperature", "seed",
        "personas": [...], "turn_range": [min, max] | None, "date_range": [from, to] | None}``."""
        return {
            "kind": self.kind,
            "counts": dict(self.counts),
            "model": self.model,
            "temperature": self.temperature,
            "seed": self.seed,
            "personas": list(self.personas or []),
            "turn_range": list(self.turn_range) if self.turn_range else None,
            "date_range": list(self.date_range) if self.date_range else None,
        }

    @classmethod
    def from_preset(cls, cfg: dict[str, Any]) -> ScenarioMix:
        """The mix a stored preset config describes (:meth:`to_preset`); keys a preset lacks (older
        presets) take the field defaults."""
        default = cls()
        return cls(
            kind=cfg.get("kind", default.kind),
            counts={c: int(n) for c, n in (cfg.get("counts") or {}).items()},
            seed=int(cfg.get("seed", default.seed)),
            model=cfg.get("model", default.model),
            temperature=float(cfg.get("temperature", default.temperature)),
            personas=tuple(cfg["personas"]) if cfg.get("personas") else None,
            turn_range=tuple(cfg["turn_range"]) if cfg.get("turn_range") else None,  # type: ignore[arg-type]
            date_range=tuple(cfg["date_range"]) if cfg.get("date_range") else None,  # type: ignore[arg-type]
        )


def _parse_date(value: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise InputError(f"{what}은(는) 'YYYY-MM-DD' 날짜여야 합니다: {value!r}") from None


def _topics(category: str) -> list[str]:
    return config.UNSUPPORTED_SCENARIOS if category == "no_call" else config.QUESTION_TOPICS[category]


def make_scenarios(
    kind: str,
    counts: dict[str, int],
    seed: int,
    *,
    start_seq: dict[str, int] | None = None,
    date_range: tuple[str, str] = ("2026-01-01", "2026-12-31"),
    turn_range: tuple[int, int] = config.TURN_RANGE,
    personas: list[str] | None = None,
) -> list[dict]:
    """Draw scenarios for a mix of categories.

    Each category has its own ``random.Random(f"{seed}:{kind}:{category}")``, so changing one
    category's count never changes another's draws. Topics are dealt from a shuffled deck (every
    topic once before any repeats); persona, user id, date and turn count are drawn per scenario.
    With ``start_seq`` the stream is skipped ahead, so ``counts={"search": 5}`` followed by
    ``counts={"search": 5}, start_seq={"search": 6}`` equals one call with ``{"search": 10}``.

    Args:
        kind: ``"train"`` or ``"gold"``.
        counts: category key → number of scenarios (0 allowed), in any order; output follows
            ``config.CATEGORIES`` order.
        seed: any int; same arguments → same list.
        start_seq: category → first seq number (default 1) to continue a previous job's numbering.
        date_range: inclusive ``("YYYY-MM-DD", "YYYY-MM-DD")`` for the scenario date.
        turn_range: inclusive (min, max) number of user turns.
        personas: customer personas / tones to draw from (default ``config.PERSONAS``).

    Returns:
        A list of scenario dicts (see the module docstring).

    Raises:
        InputError: unknown kind or category, a count or start seq that is not a non-negative /
            positive int, a malformed or reversed date range, or a bad turn range.
    """
    if kind not in KINDS:
        raise InputError(f"kind는 {', '.join(KINDS)} 중 하나여야 합니다: {kind!r}")
    unknown = sorted(set(counts) - set(config.CATEGORIES))
    if unknown:
        raise InputError(f"알 수 없는 카테고리 {', '.join(unknown)} (가능한 값: {', '.join(config.CATEGORIES)})")
    for cat, n in counts.items():
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise InputError(f"{cat!r}의 건수는 0 이상의 정수여야 합니다: {n!r}")
    start_seq = start_seq or {}
    for cat, s in start_seq.items():
        if cat not in config.CATEGORIES:
            raise InputError(f"start_seq에 알 수 없는 카테고리 {cat!r}가 있습니다")
        if not isinstance(s, int) or isinstance(s, bool) or s < 1:
            raise InputError(f"{cat!r}의 start_seq는 1 이상의 정수여야 합니다: {s!r}")
    first, last = (_parse_date(d, "date_range") for d in date_range)
    if last < first:
        raise InputError(f"대화 날짜 범위(date_range)의 시작이 끝보다 늦습니다: {date_range}")
    lo, hi = turn_range
    if not (isinstance(lo, int) and isinstance(hi, int) and 1 <= lo <= hi):
        raise InputError(f"사용자 턴 수 범위(turn_range)는 1 <= 최소 <= 최대인 정수 둘이어야 합니다: {turn_range!r}")
    span = (last - first).days

    scenarios = []
    for category in config.CATEGORIES:
        n = counts.get(category, 0)
        if not n:
            continue
        rng = random.Random(f"{seed}:{kind}:{category}")
        topics = _topics(category)
        deck: list[str] = []
        start = start_seq.get(category, 1)
        for seq in range(1, start + n):
            if not deck:
                deck = rng.sample(topics, len(topics))
            topic = deck.pop()
            persona = rng.choice(personas or config.PERSONAS)
            user_id = rng.choice(config.USER_IDS)
            date = (first + dt.timedelta(days=rng.randint(0, span))).isoformat()
            user_turns = rng.randint(lo, hi)
            if seq < start:
                continue  # skip ahead: same stream as one longer call
            scenarios.append(
                {
                    "custom_id": f"{kind}-{category}-{seq:05d}",
                    "kind": kind,
                    "category": category,
                    "topic": topic,
                    "persona": persona,
                    "user_id": user_id,
                    "date": date,
                    "user_turns": user_turns,
                    "system_prompt": render_system_prompt(user_id, date),
                }
            )
    return scenarios


def gold_counts() -> dict[str, int]:
    """Return ``{category: config.GOLD_COUNT_PER_CATEGORY}`` for all 8 categories (seed 001: 80 in all)."""
    return {cat: config.GOLD_COUNT_PER_CATEGORY for cat in config.CATEGORIES}


def split_total(total: int, weights: dict[str, float]) -> dict[str, int]:
    """Spread ``total`` over categories in proportion to ``weights``, summing to ``total`` exactly.

    Largest-remainder (Hamilton) rounding: floor every share, then hand the leftover units to the
    largest fractional parts (ties in ``config.CATEGORIES`` order). Weights need not sum to 100.

    Raises:
        InputError: ``total`` is not a non-negative int, a weight is negative, or all are zero
            while ``total`` > 0.
    """
    if not isinstance(total, int) or isinstance(total, bool) or total < 0:
        raise InputError(f"총 건수는 0 이상의 정수여야 합니다: {total!r}")
    if any(w < 0 for w in weights.values()):
        raise InputError("비율은 음수일 수 없습니다")
    weight_sum = sum(weights.values())
    if not weight_sum:
        if total:
            raise InputError("모든 비율이 0입니다")
        return {c: 0 for c in weights}
    order = {c: i for i, c in enumerate(config.CATEGORIES)}
    exact = {c: total * w / weight_sum for c, w in weights.items()}
    counts = {c: int(v) for c, v in exact.items()}
    leftover = total - sum(counts.values())
    for c in sorted(weights, key=lambda c: (-(exact[c] - counts[c]), order.get(c, len(order))))[:leftover]:
        counts[c] += 1
    return counts


def default_train_counts(total: int) -> dict[str, int]:
    """Spread ``total`` over the categories by ``TRAIN_WEIGHTS`` (:func:`split_total`).

    Raises:
        InputError: ``total`` is not a non-negative int.
    """
    return split_total(total, {c: TRAIN_WEIGHTS[c] for c in config.CATEGORIES})
