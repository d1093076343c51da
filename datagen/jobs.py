"""Jobs: a scenario mix turned into Batch API request lines, recorded in the database.

A job is one generation run (kind, counts per category, model, temperature, seed). Creating it
samples the scenarios (:func:`datagen.scenarios.make_scenarios`), writes the request JSONL
(seed 001: ``datagen/output/batch_input.jsonl``) and stores one ``requests`` row per custom_id.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any, Final

import sqlite_utils

from . import auth, config, prompts, scenarios, settings
from .errors import InputError
from .generator_schema import RESPONSE_FORMAT
from .store import dumps, loads, now, write_transaction

BATCH_ENDPOINT: Final = "/v1/chat/completions"  # Final: typed as the literal the SDK's batches.create expects
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


def _write_requests(job_id: str, items: list[dict], input_path: Path, encode, max_requests: int | None, max_bytes: int | None) -> list[dict]:
    """Write the request lines: one file when they fit one batch (no parts recorded yet), else part
    files under the limits, hashed while written; returns the part rows (``[]`` for one file)."""
    import hashlib

    max_requests = max_requests or MAX_REQUESTS_PER_BATCH
    max_bytes = max_bytes or MAX_BYTES_PER_BATCH
    lines = (encode(sc) for sc in items)
    if len(items) <= max_requests:
        first = encode(items[0]) if items else b""
        if len(first) * len(items) * 1.2 <= max_bytes:  # prompts vary little: 20% headroom
            with input_path.open("wb") as out:
                for line in lines:
                    out.write(line)
            return []
    parts: list[dict] = []
    fh: IO[bytes] | None = None  # the open part file; None until the first line
    h = hashlib.sha256()  # the open part's hash (replaced with each new part)
    for line in lines:
        if len(line) > max_bytes:
            raise InputError(f"{input_path}: 요청 한 줄이 {len(line):,}바이트로 한도 {max_bytes:,}바이트를 넘습니다")
        p = parts[-1] if parts else None
        if fh is None or p is None or p["n_requests"] >= max_requests or p["bytes"] + len(line) > max_bytes:
            if fh is not None and p is not None:
                fh.close()
                p["sha256"] = h.hexdigest()
            path = input_path.with_name(f"{input_path.stem}_part{len(parts) + 1:03d}.jsonl")
            fh, h = path.open("wb"), hashlib.sha256()
            parts.append(_planned_part(job_id, len(parts) + 1, path))
            p = parts[-1]
        fh.write(line)
        h.update(line)
        p["n_requests"] += 1
        p["bytes"] += len(line)
    if fh:
        fh.close()
        parts[-1]["sha256"] = h.hexdigest()
    return parts


def line_encoder(*, model: str, temperature: float, as_bytes: bool = False):
    """A fast ``scenario -> JSONL line`` function, byte-identical to
    ``json.dumps(build_request_line(...), ensure_ascii=False)``.

    The static part (instructions, tool specs, response format: ~28 KB) is serialised once and the
    two per-request strings (custom_id, scenario prompt) are spliced in, instead of re-encoding the
    whole body for each of up to 50,000 requests. With ``as_bytes`` the function returns the line
    as UTF-8 with its newline, the static part encoded once too (what the job files are written from).
    """
    cid_mark, user_mark = "\x00CID\x00", "\x00USER\x00"
    template = {
        "custom_id": cid_mark,
        "method": "POST",
        "url": BATCH_ENDPOINT,
        "body": {
            "model": model,
            "temperature": temperature,
            "messages": [{"role": "system", "content": prompts.GENERATOR_INSTRUCTIONS}, {"role": "user", "content": user_mark}],
            "response_format": RESPONSE_FORMAT,
        },
    }
    text = json.dumps(template, ensure_ascii=False)
    enc_cid, enc_user = json.dumps(cid_mark)[1:-1], json.dumps(user_mark)[1:-1]
    head, rest = text.split(enc_cid)
    mid, tail = rest.split(enc_user)

    def encode(scenario: dict) -> str:
        cid = json.dumps(scenario["custom_id"], ensure_ascii=False)[1:-1]
        user = json.dumps(prompts.build_user_prompt(scenario), ensure_ascii=False)[1:-1]
        return head + cid + mid + user + tail

    head_b, mid_b, tail_b = head.encode(), mid.encode(), (tail + "\n").encode()

    def encode_bytes(scenario: dict) -> bytes:
        cid = json.dumps(scenario["custom_id"], ensure_ascii=False)[1:-1]
        user = json.dumps(prompts.build_user_prompt(scenario), ensure_ascii=False)[1:-1]
        return b"".join((head_b, cid.encode(), mid_b, user.encode(), tail_b))

    return encode_bytes if as_bytes else encode


def next_seqs(db: sqlite_utils.Database, kind: str) -> dict[str, int]:
    """Per category, the next free sequence number for ``kind`` (so custom_ids never repeat across jobs)."""
    out: dict[str, int] = {}
    for row in db.execute(
        "SELECT category, MAX(CAST(substr(custom_id, length(kind) + length(category) + 3) AS INTEGER)) FROM requests WHERE kind = ? GROUP BY category",
        [kind],
    ):
        out[row[0]] = (row[1] or 0) + 1
    return out


def create_job(
    db: sqlite_utils.Database,
    *,
    mix: scenarios.ScenarioMix | None = None,
    kind: str | None = None,
    counts: dict[str, int] | None = None,
    seed: int | None = None,
    model: str | None = None,
    temperature: float | None = None,
    input_path: str | Path | None = None,
    operator: str | None = "cli",
    backend: str = "",
    date_range: tuple[str, str] | None = None,
    turn_range: tuple[int, int] | None = None,
    personas: list[str] | None = None,
    idempotency_key: str | None = None,
    estimate: dict | None = None,
    max_requests: int | None = None,
    max_bytes: int | None = None,
) -> dict:
    """Sample scenarios, write the request JSONL and record the job and its requests.

    Args:
        mix: what to generate (:class:`datagen.scenarios.ScenarioMix`). Instead of it, its fields may
            be given one by one as keywords (``kind``, ``counts`` required then; ``seed`` 42,
            ``model`` / ``temperature`` the config defaults) — not both.
        kind: ``train`` or ``gold``.
        counts: requests per category key (``config.CATEGORIES``); zero counts are skipped.
        seed: sampling seed (the same seed and counts give the same scenarios).
        input_path: where to write the JSONL (overwritten); default ``<output dir>/jobs/<job id>.jsonl``.
        operator: who asks (recorded as ``jobs.operator``); None when the CLI has no identity
            (stored as NULL; only accepted in open mode, :func:`datagen.auth.require`).
        date_range / turn_range / personas: scenario options (:func:`scenarios.make_scenarios`).
        idempotency_key: a key of the user's action (e.g. one per rendered form); a second call
            with the same key returns the first job and creates nothing (double click, rerun).
        estimate: the cost estimate shown before submitting (:func:`pricing.estimate`), kept with
            the job to compare with the actual usage later.
        max_requests / max_bytes: batch file limits (default the API's). A job over them is
            written straight into part files ``<input stem>_part001.jsonl``, … (recorded in
            ``job_parts``) in the same pass, instead of one file split afterwards.

    Returns:
        the job row as a dict, plus ``n_requests``.

    Raises:
        TypeError: both ``mix`` and any of its fields as keywords, or neither ``mix`` nor ``kind`` and ``counts``.
        InputError: unknown kind or category, negative count, or no request at all.
        auth.PermissionDenied: roles are in force and ``operator`` is not a pm.
    """
    loose = {
        "kind": kind,
        "counts": counts,
        "seed": seed,
        "model": model,
        "temperature": temperature,
        "date_range": date_range,
        "turn_range": turn_range,
        "personas": personas,
    }
    if mix is None:
        if kind is None or counts is None:
            raise TypeError("create_job needs mix= or both kind= and counts=")
        mix = scenarios.ScenarioMix(
            kind=kind,
            counts=counts,
            seed=42 if seed is None else seed,
            model=config.DEFAULT_MODEL if model is None else model,
            temperature=config.DEFAULT_TEMPERATURE if temperature is None else temperature,
            personas=tuple(personas) if personas else None,
            turn_range=tuple(turn_range) if turn_range else None,  # type: ignore[arg-type]
            date_range=tuple(date_range) if date_range else None,  # type: ignore[arg-type]
        )
    elif any(v is not None for v in loose.values()):
        raise TypeError(f"create_job: give either mix= or {', '.join(k for k, v in loose.items() if v is not None)}=, not both")
    if idempotency_key:
        existing = list(db.query("SELECT * FROM jobs WHERE idempotency_key = ?", [idempotency_key]))
        if existing:
            job = existing[0]
            job["n_requests"] = db["requests"].count_where("job_id = ?", [job["id"]])
            return job
    auth.require(db, operator, "pm")
    kind, seed, model, temperature = mix.kind, mix.seed, mix.model, mix.temperature
    if kind not in ("train", "gold"):
        raise InputError(f"kind는 train 또는 gold여야 합니다: {kind!r}")
    counts = {c: int(n) for c, n in mix.counts.items() if int(n) != 0}
    if not counts or sum(counts.values()) <= 0:
        raise InputError("시나리오 믹스에 요청이 없습니다: 적어도 한 카테고리에 1 이상의 건수를 주세요")
    options = mix.options()
    items = scenarios.make_scenarios(kind, counts, seed, start_seq=next_seqs(db, kind), **options)
    job_id = "job_" + now().replace(":", "").replace("-", "")[:15] + "_" + uuid.uuid4().hex[:6]
    input_path = Path(input_path or settings.output_dir() / "jobs" / f"{job_id}.jsonl")
    input_path.parent.mkdir(parents=True, exist_ok=True)
    parts = _write_requests(job_id, items, input_path, line_encoder(model=model, temperature=temperature, as_bytes=True), max_requests, max_bytes)
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
    with write_transaction(db):
        db.table("jobs").insert(job)
        if parts:
            db.table("job_parts").insert_all(parts)
        record_requests(db, job_id, items)
    return {**job, "n_requests": len(items)}


def get_job(db: sqlite_utils.Database, job_id: str) -> dict:
    """The ``jobs`` row of ``job_id`` as a dict (``id``, ``kind``, ``seed``, ``counts`` JSON, …).

    Raises:
        InputError: no such job.
    """
    rows = list(db.query("SELECT * FROM jobs WHERE id = ?", [job_id]))
    if not rows:
        raise InputError(f"작업 {job_id}이(가) 없습니다")
    return rows[0]


def latest_job(db: sqlite_utils.Database, *, single_file: bool = False) -> dict | None:
    """The most recently created generation job's ``jobs`` row (ties: insertion order), or ``None``
    when there is none. Judge jobs (kind ``judge``, :mod:`datagen.judge`) are not generation jobs:
    the seed 001 steps that follow the latest job never pick one.

    With ``single_file``: only jobs with an ``input_file`` that were not split into parts
    (``job_parts``), i.e. what one Batch API upload of ``input_file`` submits whole.
    """
    where = " WHERE j.kind != 'judge'" + (" AND input_file IS NOT NULL AND NOT EXISTS (SELECT 1 FROM job_parts p WHERE p.job_id = j.id)" if single_file else "")
    rows = list(db.query(f"SELECT * FROM jobs j{where} ORDER BY created_at DESC, rowid DESC LIMIT 1"))
    return rows[0] if rows else None


def part_paths(db: sqlite_utils.Database, job_id: str) -> list[str]:
    """The part files of a job written over one batch's limits (``job_parts.path``), in part order;
    ``[]`` for a job that fits one batch file."""
    return [r[0] for r in db.execute("SELECT path FROM job_parts WHERE job_id = ? ORDER BY part", [job_id])]


def record_requests(db: sqlite_utils.Database, job_id: str, items: Iterable[dict]) -> None:
    """Within the caller's transaction: one ``requests`` row per scenario (:func:`scenarios.make_scenarios`
    items: ``custom_id``, ``kind``, ``category``…), status ``planned``, attempt 1, the scenario as JSON."""
    db.conn.executemany(
        "INSERT INTO requests (custom_id, job_id, batch_id, kind, category, scenario, status, attempt) VALUES (?, ?, NULL, ?, ?, ?, 'planned', 1)",
        ((sc["custom_id"], job_id, sc["kind"], sc["category"], dumps(sc)) for sc in items),
    )


def rejected_to_regenerate(db: sqlite_utils.Database, *, kind: str, job_id: str | None = None) -> dict[str, list[str]]:
    """Rejected samples of ``kind`` (the decision in force is ``reject``: :mod:`datagen.review`) that
    no request regenerates yet, as ``{category: [uid, …]}`` in review-queue order; only those of
    ``job_id``'s requests when given."""
    sql = (
        "SELECT st.category, st.uid FROM sample_state st WHERE st.kind = ? AND st.state = 'decided' AND st.decision = 'reject' "
        "AND NOT EXISTS (SELECT 1 FROM requests q WHERE q.regenerates = st.uid)" + (" AND st.job_id = ?" if job_id else "") + " ORDER BY st.seq"
    )
    out: dict[str, list[str]] = {}
    for category, uid in db.execute(sql, [kind, job_id] if job_id else [kind]):
        out.setdefault(category, []).append(uid)
    return out


REGENERATE_SEED_OFFSET = 1000
"""The seed offered for regenerating a job's rejected samples: the job's seed plus this (a seed the
job did not use, so other topics, personas and dates are drawn)."""


def default_regenerate_seed(job_seed: int | None) -> int:
    """:data:`REGENERATE_SEED_OFFSET` past ``job_seed`` (``None`` counts as 0)."""
    return (job_seed or 0) + REGENERATE_SEED_OFFSET


def regenerate_rejected(
    db: sqlite_utils.Database,
    *,
    kind: str,
    seed: int,
    job_id: str | None = None,
    operator: str | None = "cli",
    backend: str = "",
    **create_kw: Any,
) -> dict | None:
    """A new job with one freshly drawn scenario per rejected sample, in the same kind and category,
    each request linked to the sample it replaces (``requests.regenerates``).

    The scenarios are drawn with ``seed`` (use a seed the first job did not: the same seed and
    numbering draw the same topics, personas and dates again). Model, temperature and scenario
    options default to those of ``job_id`` when given. Samples already linked to a request are left
    out, so regenerating twice makes one request per rejected sample; the same call after a crash
    returns the same job (idempotency key from the uids and seed) and completes its links.

    Returns:
        the job row (as :func:`create_job`, plus ``regenerates``: the number of rejected samples
        linked) or ``None`` when there is nothing to regenerate.

    Raises:
        InputError: unknown kind or job.
        auth.PermissionDenied: roles are in force and ``operator`` is not a pm.
    """
    if job_id:
        row = db.execute("SELECT model, temperature, params FROM jobs WHERE id = ?", [job_id]).fetchone()
        if row is None:
            raise InputError(f"작업 {job_id}이(가) 없습니다")
        params = loads(row[2], {})
        create_kw = {"model": row[0], "temperature": row[1], **{k: params[k] for k in ("date_range", "turn_range", "personas") if params.get(k)}, **create_kw}
    todo = rejected_to_regenerate(db, kind=kind, job_id=job_id)
    if not todo:
        return None
    uids = sorted(u for us in todo.values() for u in us)
    key = "regenerate:" + hashlib.sha256(f"{seed}:{','.join(uids)}".encode()).hexdigest()[:32]
    job = create_job(
        db, kind=kind, counts={c: len(us) for c, us in todo.items()}, seed=seed, operator=operator, backend=backend, idempotency_key=key, **create_kw
    )
    links = []
    for category, us in todo.items():
        cids = [r[0] for r in db.execute("SELECT custom_id FROM requests WHERE job_id = ? AND category = ? ORDER BY custom_id", [job["id"], category])]
        links += list(zip(us, cids))
    with write_transaction(db):
        db.conn.executemany("UPDATE requests SET regenerates = ? WHERE custom_id = ?", links)
    return {**job, "regenerates": len(links)}


def read_custom_ids(path: str | Path) -> list[str]:
    """custom_ids of a request JSONL, in file order.

    Raises:
        InputError: ``<file>:<line>: <reason>`` for a line that is not JSON or has no custom_id.
    """
    ids = []
    with Path(path).open(encoding="utf-8") as fh:
        for no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{no}: 올바른 JSON이 아닙니다 ({exc.msg})") from None
            cid = obj.get("custom_id") if isinstance(obj, dict) else None
            if not isinstance(cid, str):
                raise InputError(f"{path}:{no}: custom_id가 없습니다")
            ids.append(cid)
    return ids


def mark_requests(db: sqlite_utils.Database, custom_ids: Iterable[str], **values) -> None:
    """Update the ``requests`` rows of these custom_ids (in chunks, one transaction)."""
    ids = list(custom_ids)
    sets = ", ".join(f"{k} = ?" for k in values)
    with write_transaction(db):
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            db.execute(
                f"UPDATE requests SET {sets} WHERE custom_id IN ({','.join('?' * len(chunk))})",
                [*values.values(), *chunk],
            )


# OpenAI Batch API limits per input file (ARCHITECTURE.md, "Facts": ≤ 50,000 requests and ≤ 200 MB).
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
        InputError: unknown job, a limit below 1, or one request line larger than ``max_bytes``.
    """
    existing = list(db.query("SELECT * FROM job_parts WHERE job_id = ? ORDER BY part", [job_id]))
    if existing:
        return existing
    job = db.execute("SELECT input_file FROM jobs WHERE id = ?", [job_id]).fetchone()
    if not job:
        raise InputError(f"작업 {job_id}이(가) 없습니다")
    if max_requests < 1 or max_bytes < 1:
        raise InputError("배치 분할 한도는 1 이상이어야 합니다")
    src = Path(job[0])
    n_lines, n_bytes, biggest = _measure(src)
    if n_lines <= max_requests and n_bytes <= max_bytes:
        whole = [_planned_part(job_id, 1, src, sha256=file_sha256(src), n_requests=n_lines, n_bytes=n_bytes)]
        with write_transaction(db):
            db.table("job_parts").insert_all(whole)
        return whole
    if biggest > max_bytes:
        raise InputError(f"{src}: 요청 한 줄이 {biggest:,}바이트로 한도 {max_bytes:,}바이트를 넘습니다")
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
            if out is None or n >= max_requests or size + len(line) > max_bytes:
                close()
                path = src.with_name(f"{src.stem}_part{len(parts) + 1:03d}.jsonl")
                out = path.open("wb")
                parts.append(_planned_part(job_id, len(parts) + 1, path))
                n = size = 0
            out.write(line)
            n += 1
            size += len(line)
            parts[-1]["n_requests"] = n
            parts[-1]["bytes"] = size
        close()
    with write_transaction(db):
        db.table("job_parts").insert_all(parts)
    return parts


def _planned_part(job_id: str, part: int, path: Path, *, sha256: str = "", n_requests: int = 0, n_bytes: int = 0) -> dict:
    """A ``job_parts`` row for a part file not submitted yet (status ``planned``); the writers of
    part files fill in ``sha256``, ``n_requests`` and ``bytes`` as they write."""
    return {
        "job_id": job_id,
        "part": part,
        "path": str(path),
        "sha256": sha256,
        "n_requests": n_requests,
        "bytes": n_bytes,
        "file_id": None,
        "batch_id": None,
        "create_attempts": 0,
        "retry_of": None,
        "status": "planned",
        "created_at": now(),
    }


def _measure(path: Path) -> tuple[int, int, int]:
    """(non-blank lines, bytes of those lines, longest line in bytes) of a file."""
    n = size = biggest = 0
    with path.open("rb") as fh:
        for line in fh:
            if line.strip():
                n += 1
                size += len(line)
                biggest = max(biggest, len(line))
    return n, size, biggest


def file_sha256(path: Path) -> str:
    """SHA-256 hex of a file, read in 1 MiB chunks."""
    import hashlib

    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save_preset(db: sqlite_utils.Database, name: str, config_: dict | scenarios.ScenarioMix, *, author: str = "") -> int:
    """Store a scenario-mix preset under ``name`` (a new row each time: the history is kept).

    ``config_``: a :class:`~datagen.scenarios.ScenarioMix` (stored as :meth:`~datagen.scenarios.ScenarioMix.to_preset`)
    or that JSON config as a dict; read it back with ``ScenarioMix.from_preset(presets(db)[name]["config"])``.

    Raises:
        InputError: blank name.
        auth.PermissionDenied: roles are in force and ``author`` is not a pm.
    """
    auth.require(db, author, "pm")
    if not name.strip():
        raise InputError("프리셋 이름이 필요합니다")
    with write_transaction(db):
        cfg = config_.to_preset() if isinstance(config_, scenarios.ScenarioMix) else config_
        pk = db.table("presets").insert({"name": name.strip(), "config": dumps(cfg), "created_at": now(), "author": author}).last_pk
        assert pk is not None  # an insert of one row into a table with an integer pk always has one
        return pk


def presets(db: sqlite_utils.Database) -> dict[str, dict]:
    """Latest config per preset name: ``{name: {"config", "created_at", "author", "versions"}}``."""
    out: dict[str, dict] = {}
    for r in db.query("SELECT name, config, created_at, author FROM presets ORDER BY id"):
        versions = out.get(r["name"], {}).get("versions", 0) + 1
        out[r["name"]] = {"config": json.loads(r["config"]), "created_at": r["created_at"], "author": r["author"], "versions": versions}
    return out


def preview_lines(
    kind: str,
    counts: dict[str, int],
    seed: int,
    *,
    model: str,
    temperature: float,
    start_seq: dict[str, int] | None = None,
    sample_per_category: int = 500,
    **options,
) -> tuple[list[dict], dict[str, float]]:
    """Request lines for at most ``sample_per_category`` scenarios per category (for previews and the
    cost estimate of large mixes), and the scale factor per category to the full count."""
    sampled = {c: min(n, sample_per_category) for c, n in counts.items() if n > 0}
    items = scenarios.make_scenarios(kind, sampled, seed, start_seq=start_seq, **{k: v for k, v in options.items() if v})
    lines = [build_request_line(sc, model=model, temperature=temperature) for sc in items]
    return lines, {c: counts[c] / n for c, n in sampled.items()}
