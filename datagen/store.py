"""The SQLite store (sqlite-utils, WAL): jobs, batches, requests, raw lines, samples, reviews, publishes.

ARCHITECTURE.md, "Storage". Schema changes are named, ordered migrations recorded in ``_migrations``
(the simonw/llm pattern), kept in :mod:`datagen.migrations` (:func:`migrate` is re-exported here). Every
write that must not be half-done runs in :func:`write_transaction` (``BEGIN IMMEDIATE``; not sqlite3's
``with db.conn:``, which under sqlite-utils 4 makes nothing atomic: see there); connections use
``busy_timeout`` and WAL so several annotators and the batch poller can write at once.

Tables:
    jobs(id, kind, created_at, counts, seed, model, temperature, params, input_file, operator, backend)
    batches(id, job_id, input_file, input_sha256, input_file_id, output_file_id, error_file_id, status,
            request_counts, errors, backend, created_at, updated_at, retrieved_at, status_file)
    requests(custom_id, job_id, batch_id, kind, category, scenario, status, attempt, regenerates)
        regenerates: uid of the rejected sample this request replaces (datagen.jobs.regenerate_rejected)
    raw_results(id, origin, line_no, custom_id, status, reason, sample_uid, received_at, content_key)
        origin = ``batch:<id>:output|error`` or ``import:<path>``, always compared exactly (never
        with LIKE: ``_``, ``%`` and letter case in a file name must not join two files); (origin,
        line_no) is unique, so storing the same file twice adds nothing. status: ``new`` →
        ``parsed`` | ``failed`` (a line that cannot even be stored as text, e.g. invalid UTF-8, is
        stored ``failed`` with its reason at once). content_key: SHA-256 of a parsed imported line's
        text, so the same line imported from another file is not stored as a second sample.
    raw_lines(id, line)   -- the text of each raw line as received (id = raw_results.id), never
        rewritten: kept apart so that marking a line parsed rewrites a small row, not 4.6 KB
    samples(uid, custom_id, kind, category, source, model, dialogue, usage, content_hash, created_at, toolset)
        dialogue: ``Dialogue.model_dump_json()``; when ``toolset`` is set, without its ``tools`` key
        (the tool list is stored once in ``toolsets``). Read dialogues through the
        ``sample_dialogues`` view, which puts the tools back: see :data:`SAMPLE_DIALOGUE_SQL`.
    toolsets(hash, tools, created_at)   -- each distinct tool list once (hash = SHA-256 of its JSON)
    reviews(id, uid, annotator, decision, reasons, note, edited, seconds, created_at, undoes, revision_id,
            adjudication, findings_seen)  -- append-only
    publishes(id, target, repo_id, revision, record_hash, format, counts, card, path, created_at, operator)
    publish_items(publish_id, uid, split)
    findings(id, uid, check_id, severity, turn, reason, message, created_at, source)   -- per sample, replaced on
        re-check by their own writer: source ``rule`` (datagen.quality) or ``judge:<model>`` (datagen.judge)
    judge_verdicts(id, uid, model, custom_id, raw_id, revision_id, verdict, reason, evidence, turns, response_model,
                   usage, created_at)   -- every judge answer, append-only (datagen.judge)
    duplicates(uid, cluster, kind, similarity)     -- kind exact | near; cluster = representative uid
    contamination(uid, gold_uid, method, overlap, band, created_at)   -- band excluded | flagged
    revisions(id, uid, annotator, dialogue, note, seconds, created_at)   -- edits, append-only
    sample_state(uid, seq, kind, category, batch_id, job_id, state, rank, decision, n_votes, revision_id,
                 accepted_revision_id, updated_at, checked_at, accepted_review_id)   -- derived from reviews (datagen.review);
                 checked_at: when the quality gate last ran on the sample (a small row, cheap to update)
    annotator_decisions(uid, annotator, decision, review_id)   -- each annotator's effective decision
    samples_fts(text)   -- contentless FTS5 (unicode61, prefix queries) over user and assistant turn
                           texts; rowid = samples.rowid (= sample_state.seq); written by ingest
                           (store.index_for_search) and, for samples stored before, by migration 009
    job_parts(job_id, part, path, sha256, n_requests, bytes, file_id, batch_id, create_attempts,
              retry_of, status, created_at)   -- a job's input split under the Batch API limits
    presets(id, name, config, created_at, author)   -- scenario-mix presets; newest row per name wins
    roles(user, role, granted_by, granted_at); role_log(id, user, role, action, actor, at)   -- datagen.auth
    sample_state.lane_rank / approved_by (migration 013): the triage lane order (datagen.triage) and
        ``lot:<id>`` when an audited lot decided the sample (datagen.audit)
    audit_params(id, p0, confidence, allowed_defects, set_by, set_at)   -- newest row in force
    lots(id, job_id, category, kind, size, sample_size, p0, confidence, allowed_defects, seed, state,
         created_by, created_at, updated_at)   -- state auditing | failed | approved | revoked
    lot_items(lot_id, uid, draw, held)   -- members; draw = position in the audit sample (NULL: not drawn)
    lot_events(id, lot_id, action, actor, figures, note, at)   -- start / fail / approve / revoke, append-only
    lot_decisions(id, uid, lot_id, action, approved_by, revision_id, actor, figures, created_at)
        -- a lot's approval of a sample and its revocation, append-only
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any, AnyStr

import sqlite_utils

from . import settings
from .fastjson import loads as fast_loads  # for _peek_custom_id
from .migrations import MIGRATIONS, SAMPLE_DIALOGUE_SQL, STATE_COLUMNS, TURNS_KEY, migrate, state_values  # noqa: F401 (re-exported)

SQLITE_BUSY_TIMEOUT_S = 30.0

PAGE_SIZE = 32768
"""Page size of new databases (bytes). A stored sample (~5 KB) and a raw batch line (~4.4 KB) each
spilled over two 4 KB pages; at 16 KB ingest of 100,000 lines went from 38.4 s to 34.3 s, and at
32 KB the ingest's writer needs ~16% less CPU again (fewer pages per commit, WAL frame and
checkpoint write: BENCHMARKS.md, "Batches at scale" and "Ingest without statement journals").
Existing databases keep theirs (it is fixed once in WAL mode)."""


def now() -> str:
    """The current UTC time as ISO-8601 with microseconds (``2026-11-21T12:00:00.000000+00:00``)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


STATE_INSERT_SQL = f"INSERT OR IGNORE INTO sample_state ({STATE_COLUMNS}, checked_at) SELECT {state_values('VALUES')}, column7 FROM ({{values}})"
"""The ``sample_state`` rows of samples about to be stored with explicit rowids, for
:func:`insert_values`: rows ``(uid, rowid, kind, category, source, custom_id, checked_at)``. What
the ``samples`` insert trigger would write, for a writer that stores many samples at once (the
trigger then does nothing)."""

ROWS_PER_STATEMENT = 128
"""Most rows :func:`insert_values` puts in one statement (fewer when the connection's variable limit,
``SQLITE_LIMIT_VARIABLE_NUMBER``, is smaller: 999 before SQLite 3.32, 32,766 since)."""


def insert_values(db: sqlite_utils.Database, sql: str, rows: list[tuple], *, row_sql: str | None = None) -> list[tuple]:
    """Run ``sql`` with its ``{values}`` replaced by ``VALUES (?, …), (?, …), …`` for ``rows``
    (tuples of one width), in the caller's transaction: the bulk form of ``executemany`` for tables
    with triggers. ``row_sql`` is one row's values when they are not ``(?, …)``: with
    ``CAST(? AS TEXT)`` for a column given as UTF-8 bytes, say (stored as the text they hold).
    Returns the rows a ``RETURNING`` clause in ``sql`` gives (``[]`` without one).

    Why: SQLite gives a statement that fires a trigger (or may abort midway) a statement journal:
    before it changes a page that existed when it started, it copies the page there (temp files,
    ``/var/tmp/etilqs_*``). ``executemany`` runs one statement per row, so each row copied every
    table and index page it touched, 16 KB each: for 20,000 ingested lines, 4.4 GB of temp-file
    writes from the ``samples``, ``sample_state`` and ``findings`` inserts (strace; BENCHMARKS.md,
    "Ingest without statement journals"). One statement for many rows copies each page at most once.

    Statements hold :data:`ROWS_PER_STATEMENT` rows; the rest go in statements of 64, 32, … 1 rows
    (the binary digits of the remainder), so a table gets at most eight distinct statement texts:
    sqlite3 caches each compiled statement it runs (128 by default), and one text per row count
    would keep up to 128 compiled programs of thousands of parameters alive. Rows are inserted in
    order; the triggers fire per row as before.

    Raises:
        sqlite3.Error: as ``executemany`` would (the transaction is the caller's to roll back).
    """
    if not rows:
        return []
    group = row_sql or "(" + ", ".join("?" * len(rows[0])) + ")"
    returned: list[tuple] = []
    for part in _row_groups(db, rows):
        returned += db.conn.execute(sql.replace("{values}", "VALUES " + ", ".join([group] * len(part))), [v for row in part for v in row]).fetchall()
    return returned


def _row_groups(db: sqlite_utils.Database, rows: list[tuple]) -> Iterator[list[tuple]]:
    """``rows`` cut into runs of :data:`ROWS_PER_STATEMENT` (at most the variable limit allows),
    then 64, 32, … 1 for the rest: the statement sizes :func:`insert_values` documents."""
    if not rows:
        return
    full = max(1, min(ROWS_PER_STATEMENT, db.conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // len(rows[0])))
    i = 0
    while i < len(rows):
        per = full
        while per > len(rows) - i:
            per //= 2
        yield rows[i : i + per]
        i += per


def search_text(turns: list[dict]) -> str:
    """What full-text search covers: the text of user and assistant turns (tool results and call
    arguments are JSON, large, and better searched through findings and analytics)."""
    return "\n".join(t.get("content") or "" for t in turns if t.get("role") != "tool")


def index_for_search(db: sqlite_utils.Database, rows: list[tuple[int, str]]) -> None:
    """Add ``(samples rowid, text)`` rows (text: :func:`search_text`) to the FTS index (the caller
    holds the transaction). Ingest does this for every sample it stores; samples inserted another
    way after migration 009 are not searchable."""
    db.conn.executemany("INSERT INTO samples_fts (rowid, text) VALUES (?, ?)", rows)


TOOLS_KEY = ',"tools":'
"""The top-level tools member's key as ``Dialogue.model_dump_json()`` writes it (see :data:`TURNS_KEY`)."""

_KEYS_BYTES = (TOOLS_KEY.encode(), TURNS_KEY.encode())


def _keys(like: AnyStr) -> tuple[AnyStr, AnyStr]:
    """``(TOOLS_KEY, TURNS_KEY)`` as the same type as ``like`` (``str`` or UTF-8 ``bytes``)."""
    if isinstance(like, str):
        return TOOLS_KEY, TURNS_KEY
    return _KEYS_BYTES


def split_tools(full_json: AnyStr, tools_json: AnyStr) -> AnyStr:
    """The stored form of a dialogue whose tools live in ``toolsets``: ``full_json`` without its
    ``,"tools":<tools_json>`` member. The one place the stored Dialogue JSON is cut (with
    :func:`join_tools`, its inverse); it relies on ``Dialogue``'s field order (``tools`` right
    before ``turns``, only strings before ``tools``: :class:`datagen.dialogue.Dialogue`).

    Args:
        full_json: ``Dialogue.model_dump_json()``, as ``str`` or UTF-8 ``bytes``.
        tools_json: the same dialogue's tools exactly as serialised there
            (:meth:`datagen.dialogue.Dialogue.tools_json`), of the same type.

    Raises:
        ValueError: ``full_json`` does not hold ``,"tools":<tools_json>,"turns":`` where the first
            ``,"tools":`` is (the top-level key: the fields before it are strings).
    """
    tools_key, turns_key = _keys(full_json)
    i = full_json.find(tools_key)
    end = i + len(tools_key) + len(tools_json)
    if i < 0 or not full_json.startswith(tools_json, end - len(tools_json)) or not full_json.startswith(turns_key, end):
        raise ValueError("dialogue JSON does not hold the tools member right before turns")
    return full_json[:i] + full_json[end:]


def join_tools(stored_json: AnyStr, tools_json: AnyStr) -> AnyStr:
    """Inverse of :func:`split_tools` (what the ``sample_dialogues`` view computes in SQL), for
    ``str`` or ``bytes``.

    Raises:
        ValueError: ``stored_json`` has no top-level ``,"turns":``.
    """
    tools_key, turns_key = _keys(stored_json)
    i = stored_json.find(turns_key)
    if i < 0:
        raise ValueError("stored dialogue JSON has no turns")
    return stored_json[:i] + tools_key + tools_json + stored_json[i:]


def tools_hash(tools_json: str) -> str:
    """SHA-256 hex of a tool list's JSON text (the ``toolsets`` key)."""
    return hashlib.sha256(tools_json.encode()).hexdigest()


_local = threading.local()


def connect(path: str | Path | None = None) -> sqlite_utils.Database:
    """Open (and migrate) the database at ``path`` (default :func:`settings.db_path`).

    The connection has ``busy_timeout`` 30 s and WAL on. A new connection each call: use
    :func:`get_db` for one cached connection per thread.

    Raises:
        sqlite3.DatabaseError: the file exists but is not a SQLite database.
    """
    path = Path(path or settings.db_path())
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=SQLITE_BUSY_TIMEOUT_S, check_same_thread=False)
    db = sqlite_utils.Database(conn)
    db.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
    for attempt in range(6):
        try:
            if not db.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone():  # a new file: before WAL and tables
                db.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            if db.journal_mode != "wal":
                db.enable_wal()
            break
        except sqlite3.OperationalError as exc:
            # another process switching a new file to WAL at this moment: SQLite can answer "locked"
            # without waiting on busy_timeout (a journal-mode change); try again shortly
            if "locked" not in str(exc) or attempt == 5:
                raise
            time.sleep(0.1 * (attempt + 1))
    db.execute("PRAGMA synchronous = NORMAL")
    migrate(db)
    return db


@contextmanager
def write_transaction(db: sqlite_utils.Database):
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (rollback on any exception): the one transaction idiom of
    the library (ARCHITECTURE.md, "Storage"; ``tests/test_transactions.py`` keeps ``with db.conn:``
    out of every module but ``store`` and ``migrations``).

    It takes the write lock up front, so concurrent writers wait on ``busy_timeout`` instead of
    failing on a lock upgrade. Nested use joins the open transaction (it does not commit it: code
    that must commit before an outside call, such as ``batches._submit_part``, must not run inside
    one). Inside, ``db.execute``, ``db.conn.execute(many)`` and sqlite-utils' table methods
    (``insert``, ``upsert``…: savepoints inside an open transaction) all belong to it.

    sqlite3's ``with db.conn:`` is not a substitute: it opens no transaction itself, and
    sqlite-utils 4's ``db.execute`` and table methods commit the implicit transaction a write
    opens, so each statement in such a block was committed on its own."""
    conn = db.conn
    if conn.in_transaction:
        yield db
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        conn.rollback()
        raise
    conn.commit()


def get_db(path: str | Path | None = None) -> sqlite_utils.Database:
    """One cached connection per thread and path (sqlite3 connections are not shared across threads)."""
    key = str(Path(path or settings.db_path()).resolve())
    cache = getattr(_local, "dbs", None)
    if cache is None:
        cache = _local.dbs = {}
    if key not in cache:
        cache[key] = connect(key)
    return cache[key]


def dumps(value: Any) -> str:
    """JSON text for a column (UTF-8 kept readable)."""
    return json.dumps(value, ensure_ascii=False)


def loads(text: str | bytes | None, default: Any = None) -> Any:
    """Decode a JSON column (text, or its UTF-8 bytes); ``None`` or empty gives ``default``."""
    return json.loads(text) if text else default


def insert_raw_lines(db: sqlite_utils.Database, origin: str, lines: Iterable[tuple], *, failed: list | None = None) -> int:
    """Store raw lines as received, before any parsing; returns how many were new.

    Args:
        origin: ``batch:<id>:output``, ``batch:<id>:error`` or ``import:<path>``.
        lines: ``(line_no, text)`` pairs, line numbers from 1, the text as ``str`` or as UTF-8
            ``bytes`` the caller has checked decode (stored as the text they hold, ``CAST(? AS
            TEXT)``: no decode and re-encode of a line read from a file), or ``(line_no, text,
            reason)`` for a line already known to fail (a reader that found invalid UTF-8): stored
            ``failed`` with that reason, never parsed.
        failed: when given, ``(line_no, reason)`` of every line this call stored as ``failed`` is
            appended to it (counted once, by the process that stored it).

    Existing ``(origin, line_no)`` rows are left as they are (idempotent re-download). Written in
    transactions of :data:`RAW_CHUNK` lines, so a crash keeps what was stored before it. A text
    SQLite cannot hold (a lone surrogate such as ``\\ud800``, which is not valid UTF-8) is stored
    with the offending code points escaped (``\\ud800``) and the line stored ``failed`` with that
    reason: nothing is lost and nothing else in its chunk is held up (issue 14).
    """
    ts = now()
    it = iter(lines)
    added = 0
    while chunk := list(islice(it, RAW_CHUNK)):
        try:
            added += _insert_raw_chunk(db, origin, [(item[0], item[1], item[2] if len(item) > 2 else None) for item in chunk], ts, failed)
        except UnicodeEncodeError:  # a lone surrogate somewhere: that line is escaped and fails alone
            added += _insert_raw_chunk(db, origin, [_storable(*item) for item in chunk], ts, failed)
    return added


def _storable(no: int, text: str | bytes, reason: str | None = None) -> tuple[int, str | bytes, str | None]:
    """``(line_no, text, reason)`` with a text SQLite can store (valid UTF-8; bytes are)."""
    if isinstance(text, bytes):
        return no, text, reason
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        cp = ord(text[exc.start])
        return (
            no,
            text.encode("utf-8", "backslashreplace").decode("utf-8"),
            reason
            or (f"line holds a lone surrogate (U+{cp:04X} at character {exc.start}), which is not valid Unicode text; stored with it escaped as \\u{cp:04x}"),
        )
    return no, text, reason


def _insert_raw_chunk(db: sqlite_utils.Database, origin: str, chunk: list[tuple[int, str | bytes, str | None]], ts: str, failed: list | None) -> int:
    """One transaction: the chunk's ``raw_results`` rows not stored before (``INSERT OR IGNORE …
    RETURNING`` names exactly the ones this call added), then the text of each of those in
    ``raw_lines``; both as statements of many rows (:func:`insert_values`' grouping), not one
    statement and one ``(origin, line_no)`` lookup per line."""
    rows = [(origin, no, None if reason else _peek_custom_id(text), "failed" if reason else "new", reason, ts) for no, text, reason in chunk]
    with write_transaction(db):
        returned = insert_values(
            db, "INSERT OR IGNORE INTO raw_results (origin, line_no, custom_id, status, reason, received_at) {values} RETURNING line_no, id", rows
        )
        added: dict[int, int] = dict(returned)  # line_no → raw id, for the rows this call stored
        if added:  # the text of each row just added (a row stored before keeps its own text)
            insert_values(
                db,
                "INSERT OR IGNORE INTO raw_lines (id, line) {values}",
                [(added[no], text) for no, text, _ in chunk if no in added],
                row_sql="(?, CAST(? AS TEXT))",  # a line given as its UTF-8 bytes is stored as the text they hold
            )
            if failed is not None:
                failed.extend((no, reason) for no, _, reason in chunk if reason and no in added)
    return len(added)


RAW_CHUNK = 1000
"""Raw lines per transaction in :func:`insert_raw_lines`."""

_BATCH_LINE_HEAD = re.compile(r'\{[ \t\n\r]*"id"[ \t\n\r]*:[ \t\n\r]*"[^"\\]*"[ \t\n\r]*,[ \t\n\r]*"custom_id"[ \t\n\r]*:[ \t\n\r]*"([^"\\]*)"[ \t\n\r]*,')
"""The head of a batch output line; white space is JSON's (RFC 8259 §2: space, tab, line feed,
carriage return), so a line reads the same as text and as its UTF-8 bytes."""
_BATCH_LINE_HEAD_BYTES = re.compile(_BATCH_LINE_HEAD.pattern.encode())


def _peek_custom_id(text: str | bytes) -> str | None:
    """The custom_id of a batch line (text, or its UTF-8 bytes), if it is JSON with one (None
    otherwise; never raises).

    Batch API output lines (OpenAI, vLLM) begin ``{"id": "…", "custom_id": "…",``: that head is
    read with a regular expression (a string without quotes or backslashes, so the match is the
    top-level key); any other line is decoded whole."""
    if isinstance(text, bytes):
        mb = _BATCH_LINE_HEAD_BYTES.match(text)
        if mb:
            return mb.group(1).decode("utf-8")
    else:
        m = _BATCH_LINE_HEAD.match(text)
        if m:
            return m.group(1)
    try:
        obj = fast_loads(text)
    except Exception:  # not JSON, nested too deeply (RecursionError), an integer beyond 4300 digits…
        return None
    cid = obj.get("custom_id") if isinstance(obj, dict) else None
    if not isinstance(cid, str):
        return None
    try:
        cid.encode("utf-8")  # a lone surrogate (\\ud800) cannot be stored: the line is kept, its custom_id not
    except UnicodeEncodeError:
        return None
    return cid
