"""Turning stored raw lines into Dialogues: batch output (preprocess) and files made elsewhere (import).

Every line is first stored verbatim in ``raw_results`` (:func:`store.insert_raw_lines`), then parsed
once here. A line that is not a dialogue is marked ``failed`` with a one-line reason and counted:
nothing is skipped silently (DESIGN.md, post-mortems: the original regex parser dropped samples
without a trace).

Accepted shapes, per line:

- a Batch API output line ``{"custom_id", "response": {"status_code", "body"}, "error"}`` whose body
  is a ``chat.completion`` answering with the generator schema (or a JSON ``{"messages": [...]}``);
  HTTP errors, ``error`` objects (expired, cancelled), refusals, ``finish_reason: "length"``, plain
  chat answers and other bodies (``/v1/responses``) are failures with a reason;
- a seed 001 ``dataset.jsonl`` record (Qwen tags in content);
- an OpenAI / Hugging Face messages record ``{"messages": [...], "tools": [...]}``;
- a bare generator answer ``{"turns": [...]}``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import sqlite_utils

from . import config, jobs
from .dialogue import Dialogue, FormatError, from_generator_output, from_seed_record, to_seed_record
from .quality import check_samples
from .store import dumps, index_for_search, insert_raw_lines, loads, now

MAX_REPORTED_ERRORS = 100
PARALLEL_CHECKS_FROM = 5_000  # samples from which the checks run in 2 processes (process start-up ~1 s)


def _body_error(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("message") or body["error"].get("code") or "error")
    return "no error message"


def _batch_line_dialogue(obj: dict, request: dict | None) -> tuple[Dialogue, dict | None]:
    """Dialogue and usage of one Batch API output line; raises FormatError with the reason."""
    resp = obj.get("response")
    err = obj.get("error")
    if not isinstance(resp, dict):
        if isinstance(err, dict):
            raise FormatError(f"batch error {err.get('code') or ''}: {err.get('message') or 'no message'}".strip())
        raise FormatError("batch line has neither a response nor an error")
    status = resp.get("status_code")
    body = resp.get("body")
    if status != 200:
        raise FormatError(f"HTTP {status}: {_body_error(body)}")
    if not isinstance(body, dict):
        raise FormatError("response body is not an object")
    if body.get("object") == "response" or ("output" in body and "choices" not in body):
        raise FormatError("unsupported body: a /v1/responses answer (object=response), expected chat.completion")
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices:
        raise FormatError(f"unsupported body (object={body.get('object')!r}): no choices")
    choice = choices[0] or {}
    msg = choice.get("message") or {}
    if msg.get("refusal"):
        raise FormatError(f"model refused: {str(msg['refusal'])[:120]}")
    if choice.get("finish_reason") == "length":
        raise FormatError("answer cut off at the token limit (finish_reason=length)")
    content = msg.get("content")
    if not content:
        if msg.get("tool_calls"):
            raise FormatError("a single assistant tool call, not a dialogue")
        raise FormatError("empty answer")
    fields = _request_fields(obj.get("custom_id"), request)
    fields["model"] = body.get("model")
    try:
        data = json.loads(content)
    except json.JSONDecodeError:
        preview = " ".join(str(content).split())[:60]
        raise FormatError(f"plain chat answer, not a dialogue: {preview!r}") from None
    if isinstance(data, dict) and "turns" in data:
        d = from_generator_output(data, tools=config.TOOLS, **fields)
    elif isinstance(data, dict) and "messages" in data:
        d = from_seed_record(data, **fields)
    else:
        raise FormatError("JSON answer is not a dialogue (no 'turns' or 'messages')")
    return d, body.get("usage")


def _request_fields(custom_id: str | None, request: dict | None) -> dict:
    """Dialogue fields known from the request (scenario) or, failing that, from the custom_id."""
    fields: dict[str, Any] = {"custom_id": custom_id}
    scenario = loads(request["scenario"], {}) if request else {}
    parsed = jobs.parse_custom_id(custom_id or "")
    if request:
        fields.update(kind=request["kind"], category=request["category"])
    elif parsed:
        fields.update(kind=parsed[0], category=parsed[1])
    if scenario:
        fields.update(system_prompt=scenario.get("system_prompt", ""), dates=scenario.get("date", ""))
    return fields


def parse_record(obj: Any, request: dict | None = None) -> tuple[Dialogue, dict | None]:
    """Parse one decoded line of any accepted shape (module docstring) into ``(Dialogue, usage)``.

    Raises:
        FormatError: the reason the line is not a dialogue.
    """
    if not isinstance(obj, dict):
        raise FormatError(f"line is a JSON {type(obj).__name__}, not an object")
    if "custom_id" in obj and ("response" in obj or "error" in obj):
        return _batch_line_dialogue(obj, request)
    if "custom_id" in obj and "body" in obj and "method" in obj:
        raise FormatError("a batch request line (input), not an output line")
    if "messages" in obj:
        return from_seed_record(obj), None
    if "turns" in obj:
        return from_generator_output(obj, tools=config.TOOLS), None
    keys = ", ".join(sorted(map(str, obj))[:8]) or "none"
    raise FormatError(f"unknown record shape (keys: {keys})")


def process_raw(db: sqlite_utils.Database, *, origin_like: str, source: str | None = None) -> dict:
    """Parse every ``new`` raw line whose origin matches ``origin_like`` (SQL LIKE); store samples.

    Returns:
        ``{"read": n, "imported": n, "failed": n, "errors": [{"line": i, "origin": o, "reason": r}]}``
        for the lines processed now (errors capped at :data:`MAX_REPORTED_ERRORS`).
    """
    summary: dict[str, Any] = {"read": 0, "imported": 0, "failed": 0, "errors": []}
    new_uids: list[str] = []
    while True:
        rows = list(
            db.query(
                "SELECT id, origin, line_no, custom_id, line FROM raw_results WHERE status = 'new' AND origin LIKE ? "
                "ORDER BY id LIMIT 1000",
                [origin_like],
            )
        )
        if not rows:
            break
        ids = [r["custom_id"] for r in rows if r["custom_id"]]
        requests = {
            r["custom_id"]: r
            for r in db.query(
                f"SELECT * FROM requests WHERE custom_id IN ({','.join('?' * len(ids))})", ids
            )
        } if ids else {}
        samples, updates, req_status, texts = [], [], {}, []
        seen_uids: set[str] = set()
        parsed: list[tuple[dict, Dialogue | None, dict | None, str | None]] = []
        for r in rows:
            summary["read"] += 1
            try:
                obj = json.loads(r["line"])
            except json.JSONDecodeError as exc:
                reason = f"not valid JSON ({exc.msg} at char {exc.pos})"
                d = None
            else:
                try:
                    d, usage = parse_record(obj, requests.get(r["custom_id"]))
                    reason = None
                except (FormatError, ValueError) as exc:
                    d, reason = None, str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            parsed.append((r, d, usage if d is not None else None, reason))
        known = _existing_uids(db, [d.uid for _, d, _, _ in parsed if d is not None])
        for r, d, usage, reason in parsed:
            if d is not None:
                d.source = source or r["origin"]
                if d.uid in seen_uids or d.uid in known:
                    d, reason = None, f"uid {d.uid} is already in the database"
            if d is None:
                summary["failed"] += 1
                if len(summary["errors"]) < MAX_REPORTED_ERRORS:
                    summary["errors"].append({"line": r["line_no"], "origin": r["origin"], "reason": reason})
                updates.append({"id": r["id"], "status": "failed", "reason": reason, "sample_uid": None})
                if r["custom_id"]:
                    req_status.setdefault(r["custom_id"], "failed")
                continue
            seen_uids.add(d.uid)
            summary["imported"] += 1
            samples.append(
                (d.uid, d.custom_id, d.kind, d.category, d.source, d.model, d.model_dump_json(),
                 dumps(usage) if usage else None, d.content_hash(), now())
            )
            texts.append((d.uid, "\n".join(t.content for t in d.turns if t.role != "tool")))
            updates.append({"id": r["id"], "status": "parsed", "reason": None, "sample_uid": d.uid})
            if r["custom_id"]:
                req_status[r["custom_id"]] = "parsed"
        with db.conn:
            db.conn.executemany(
                "INSERT INTO samples (uid, custom_id, kind, category, source, model, dialogue, usage, content_hash, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                samples,
            )
            index_for_search(db, texts)
            db.conn.executemany(
                "UPDATE raw_results SET status = ?, reason = ?, sample_uid = ? WHERE id = ?",
                [(u["status"], u["reason"], u["sample_uid"], u["id"]) for u in updates],
            )
            for status in ("parsed", "failed"):
                cids = [c for c, s in req_status.items() if s == status and c in requests]
                for i in range(0, len(cids), 500):
                    chunk = cids[i : i + 500]
                    db.execute(
                        f"UPDATE requests SET status = ? WHERE custom_id IN ({','.join('?' * len(chunk))})",
                        [status, *chunk],
                    )
        new_uids.extend(row[0] for row in samples)
    if new_uids:  # the quality gate runs as results arrive: once per ingest, on both CPUs when it pays
        check_samples(db, uids=new_uids, workers=2 if len(new_uids) >= PARALLEL_CHECKS_FROM else 1)
    return summary


def _existing_uids(db: sqlite_utils.Database, uids: list[str]) -> set[str]:
    """Which of these uids are already stored (one query per 500)."""
    found: set[str] = set()
    for i in range(0, len(uids), 500):
        chunk = uids[i : i + 500]
        found.update(r[0] for r in db.execute(f"SELECT uid FROM samples WHERE uid IN ({','.join('?' * len(chunk))})", chunk))
    return found


def preprocess(db: sqlite_utils.Database, *, batch_id: str | None = None) -> dict:
    """Parse all downloaded, not yet parsed batch lines (of one batch, or all); see :func:`process_raw`."""
    like = f"batch:{batch_id}:%" if batch_id else "batch:%"
    return process_raw(db, origin_like=like)


def _read_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Non-blank lines of a file as ``(line_no, text)``; undecodable bytes become U+FFFD (kept, then fail)."""
    with path.open("rb") as fh:
        for no, raw in enumerate(fh, 1):
            text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if text.strip():
                yield no, text


def import_file(db: sqlite_utils.Database, path: str | Path) -> dict:
    """Import dialogues made elsewhere (shapes in the module docstring) from a JSONL file.

    Each line is stored raw under origin ``import:<absolute path>``, then parsed; importing the same
    file again adds nothing.

    Returns:
        ``{"read", "imported", "failed", "errors": [{"line", "reason"}]}`` for this file.

    Raises:
        OSError: the file cannot be opened or read.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    origin = f"import:{path.resolve()}"
    insert_raw_lines(db, origin, _read_lines(path))
    summary = process_raw(db, origin_like=origin, source=f"import:{path.name}")
    for e in summary["errors"]:
        e.pop("origin", None)
    return summary


def iter_dialogues(db: sqlite_utils.Database, *, kind: str | None = None, where: str = "", params: list | None = None) -> Iterator[Dialogue]:
    """Stored samples as Dialogues, in insertion order (optionally one kind, plus an SQL filter)."""
    clauses, args = [], []
    if kind:
        clauses.append("kind = ?")
        args.append(kind)
    if where:
        clauses.append(where)
        args.extend(params or [])
    sql = "SELECT dialogue FROM samples" + (" WHERE " + " AND ".join(clauses) if clauses else "") + " ORDER BY rowid"
    for (text,) in db.execute(sql, args):
        yield Dialogue.model_validate_json(text)


def write_dataset_jsonl(db: sqlite_utils.Database, path: str | Path, *, kind: str = "train") -> int:
    """Write all samples of ``kind`` as seed 001 ``dataset.jsonl`` records; returns the count."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for d in iter_dialogues(db, kind=kind):
            fh.write(json.dumps(to_seed_record(d), ensure_ascii=False) + "\n")
            n += 1
    return n
