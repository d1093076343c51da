"""Jobs: a scenario mix turned into Batch API request lines, recorded in the database.

A job is one generation run (kind, counts per category, model, temperature, seed). Creating it
samples the scenarios (:func:`datagen.scenarios.make_scenarios`), writes the request JSONL
(seed 001: ``datagen/output/batch_input.jsonl``) and stores one ``requests`` row per custom_id.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Iterable

import sqlite_utils

from . import config, prompts, scenarios, settings
from .generator_schema import RESPONSE_FORMAT
from .store import dumps, now

BATCH_ENDPOINT = "/v1/chat/completions"
_CUSTOM_ID_RE = re.compile(r"^(train|gold)-([a-z_]+)-(\d{5,})$")


def parse_custom_id(custom_id: str) -> tuple[str, str, int] | None:
    """``"gold-checkout-00007"`` → ``("gold", "checkout", 7)``; ``None`` when it is not of that form."""
    m = _CUSTOM_ID_RE.match(custom_id or "")
    return (m.group(1), m.group(2), int(m.group(3))) if m else None


def build_request_line(scenario: dict, *, model: str, temperature: float) -> dict:
    """One Batch API input line for a scenario.

    The static part (generator instructions, tool specs, return formats) is the system message and
    comes first; the scenario is the last message, so prompt caching applies across requests
    (OpenAI prompt caching matches on the longest common prefix). The answer is forced into
    :data:`generator_schema.RESPONSE_FORMAT` (Structured Outputs, strict).

    Returns:
        ``{"custom_id", "method": "POST", "url": "/v1/chat/completions", "body": {...}}``.
    """
    return {
        "custom_id": scenario["custom_id"],
        "method": "POST",
        "url": BATCH_ENDPOINT,
        "body": {
            "model": model,
            "temperature": temperature,
            "messages": prompts.build_messages(scenario),
            "response_format": RESPONSE_FORMAT,
        },
    }


def next_seqs(db: sqlite_utils.Database, kind: str) -> dict[str, int]:
    """Per category, the next free sequence number for ``kind`` (so custom_ids never repeat across jobs)."""
    out: dict[str, int] = {}
    for row in db.execute(
        "SELECT category, MAX(CAST(substr(custom_id, length(kind) + length(category) + 3) AS INTEGER)) "
        "FROM requests WHERE kind = ? GROUP BY category",
        [kind],
    ):
        out[row[0]] = (row[1] or 0) + 1
    return out


def create_job(
    db: sqlite_utils.Database,
    *,
    kind: str,
    counts: dict[str, int],
    seed: int = 42,
    model: str = config.DEFAULT_MODEL,
    temperature: float = config.DEFAULT_TEMPERATURE,
    input_path: str | Path | None = None,
    operator: str = "cli",
    backend: str = "",
    date_range: tuple[str, str] | None = None,
    turn_range: tuple[int, int] | None = None,
    personas: list[str] | None = None,
    idempotency_key: str | None = None,
    estimate: dict | None = None,
) -> dict:
    """Sample scenarios, write the request JSONL and record the job and its requests.

    Args:
        kind: ``train`` or ``gold``.
        counts: requests per category key (``config.CATEGORIES``); zero counts are skipped.
        seed: sampling seed (the same seed and counts give the same scenarios).
        input_path: where to write the JSONL (overwritten); default ``<output dir>/jobs/<job id>.jsonl``.
        date_range / turn_range / personas: scenario options (:func:`scenarios.make_scenarios`).
        idempotency_key: a key of the user's action (e.g. one per rendered form); a second call
            with the same key returns the first job and creates nothing (double click, rerun).
        estimate: the cost estimate shown before submitting (:func:`pricing.estimate`), kept with
            the job to compare with the actual usage later.

    Returns:
        the job row as a dict, plus ``n_requests``.

    Raises:
        ValueError: unknown kind or category, negative count, or no request at all.
    """
    if idempotency_key:
        existing = list(db.query("SELECT * FROM jobs WHERE idempotency_key = ?", [idempotency_key]))
        if existing:
            job = existing[0]
            job["n_requests"] = db["requests"].count_where("job_id = ?", [job["id"]])
            return job
    if kind not in ("train", "gold"):
        raise ValueError(f"kind must be train or gold, not {kind!r}")
    counts = {c: int(n) for c, n in counts.items() if int(n) != 0}
    if not counts or sum(counts.values()) <= 0:
        raise ValueError("the scenario mix has no requests: give at least one category a count > 0")
    options = {
        k: v
        for k, v in {"date_range": tuple(date_range) if date_range else None, "turn_range": tuple(turn_range) if turn_range else None, "personas": personas}.items()
        if v
    }
    items = scenarios.make_scenarios(kind, counts, seed, start_seq=next_seqs(db, kind), **options)
    job_id = "job_" + now().replace(":", "").replace("-", "")[:15] + "_" + uuid.uuid4().hex[:6]
    input_path = Path(input_path or settings.output_dir() / "jobs" / f"{job_id}.jsonl")
    input_path.parent.mkdir(parents=True, exist_ok=True)
    with input_path.open("w", encoding="utf-8") as fh:
        for sc in items:
            fh.write(json.dumps(build_request_line(sc, model=model, temperature=temperature), ensure_ascii=False) + "\n")
    job = {
        "id": job_id,
        "kind": kind,
        "created_at": now(),
        "counts": dumps(counts),
        "seed": seed,
        "model": model,
        "temperature": temperature,
        "params": dumps({"tools_version": config.TOOLS_VERSION, **options, **({"estimate": estimate} if estimate else {})}),
        "input_file": str(input_path),
        "operator": operator,
        "backend": backend,
        "idempotency_key": idempotency_key,
    }
    with db.conn:
        db["jobs"].insert(job)
        db["requests"].insert_all(
            (
                {
                    "custom_id": sc["custom_id"],
                    "job_id": job_id,
                    "batch_id": None,
                    "kind": kind,
                    "category": sc["category"],
                    "scenario": dumps(sc),
                    "status": "planned",
                    "attempt": 1,
                }
                for sc in items
            ),
            batch_size=500,
        )
    return {**job, "n_requests": len(items)}


def read_custom_ids(path: str | Path) -> list[str]:
    """custom_ids of a request JSONL, in file order.

    Raises:
        ValueError: ``<file>:<line>: <reason>`` for a line that is not JSON or has no custom_id.
    """
    ids = []
    with Path(path).open(encoding="utf-8") as fh:
        for no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{no}: not valid JSON ({exc.msg})") from None
            cid = obj.get("custom_id") if isinstance(obj, dict) else None
            if not isinstance(cid, str):
                raise ValueError(f"{path}:{no}: no custom_id")
            ids.append(cid)
    return ids


def mark_requests(db: sqlite_utils.Database, custom_ids: Iterable[str], **values) -> None:
    """Update the ``requests`` rows of these custom_ids (in chunks, one transaction)."""
    ids = list(custom_ids)
    sets = ", ".join(f"{k} = ?" for k in values)
    with db.conn:
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            db.execute(
                f"UPDATE requests SET {sets} WHERE custom_id IN ({','.join('?' * len(chunk))})",
                [*values.values(), *chunk],
            )


# OpenAI Batch API limits per input file (DESIGN.md facts: ≤ 50,000 requests and ≤ 200 MB).
MAX_REQUESTS_PER_BATCH = 50_000
MAX_BYTES_PER_BATCH = 200 * 1024 * 1024


def split_job(
    db: sqlite_utils.Database,
    job_id: str,
    *,
    max_requests: int = MAX_REQUESTS_PER_BATCH,
    max_bytes: int = MAX_BYTES_PER_BATCH,
) -> list[dict]:
    """Split a job's request file into parts under the Batch API limits; idempotent.

    Parts are ``<input stem>_part001.jsonl``, … beside the input file, recorded in ``job_parts``.
    Calling again returns the recorded parts unchanged.

    Args:
        max_requests / max_bytes: per-part limits (lower than the API's may be set).

    Returns:
        the ``job_parts`` rows, in part order.

    Raises:
        ValueError: unknown job, a limit below 1, or one request line larger than ``max_bytes``.
    """
    existing = list(db.query("SELECT * FROM job_parts WHERE job_id = ? ORDER BY part", [job_id]))
    if existing:
        return existing
    job = db.execute("SELECT input_file FROM jobs WHERE id = ?", [job_id]).fetchone()
    if not job:
        raise ValueError(f"no job {job_id}")
    if max_requests < 1 or max_bytes < 1:
        raise ValueError("split limits must be at least 1")
    src = Path(job[0])
    parts: list[dict] = []
    out = None

    def close() -> None:
        if out is not None:
            out.close()
            p = parts[-1]
            p["sha256"] = file_sha256(Path(p["path"]))

    with src.open("rb") as fh:
        n = size = 0
        for line in fh:
            if not line.strip():
                continue
            if len(line) > max_bytes:
                raise ValueError(f"{src}: one request line is {len(line)} bytes, over the {max_bytes}-byte limit")
            if out is None or n >= max_requests or size + len(line) > max_bytes:
                close()
                path = src.with_name(f"{src.stem}_part{len(parts) + 1:03d}.jsonl")
                out = path.open("wb")
                parts.append({"job_id": job_id, "part": len(parts) + 1, "path": str(path), "sha256": "", "n_requests": 0, "bytes": 0,
                              "file_id": None, "batch_id": None, "create_attempts": 0, "retry_of": None, "status": "planned", "created_at": now()})
                n = size = 0
            out.write(line)
            n += 1
            size += len(line)
            parts[-1]["n_requests"] = n
            parts[-1]["bytes"] = size
        close()
    with db.conn:
        db["job_parts"].insert_all(parts)
    return parts


def file_sha256(path: Path) -> str:
    """SHA-256 hex of a file, read in 1 MiB chunks."""
    import hashlib

    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save_preset(db: sqlite_utils.Database, name: str, config_: dict, *, author: str = "") -> int:
    """Store a scenario-mix preset under ``name`` (a new row each time: the history is kept).

    Raises:
        ValueError: blank name.
    """
    if not name.strip():
        raise ValueError("preset name is required")
    with db.conn:
        return db["presets"].insert({"name": name.strip(), "config": dumps(config_), "created_at": now(), "author": author}).last_pk


def presets(db: sqlite_utils.Database) -> dict[str, dict]:
    """Latest config per preset name: ``{name: {"config", "created_at", "author", "versions"}}``."""
    out: dict[str, dict] = {}
    for r in db.query("SELECT name, config, created_at, author FROM presets ORDER BY id"):
        versions = out.get(r["name"], {}).get("versions", 0) + 1
        out[r["name"]] = {"config": json.loads(r["config"]), "created_at": r["created_at"], "author": r["author"], "versions": versions}
    return out


def preview_lines(kind: str, counts: dict[str, int], seed: int, *, model: str, temperature: float, start_seq: dict[str, int] | None = None,
                  sample_per_category: int = 500, **options) -> tuple[list[dict], dict[str, float]]:
    """Request lines for at most ``sample_per_category`` scenarios per category (for previews and the
    cost estimate of large mixes), and the scale factor per category to the full count."""
    sampled = {c: min(n, sample_per_category) for c, n in counts.items() if n > 0}
    items = scenarios.make_scenarios(kind, sampled, seed, start_seq=start_seq, **{k: v for k, v in options.items() if v})
    lines = [build_request_line(sc, model=model, temperature=temperature) for sc in items]
    return lines, {c: counts[c] / n for c, n in sampled.items()}
