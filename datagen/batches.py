"""Submitting, watching, cancelling and downloading batches; every step recorded in the database.

The seed 001 CLI steps ``submit_batch`` and ``retrieve_batch`` are thin wrappers over
:func:`submit`, :func:`wait` and :func:`retrieve`. Raw output and error lines are stored
(``raw_results``) before anything parses them (ARCHITECTURE.md, "Storage").
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Any

import openai
import sqlite_utils

from . import auth, jobs, judge, settings
from .backend import get_client
from .errors import DatagenError
from .ingest import MAX_REPORTED_ERRORS, batch_origins, ingest_lines
from .store import dumps, insert_raw_lines, loads, now, write_transaction

log = logging.getLogger(__name__)

TERMINAL_STATUSES = ("completed", "failed", "expired", "cancelled")
# Statuses whose finished lines can be downloaded (ARCHITECTURE.md, "Facts": expired and cancelled
# batches still deliver the finished lines).
DOWNLOADABLE_STATUSES = ("completed", "expired", "cancelled")
STATUS_KO = {
    "validating": "검증 중",
    "failed": "실패",
    "in_progress": "처리 중",
    "finalizing": "마무리 중",
    "completed": "완료",
    "expired": "만료",
    "cancelling": "취소 중",
    "cancelled": "취소됨",
}


class BatchError(DatagenError, RuntimeError):
    """A batch step that cannot go on; ``str(err)`` says why in one line."""


def _row_from_batch(b, **extra) -> dict:
    counts = b.request_counts.model_dump() if b.request_counts else {"total": 0, "completed": 0, "failed": 0}
    errors = b.errors.model_dump() if b.errors else None
    return {
        "id": b.id,
        "input_file_id": b.input_file_id,
        "output_file_id": b.output_file_id,
        "error_file_id": b.error_file_id,
        "status": b.status,
        "request_counts": dumps(counts),
        "errors": dumps(errors) if errors else None,
        "updated_at": now(),
        **extra,
    }


def write_status_file(path: str | Path, row: dict) -> None:
    """Write seed 001's ``*_status.json`` (batch id, files, status, counts) for a batch row."""
    Path(path).write_text(
        json.dumps(
            {
                "batch_id": row["id"],
                "job_id": row.get("job_id"),
                "input_file": row.get("input_file"),
                "input_file_id": row.get("input_file_id"),
                "output_file_id": row.get("output_file_id"),
                "error_file_id": row.get("error_file_id"),
                "status": row.get("status"),
                "request_counts": loads(row.get("request_counts"), {}),
                "backend": row.get("backend"),
                "submitted_at": row.get("created_at"),
                "updated_at": row.get("updated_at"),
            },
            ensure_ascii=False,
            indent=2,
        ),
        encoding="utf-8",
    )


def submit(
    db: sqlite_utils.Database,
    input_path: str | Path,
    *,
    status_path: str | Path | None = None,
    client: openai.OpenAI | None = None,
    actor: str | None = None,
) -> dict:
    """Upload a request JSONL and create a batch; idempotent for the same file content.

    If a batch was already created from a file with the same SHA-256 and it has not failed, expired
    or been cancelled, that batch is returned and nothing is sent (a double click or a rerun never
    pays twice). Before every create the provider's batch list is searched for the file's submission
    key (``file:<sha256>``), so a create whose answer was lost in an earlier run is found rather than
    paid for again; when that lookup fails, nothing is created (:class:`BatchError`, rerun later).

    Args:
        input_path: the request JSONL (``generate_batch`` output).
        status_path: where to write the status JSON (default ``<input stem>_status.json`` beside it).
        client: an ``openai.OpenAI`` client (default :func:`backend.get_client`).

    Returns:
        the ``batches`` row as a dict.

    Raises:
        BatchError: the file is missing or empty, or the API refused the upload or the batch.
        InputError: a line of the file is not JSON or has no custom_id (message names file and line).
        auth.PermissionDenied: roles are in force and ``actor`` is not a pm.
    """
    auth.require(db, actor, "pm")
    input_path = Path(input_path)
    if not input_path.exists():
        raise BatchError(f"{input_path}: 파일이 없습니다 (먼저 generate_batch를 실행하세요)")
    custom_ids = jobs.read_custom_ids(input_path)
    if not custom_ids:
        raise BatchError(f"{input_path}: 파일에 요청이 없습니다")
    digest = jobs.file_sha256(input_path)
    status_path = Path(status_path or input_path.with_name(input_path.stem + "_status.json"))
    existing = db.execute(
        "SELECT id FROM batches WHERE input_sha256 = ? AND status NOT IN ('failed', 'cancelled', 'expired') ORDER BY created_at DESC LIMIT 1",
        [digest],
    ).fetchone()
    if existing:
        row = db.table("batches").get(existing[0])
        write_status_file(status_path, row)
        return row
    client = client or get_client()
    job_row = db.execute("SELECT job_id FROM requests WHERE custom_id = ?", [custom_ids[0]]).fetchone()
    job_id = job_row[0] if job_row else None
    try:
        file_id = _upload(client, input_path)
        # lookup before every create (issue 14): an earlier run's create may have succeeded with its
        # answer lost, and nothing in the database says so; the batch list is searched for this
        # file's submission key first, as submit_job does after a recorded attempt
        batch = _create_idempotent(
            client,
            key=f"file:{digest}",
            file_id=file_id,
            metadata={"job_id": job_id or "", "input_file": input_path.name},
            resume=True,
        )
    except openai.OpenAIError as exc:
        raise BatchError(f"{input_path}: 배치를 제출하지 못했습니다: {exc}") from exc
    row = _row_from_batch(
        batch,
        job_id=job_id,
        input_file=str(input_path),
        input_sha256=digest,
        submitted_by=actor or "",
        backend=settings.backend_name(),
        created_at=now(),
        retrieved_at=None,
        status_file=str(status_path),
    )
    with write_transaction(db):
        db.table("batches").insert(row)
    jobs.mark_requests(db, custom_ids, batch_id=batch.id, status="submitted")
    write_status_file(status_path, row)
    return db.table("batches").get(batch.id)


# Seconds to wait before each retry of a batch create that failed in transit (then the batch list
# is checked for our submission key before trying again).
RETRY_BACKOFF_S = (1.0, 2.0, 4.0, 8.0, 16.0)
TRANSIENT_ERRORS = (openai.APITimeoutError, openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError)


def _upload(client: openai.OpenAI, path: Path) -> str:
    """Upload a request file (purpose batch); the SDK retries transient failures. Returns the file id."""
    with path.open("rb") as fh:
        return client.files.create(file=(path.name, fh), purpose="batch").id


def find_submitted(client: openai.OpenAI, key: str, *, pages: int = 5):
    """The batch whose ``metadata.submission_key`` is ``key`` among the newest ``pages`` × 100, or None."""
    page = client.batches.list(limit=100)
    for _ in range(pages):
        for b in page.data:
            if (b.metadata or {}).get("submission_key") == key:
                return b
        if not page.has_next_page():
            return None
        page = page.get_next_page()
    return None


def _create_idempotent(client: openai.OpenAI, *, key: str, file_id: str, metadata: dict, resume: bool = False, on_attempt=None):
    """Create a batch at most once for ``key``.

    The create call itself is never retried blindly: the SDK's retries are off for it, and after a
    timeout, connection error, 429 or 5xx the batch list is searched for ``metadata.submission_key
    == key`` (the create may have succeeded with the answer lost) before trying again, waiting
    :data:`RETRY_BACKOFF_S` between attempts.

    Raises:
        openai.OpenAIError: a non-transient refusal, or still failing after every attempt.
    """
    if resume:
        found = find_submitted(client, key)
        if found:
            log.info("batch create %s: found batch %s from an earlier attempt", key, found.id)
            return found
    once = client.with_options(max_retries=0)
    last: Exception | None = None
    for attempt, wait_s in enumerate((0.0, *RETRY_BACKOFF_S)):
        if attempt:
            log.warning(
                "batch create %s failed in transit (%s: %s); looking it up, then retry %d of %d in %.0f s",
                key,
                type(last).__name__,
                last,
                attempt,
                len(RETRY_BACKOFF_S),
                wait_s,
            )
            time.sleep(wait_s)
            found = find_submitted(client, key)
            if found:
                log.info("batch create %s: the earlier attempt had succeeded (batch %s)", key, found.id)
                return found
        if on_attempt:
            on_attempt()
        try:
            return once.batches.create(
                input_file_id=file_id,
                endpoint=jobs.BATCH_ENDPOINT,
                completion_window="24h",
                metadata={**metadata, "submission_key": key},
            )
        except TRANSIENT_ERRORS as exc:
            last = exc
    log.error("batch create %s: still failing after %d attempts: %s", key, len(RETRY_BACKOFF_S) + 1, last)
    assert last is not None  # the loop only ends after a transient error on every attempt
    raise last


STALE_CLAIM_S = 120.0


def submit_job(
    db: sqlite_utils.Database,
    job_id: str,
    *,
    client: openai.OpenAI | None = None,
    max_requests: int = jobs.MAX_REQUESTS_PER_BATCH,
    max_bytes: int = jobs.MAX_BYTES_PER_BATCH,
    actor: str | None = None,
) -> list[dict]:
    """Split a job under the Batch API limits and submit every part not yet submitted; idempotent.

    Every id is written to the database before the next API call (file id after the upload, each
    create attempt before the create, the batch id after it), so a crash at any point resumes
    without a second batch: a part whose create was attempted is first looked up by its submission
    key (``<job id>:<part>``). A part claimed by another run less than :data:`STALE_CLAIM_S` ago is
    left alone (double click).

    Returns:
        the ``batches`` rows of the job's parts, in part order (parts still being submitted by
        another run are missing).

    Raises:
        BatchError: the API refused a part, or kept failing after the retries.
        auth.PermissionDenied: roles are in force and ``actor`` is not a pm.
    """
    auth.require(db, actor, "pm")
    client = client or get_client()
    parts = jobs.split_job(db, job_id, max_requests=max_requests, max_bytes=max_bytes)
    for part in parts:
        if part["batch_id"]:
            continue
        with write_transaction(db):
            claimed = db.execute(
                "UPDATE job_parts SET status = 'submitting', created_at = ? WHERE job_id = ? AND part = ? AND batch_id IS NULL "
                "AND (status != 'submitting' OR created_at < ?)",
                [now(), job_id, part["part"], _ago(STALE_CLAIM_S)],
            ).rowcount
        if not claimed:
            continue
        _submit_part(db, client, job_id, part["part"], actor=actor)
    return [
        db.table("batches").get(r[0]) for r in db.execute("SELECT batch_id FROM job_parts WHERE job_id = ? AND batch_id IS NOT NULL ORDER BY part", [job_id])
    ]


def _ago(seconds: float) -> str:
    from datetime import datetime, timedelta

    return (datetime.now(UTC) - timedelta(seconds=seconds)).isoformat(timespec="microseconds")


def _submit_part(db: sqlite_utils.Database, client: openai.OpenAI, job_id: str, part_no: int, *, actor: str | None = None) -> dict:
    # Each write below must be committed before the next API call (the file id before the create,
    # each create attempt before it is made), so that a crash never leaves a paid batch unknown.
    # store.write_transaction joins a transaction that is already open instead of committing it,
    # so running inside one would hold these writes back: refuse (a bug in the caller).
    if db.conn.in_transaction:
        raise RuntimeError("_submit_part must not run inside an open transaction: its writes are committed before each API call")
    part = next(db.query("SELECT * FROM job_parts WHERE job_id = ? AND part = ?", [job_id, part_no]))
    path = Path(part["path"])
    key = f"{job_id}:{part_no}"
    try:
        if not part["file_id"]:
            part["file_id"] = _upload(client, path)
            with write_transaction(db):
                db.execute("UPDATE job_parts SET file_id = ? WHERE job_id = ? AND part = ?", [part["file_id"], job_id, part_no])

        def attempted() -> None:
            with write_transaction(db):
                db.execute("UPDATE job_parts SET create_attempts = create_attempts + 1 WHERE job_id = ? AND part = ?", [job_id, part_no])

        batch = _create_idempotent(
            client,
            key=key,
            file_id=part["file_id"],
            metadata={"job_id": job_id, "part": str(part_no)},
            resume=part["create_attempts"] > 0,
            on_attempt=attempted,
        )
    except openai.OpenAIError as exc:
        with write_transaction(db):
            db.execute("UPDATE job_parts SET status = 'error' WHERE job_id = ? AND part = ?", [job_id, part_no])
        raise BatchError(f"{path}: 배치를 제출하지 못했습니다: {exc}") from exc
    row = _row_from_batch(
        batch,
        job_id=job_id,
        input_file=str(path),
        input_sha256=part["sha256"],
        backend=settings.backend_name(),
        submitted_by=actor or "",
        created_at=now(),
        retrieved_at=None,
        status_file=None,
    )
    with write_transaction(db):
        db.table("batches").upsert(row, pk="id")
        db.execute("UPDATE job_parts SET batch_id = ?, status = 'submitted' WHERE job_id = ? AND part = ?", [batch.id, job_id, part_no])
    jobs.mark_requests(db, jobs.read_custom_ids(path), batch_id=batch.id, status="submitted")
    return row


def refresh(db: sqlite_utils.Database, batch_id: str, *, client: openai.OpenAI | None = None) -> dict:
    """Fetch a batch's status from the API, store it, rewrite its status file; returns the row.

    Raises:
        BatchError: the API does not know the batch or cannot be reached.
    """
    client = client or get_client()
    try:
        b = client.batches.retrieve(batch_id)
    except openai.OpenAIError as exc:
        raise BatchError(f"배치 {batch_id}: 상태를 확인하지 못했습니다: {exc}") from exc
    row = _row_from_batch(b)
    with write_transaction(db):
        db.table("batches").upsert(row, pk="id")
    full = db.table("batches").get(batch_id)
    if full.get("status_file"):
        write_status_file(full["status_file"], full)
    return full


def wait(
    db: sqlite_utils.Database,
    batch_id: str,
    *,
    poll_interval: float = 30.0,
    client: openai.OpenAI | None = None,
    on_update: Callable[[dict], None] | None = None,
    timeout: float | None = None,
    first_interval: float | None = None,
) -> dict:
    """Poll until the batch reaches a terminal status (completed, failed, expired, cancelled).

    Args:
        poll_interval: seconds between status checks (the longest wait between two checks).
        first_interval: poll sooner at first: the first wait is this many seconds and each next one
            doubles up to ``poll_interval`` (a small batch that finishes in a second is seen at once;
            a long one is still checked every ``poll_interval``). ``None``: ``poll_interval`` throughout.
        on_update: called with the row after every check (progress printing).
        timeout: give up after this many seconds (``None``: wait as long as it takes).

    Raises:
        BatchError: status check failed, or ``timeout`` passed.
    """
    client = client or get_client()
    started = time.monotonic()
    interval = poll_interval if first_interval is None else min(first_interval, poll_interval)
    while True:
        row = refresh(db, batch_id, client=client)
        if on_update:
            on_update(row)
        if row["status"] in TERMINAL_STATUSES:
            return row
        if timeout is not None and time.monotonic() - started > timeout:
            raise BatchError(f"배치 {batch_id}: {timeout:.0f}초가 지나도 아직 {row['status']} ({STATUS_KO.get(row['status'], '')}) 상태입니다")
        time.sleep(interval)
        interval = min(poll_interval, interval * 2)


def cancel(db: sqlite_utils.Database, batch_id: str, *, client: openai.OpenAI | None = None, actor: str | None = None) -> dict:
    """Ask the API to cancel a batch; returns the refreshed row.

    Raises:
        BatchError: the batch is already finished or the API refused.
        auth.PermissionDenied: roles are in force and ``actor`` is not a pm.
    """
    auth.require(db, actor, "pm")
    client = client or get_client()
    try:
        client.batches.cancel(batch_id)
    except openai.OpenAIError as exc:
        raise BatchError(f"배치 {batch_id}: 취소하지 못했습니다: {exc}") from exc
    return refresh(db, batch_id, client=client)


def _download_lines(client: openai.OpenAI, file_id: str):
    """Stream a file's lines (constant memory): yields ``(line_no, text)``, line numbers from 1."""
    with client.files.with_streaming_response.content(file_id) as resp:
        no = 0
        for line in resp.iter_lines():
            if line.strip():
                no += 1
                yield no, line


def retrieve(
    db: sqlite_utils.Database,
    batch_id: str,
    *,
    client: openai.OpenAI | None = None,
    result_path: str | Path | None = None,
    ingest: bool = False,
) -> dict:
    """Download a finished batch's output and error files into ``raw_results``; idempotent.

    Also writes seed 001's ``result_lst.json`` (the output lines as one JSON list) when
    ``result_path`` is given. With ``ingest``, the lines are parsed, checked and stored as samples
    while they download (:func:`ingest.ingest_lines`: each chunk is committed raw before it is
    parsed); without it, :func:`ingest.preprocess` does that later (seed 001's separate step).

    Returns:
        ``{"batch_id", "status", "output_lines", "error_lines", "new_lines"}``, plus with ``ingest``
        ``"parsed": {"read", "imported", "failed", "errors"}`` for the lines parsed now (both files),
        plus ``"judged"`` when judge verdicts were among them (:mod:`datagen.judge`).

    Raises:
        BatchError: the batch is not in a downloadable status, or a download failed.
    """
    client = client or get_client()
    row = refresh(db, batch_id, client=client)
    if row["status"] not in DOWNLOADABLE_STATUSES:
        raise BatchError(f"배치 {batch_id}은(는) {row['status']} ({STATUS_KO.get(row['status'], '')}) 상태입니다: 아직 받을 결과가 없습니다")
    summary: dict[str, Any] = {"batch_id": batch_id, "status": row["status"], "output_lines": 0, "error_lines": 0, "new_lines": 0}
    if ingest:
        summary["parsed"] = {"read": 0, "imported": 0, "failed": 0, "errors": []}
    try:
        for key, file_id in (("output", row["output_file_id"]), ("error", row["error_file_id"])):
            if not file_id:
                continue
            origin = f"batch:{batch_id}:{key}"
            count = "SELECT COUNT(*) FROM raw_results WHERE origin = ?"
            before = db.execute(count, [origin]).fetchone()[0]
            if ingest:
                got = ingest_lines(db, origin, _download_lines(client, file_id))
                for k in ("read", "imported", "failed"):
                    summary["parsed"][k] += got[k]
                if got.get("judged"):  # a judge job's verdicts (datagen.judge)
                    summary["parsed"]["judged"] = summary["parsed"].get("judged", 0) + got["judged"]
                summary["parsed"]["errors"].extend(got["errors"][: MAX_REPORTED_ERRORS - len(summary["parsed"]["errors"])])
            else:
                insert_raw_lines(db, origin, _download_lines(client, file_id))
            summary[f"{key}_lines"] = db.execute(count, [origin]).fetchone()[0]
            summary["new_lines"] += summary[f"{key}_lines"] - before
    except openai.OpenAIError as exc:
        raise BatchError(f"배치 {batch_id}: 결과를 받지 못했습니다: {exc}") from exc
    if result_path:
        _write_result_list(
            Path(result_path),
            (
                r[0]
                for r in db.execute(
                    "SELECT l.line FROM raw_results r JOIN raw_lines l ON l.id = r.id WHERE r.origin = ? ORDER BY r.line_no",
                    [f"batch:{batch_id}:output"],
                )
            ),
        )
    # requests of this batch still marked submitted are now returned; a request already parsed or
    # failed (a second retrieve), or resubmitted in another batch since, keeps its status
    with write_transaction(db):
        db.execute(
            "UPDATE requests SET status = 'returned' WHERE batch_id = ? AND status = 'submitted' AND EXISTS "
            "(SELECT 1 FROM raw_results r WHERE r.custom_id = requests.custom_id AND r.origin IN (?, ?))",
            [batch_id, *batch_origins(batch_id)],
        )
    with write_transaction(db):
        db.table("batches").update(batch_id, {"retrieved_at": now()})
    return summary


def _write_result_list(path: Path, texts) -> None:
    """Write output lines as one JSON array (seed 001's ``result_lst.json``), streaming."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        fh.write("[\n")
        first = True
        for text in texts:
            fh.write(("" if first else ",\n") + text)
            first = False
        fh.write("\n]\n")


def load_status_file(path: str | Path) -> dict:
    """Read a ``*_status.json`` written by :func:`submit`.

    Raises:
        BatchError: missing file, not JSON, or no ``batch_id``.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BatchError(f"{path}: 상태 파일이 없습니다 (먼저 submit_batch를 실행하세요)") from None
    except json.JSONDecodeError as exc:
        raise BatchError(f"{path}:{exc.lineno}: 올바른 JSON이 아닙니다 ({exc.msg})") from None
    if not isinstance(data, dict) or not data.get("batch_id"):
        raise BatchError(f"{path}: 상태 파일에 batch_id가 없습니다")
    return data


def list_batches(db: sqlite_utils.Database) -> list[dict]:
    """All batch rows, newest first, with ``request_counts`` decoded and the job's kind attached."""
    out = []
    for d in db.query(
        "SELECT b.*, j.kind AS kind, j.model AS model FROM batches b LEFT JOIN jobs j ON j.id = b.job_id ORDER BY b.created_at DESC, b.rowid DESC"
    ):
        d["request_counts"] = loads(d["request_counts"], {"total": 0, "completed": 0, "failed": 0})
        d["errors"] = loads(d["errors"])
        out.append(d)
    return out


def retry_candidates(db: sqlite_utils.Database, job_id: str) -> list[str]:
    """custom_ids of a job to resubmit: their line failed (HTTP error, expired, cancelled,
    unparseable) or never came back from a finished batch. Requests whose results are downloaded
    but not parsed yet are not candidates (run preprocess first)."""
    return [
        r[0]
        for r in db.execute(
            "SELECT q.custom_id FROM requests q LEFT JOIN batches b ON b.id = q.batch_id WHERE q.job_id = ? AND "
            "(q.status = 'failed' OR (q.status = 'submitted' AND b.status IN ('completed', 'expired', 'cancelled', 'failed') "
            "AND (b.retrieved_at IS NOT NULL OR b.status = 'failed'))) ORDER BY q.custom_id",
            [job_id],
        )
    ]


def retry_failed(db: sqlite_utils.Database, job_id: str, *, client: openai.OpenAI | None = None, actor: str | None = None) -> dict | None:
    """Resubmit exactly the failed, expired or unparseable requests of a job as a new batch (a
    judge job's requests are rebuilt by :func:`datagen.judge.request_line_for`).

    The new part (``<job input stem>_retry<N>.jsonl``) keeps the custom_ids, is linked to the
    batches it retries (``job_parts.retry_of``), and each request's ``attempt`` goes up by one.

    Returns:
        the new batch row, or ``None`` when nothing needs a retry.

    Raises:
        BatchError: unknown job, or the submission failed (the part stays recorded for a resume).
        auth.PermissionDenied: roles are in force and ``actor`` is not a pm.
    """
    auth.require(db, actor, "pm")
    job = db.execute("SELECT input_file, model, temperature, kind FROM jobs WHERE id = ?", [job_id]).fetchone()
    if not job:
        raise BatchError(f"작업 {job_id}이(가) 없습니다")
    ids = retry_candidates(db, job_id)
    if not ids:
        return None
    client = client or get_client()
    part_no = (db.execute("SELECT MAX(part) FROM job_parts WHERE job_id = ?", [job_id]).fetchone()[0] or 0) + 1
    src = Path(job[0])
    path = src.with_name(f"{src.stem}_retry{part_no:03d}.jsonl")
    old_batches = sorted(
        {r[0] for r in db.execute(f"SELECT DISTINCT batch_id FROM requests WHERE custom_id IN ({','.join('?' * len(ids))}) AND batch_id IS NOT NULL", ids)}
    )
    with path.open("w", encoding="utf-8") as fh:
        for cid, scenario in db.execute(f"SELECT custom_id, scenario FROM requests WHERE custom_id IN ({','.join('?' * len(ids))}) ORDER BY custom_id", ids):
            if job[3] == judge.JUDGE_KIND:  # a judge request: the same question about the same version of the sample
                line = judge.request_line_for(db, {"custom_id": cid, "scenario": scenario}, job[1])
            else:
                line = jobs.build_request_line(loads(scenario), model=job[1], temperature=job[2])
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
    with write_transaction(db):
        db.table("job_parts").insert(
            {
                "job_id": job_id,
                "part": part_no,
                "path": str(path),
                "sha256": jobs.file_sha256(path),
                "n_requests": len(ids),
                "bytes": path.stat().st_size,
                "file_id": None,
                "batch_id": None,
                "create_attempts": 0,
                "retry_of": ",".join(old_batches),
                "status": "submitting",
                "created_at": now(),
            }
        )
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            db.execute(f"UPDATE requests SET attempt = attempt + 1 WHERE custom_id IN ({','.join('?' * len(chunk))})", chunk)
    return _submit_part(db, client, job_id, part_no, actor=actor)


TOP_UP_SEED_MODULUS = 100_000
"""A top-up job's default seed is the clock in whole seconds modulo this (a fresh seed per top-up, so
the extra requests are not the same scenarios as the job they top up; small enough to read)."""


def top_up_seed(now_ts: float | None = None) -> int:
    """The default seed of a top-up job: ``int(now_ts) % TOP_UP_SEED_MODULUS`` (``now_ts`` in Unix
    seconds, default the current time)."""
    return int(time.time() if now_ts is None else now_ts) % TOP_UP_SEED_MODULUS


def top_up(
    db: sqlite_utils.Database,
    *,
    kind: str,
    counts: dict[str, int],
    jobs_seen: int,
    operator: str,
    backend: str = "",
    seed: int | None = None,
    client: openai.OpenAI | None = None,
) -> dict:
    """Create and submit the top-up job that asks for ``counts`` more requests of ``kind``.

    ``counts`` is what the person was shown (:func:`datagen.yields.top_up_counts`); ``jobs_seen`` the
    number of jobs on their screen. Both make the idempotency key ``topup:<kind>:<counts>:<jobs_seen>``:
    a double click or rerun on the same screen returns the first job instead of a second one.

    Args:
        seed: scenario seed; default :func:`top_up_seed` (the clock).

    Returns:
        the job row (:func:`datagen.jobs.create_job`) plus ``parts``: the submitted batch rows
        (:func:`submit_job`).

    Raises:
        InputError: bad kind or category, or no request at all (``create_job``).
        auth.PermissionDenied: roles are in force and ``operator`` is not a pm.
        BatchError: the batch could not be submitted.
    """
    job = jobs.create_job(
        db,
        kind=kind,
        counts=counts,
        seed=top_up_seed() if seed is None else seed,
        operator=operator,
        backend=backend,
        idempotency_key=f"topup:{kind}:{sorted(counts.items())}:{jobs_seen}",
    )
    parts = submit_job(db, job["id"], actor=operator, client=client)
    return {**job, "parts": parts}


def eta_seconds(row: dict, *, now_ts: float | None = None) -> float | None:
    """Seconds left for an ``in_progress`` batch at the rate so far (requests finished since the
    batch was created), or ``None`` when unknown (not started, nothing finished, or finished).

    Args:
        row: a :func:`list_batches` row (``status``, ``created_at`` ISO time, decoded ``request_counts``).
    """
    from datetime import datetime

    c = row.get("request_counts") or {}
    total, done = c.get("total") or 0, (c.get("completed") or 0) + (c.get("failed") or 0)
    if row.get("status") != "in_progress" or not done or done >= total:
        return None
    try:
        started = datetime.fromisoformat(row["created_at"]).timestamp()
    except (TypeError, ValueError, KeyError):
        return None
    elapsed = (now_ts if now_ts is not None else datetime.now(UTC).timestamp()) - started
    return max(0.0, elapsed / done * (total - done))


def job_summary(db: sqlite_utils.Database) -> list[dict]:
    """Jobs, newest first: id, kind, model, seed, created_at, requests, parts, batches and their
    statuses, requests to retry (``to_retry``), rejected samples not regenerated yet
    (``to_regenerate``: :func:`jobs.rejected_to_regenerate`) and the uids the job's requests
    regenerate (``regenerates``)."""
    out = []
    for j in db.query("SELECT id, kind, model, seed, created_at, operator FROM jobs ORDER BY created_at DESC"):
        j["requests"] = db["requests"].count_where("job_id = ?", [j["id"]])
        statuses = [r[0] for r in db.execute("SELECT status FROM batches WHERE job_id = ? ORDER BY created_at", [j["id"]])]
        waiting = db.execute("SELECT COUNT(*) FROM job_parts WHERE job_id = ? AND batch_id IS NULL", [j["id"]]).fetchone()[0]
        statuses += [None] * waiting  # parts not submitted yet
        j["parts"] = len(statuses)
        j["statuses"] = statuses
        j["to_retry"] = len(retry_candidates(db, j["id"]))
        j["to_regenerate"] = sum(len(u) for u in jobs.rejected_to_regenerate(db, kind=j["kind"], job_id=j["id"]).values())
        j["regenerates"] = db.execute("SELECT COUNT(*) FROM requests WHERE job_id = ? AND regenerates IS NOT NULL", [j["id"]]).fetchone()[0]
        out.append(j)
    return out
