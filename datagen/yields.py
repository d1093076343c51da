"""Yield after spending: per category, what was paid for and what reviewers kept; top-up jobs.

The funnel per (kind, category): requested → returned → parsed → passed checks (no error-level
finding) → accepted; the accept rate over decided samples; the actual cost from each response's
``usage`` at batch prices (:func:`pricing.usage_cost`), and the cost per accepted dialogue.
"""

from __future__ import annotations

import json
import math

import sqlite_utils

from . import pricing
from .review import bucket_sql
from .store import loads


def yield_table(db: sqlite_utils.Database, *, kind: str | None = None, job_id: str | None = None) -> list[dict]:
    """Rows ``{"kind", "category", "requested", "returned", "parsed", "passed_checks", "accepted",
    "rejected", "accept_rate", "yield", "cost_usd", "cost_per_accepted"}`` (rates 0–1 or None).

    ``yield`` = accepted / requested; ``accept_rate`` = accepted / (accepted + rejected).
    """
    where, params = ["q.kind != 'judge'"], []  # judge requests (datagen.judge) make no dialogue
    if kind:
        where.append("q.kind = ?")
        params.append(kind)
    if job_id:
        where.append("q.job_id = ?")
        params.append(job_id)
    w = (" AND " + " AND ".join(where)) if where else ""
    rows = {}
    for k, c, n in db.execute(f"SELECT q.kind, q.category, COUNT(*) FROM requests q WHERE 1{w} GROUP BY 1, 2", params):
        rows[(k, c)] = {"kind": k, "category": c, "requested": n, "returned": 0, "parsed": 0, "passed_checks": 0, "accepted": 0, "rejected": 0, "cost_usd": 0.0}
    for k, c, n in db.execute(
        f"SELECT q.kind, q.category, COUNT(*) FROM requests q WHERE EXISTS (SELECT 1 FROM raw_results r WHERE r.custom_id = q.custom_id){w} GROUP BY 1, 2",
        params,
    ):
        if (k, c) in rows:
            rows[(k, c)]["returned"] = n
    for k, c, model, usage, has_error, bucket in db.execute(
        "SELECT s.kind, s.category, s.model, s.usage, EXISTS (SELECT 1 FROM findings f WHERE f.uid = s.uid AND f.severity = 'error'), "
        f"{bucket_sql('st')} FROM samples s JOIN requests q ON q.custom_id = s.custom_id JOIN sample_state st ON st.uid = s.uid WHERE 1{w}",
        params,
    ):
        r = rows.get((k, c))
        if r is None:
            continue
        r["parsed"] += 1
        r["passed_checks"] += 0 if has_error else 1
        if bucket in ("accept", "reject"):
            r["accepted" if bucket == "accept" else "rejected"] += 1
        try:
            r["cost_usd"] += pricing.usage_cost(loads(usage), model or "")
        except pricing.PricingError:
            pass
    out = []
    for r in rows.values():
        decided = r["accepted"] + r["rejected"]
        r["accept_rate"] = round(r["accepted"] / decided, 3) if decided else None
        r["yield"] = round(r["accepted"] / r["requested"], 3) if r["requested"] and decided else None
        r["cost_usd"] = round(r["cost_usd"], 4)
        r["cost_per_accepted"] = round(r["cost_usd"] / r["accepted"], 4) if r["accepted"] else None
        out.append(r)
    return sorted(out, key=lambda r: (r["kind"], r["category"]))


def top_up_counts(db: sqlite_utils.Database, kind: str, targets: dict[str, int]) -> dict[str, int]:
    """Requests per category needed to reach ``targets`` accepted dialogues given the observed yield.

    need = ceil((target − accepted − expected accepts of undecided samples) / yield), where the
    expected accepts are undecided × accept rate, and the yield (accepted / requested) falls back to
    1 for a category without decisions and is floored at 0.05 (a 5% yield asks 20× the gap).
    Categories already at target get 0 and are left out.
    """
    by_cat = {r["category"]: r for r in yield_table(db, kind=kind)}
    out = {}
    for category, target in targets.items():
        r = by_cat.get(category)
        if r is None:
            need = target
        else:
            undecided = r["parsed"] - r["accepted"] - r["rejected"]
            expected = undecided * (r["accept_rate"] if r["accept_rate"] is not None else 1.0)
            gap = target - r["accepted"] - expected
            y = r["yield"] if r["yield"] is not None else 1.0
            need = math.ceil(gap / max(y, 0.05)) if gap > 0 else 0
        if need > 0:
            out[category] = int(need)
    return out


def token_report(db: sqlite_utils.Database, job_id: str) -> list[dict]:
    """Estimated (stored with the job) vs actual tokens per category for a job's returned samples:
    ``[{"category", "est_input", "actual_input", "est_output", "actual_output"}]``."""
    params = db.execute("SELECT params FROM jobs WHERE id = ?", [job_id]).fetchone()
    est = {r["category"]: r for r in (loads(params[0], {}) if params else {}).get("estimate", {}).get("rows", [])}
    actual: dict[str, dict[str, int]] = {}
    for category, usage in db.execute("SELECT s.category, s.usage FROM samples s JOIN requests q ON q.custom_id = s.custom_id WHERE q.job_id = ?", [job_id]):
        u = json.loads(usage) if usage else {}
        a = actual.setdefault(category, {"input": 0, "output": 0})
        a["input"] += u.get("prompt_tokens") or 0
        a["output"] += u.get("completion_tokens") or 0
    return [
        {
            "category": c,
            "est_input": est.get(c, {}).get("input_tokens"),
            "actual_input": actual.get(c, {}).get("input"),
            "est_output": est.get(c, {}).get("output_tokens"),
            "actual_output": actual.get(c, {}).get("output"),
        }
        for c in sorted(set(est) | set(actual))
    ]
