"""The SQLite store (sqlite-utils, WAL): jobs, batches, requests, raw lines, samples, reviews, publishes.

DESIGN.md, "Storage". Schema changes are named, ordered migrations recorded in ``_migrations``
(the simonw/llm pattern). Every write that must not be half-done runs in a transaction
(``with db.conn:``); connections use ``busy_timeout`` and WAL so several annotators and the batch
poller can write at once.

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
    findings(id, uid, check_id, severity, turn, reason, message, created_at)   -- per sample, replaced on re-check
    duplicates(uid, cluster, kind, similarity)     -- kind exact | near; cluster = representative uid
    contamination(uid, gold_uid, method, overlap, band, created_at)   -- band excluded | flagged
    revisions(id, uid, annotator, dialogue, note, seconds, created_at)   -- edits, append-only
    sample_state(uid, seq, kind, category, batch_id, job_id, state, rank, decision, n_votes, revision_id,
                 accepted_revision_id, updated_at, checked_at)   -- derived from reviews (datagen.review);
                 checked_at: when the quality gate last ran on the sample (a small row, cheap to update)
    annotator_decisions(uid, annotator, decision, review_id)   -- each annotator's effective decision
    samples_fts(text)   -- contentless FTS5 (unicode61, prefix queries) over user and assistant turn
                           texts; rowid = samples.rowid (= sample_state.seq); written by ingest
                           (store.index_for_search) and, for samples stored before, by migration 009
    job_parts(job_id, part, path, sha256, n_requests, bytes, file_id, batch_id, create_attempts,
              retry_of, status, created_at)   -- a job's input split under the Batch API limits
    presets(id, name, config, created_at, author)   -- scenario-mix presets; newest row per name wins
    roles(user, role, granted_by, granted_at); role_log(id, user, role, action, actor, at)   -- datagen.auth
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from itertools import islice
from pathlib import Path
from typing import Any, Callable, Iterable

import sqlite_utils

from . import settings
from .fastjson import loads as fast_loads  # for _peek_custom_id

SQLITE_BUSY_TIMEOUT_S = 30.0

PAGE_SIZE = 16384
"""Page size of new databases (bytes). A stored sample (~4.6 KB) and a raw batch line (~4.6 KB)
each spilled over two 4 KB pages; at 16 KB ingest of 100,000 lines went from 38.4 s to 34.3 s
(BENCHMARKS.md, "Batches at scale"). Existing databases keep theirs (it is fixed once in WAL mode)."""


def now() -> str:
    """The current UTC time as ISO-8601 with microseconds (``2026-11-21T12:00:00.000000+00:00``)."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _m001_initial(db: sqlite_utils.Database) -> None:
    db["jobs"].create(
        {
            "id": str,
            "kind": str,
            "created_at": str,
            "counts": str,
            "seed": int,
            "model": str,
            "temperature": float,
            "params": str,
            "input_file": str,
            "operator": str,
            "backend": str,
        },
        pk="id",
    )
    db["batches"].create(
        {
            "id": str,
            "job_id": str,
            "input_file": str,
            "input_sha256": str,
            "input_file_id": str,
            "output_file_id": str,
            "error_file_id": str,
            "status": str,
            "request_counts": str,
            "errors": str,
            "backend": str,
            "created_at": str,
            "updated_at": str,
            "retrieved_at": str,
            "status_file": str,
        },
        pk="id",
    )
    db["requests"].create(
        {
            "custom_id": str,
            "job_id": str,
            "batch_id": str,
            "kind": str,
            "category": str,
            "scenario": str,
            "status": str,
            "attempt": int,
        },
        pk="custom_id",
    )
    db["requests"].create_index(["job_id"])
    db["requests"].create_index(["batch_id"])
    db["raw_results"].create(
        {
            "id": int,
            "origin": str,
            "line_no": int,
            "custom_id": str,
            "line": str,
            "status": str,
            "reason": str,
            "sample_uid": str,
            "received_at": str,
        },
        pk="id",
    )
    db["raw_results"].create_index(["origin", "line_no"], unique=True)
    db["raw_results"].create_index(["status"])
    db["raw_results"].create_index(["custom_id"])
    db["samples"].create(
        {
            "uid": str,
            "custom_id": str,
            "kind": str,
            "category": str,
            "source": str,
            "model": str,
            "dialogue": str,
            "usage": str,
            "content_hash": str,
            "created_at": str,
        },
        pk="uid",
    )
    db["samples"].create_index(["kind", "category"])
    db["samples"].create_index(["custom_id"])
    db["reviews"].create(
        {
            "id": int,
            "uid": str,
            "annotator": str,
            "decision": str,
            "reasons": str,
            "note": str,
            "edited": str,
            "seconds": float,
            "created_at": str,
        },
        pk="id",
    )
    db["reviews"].create_index(["uid", "id"])
    db["reviews"].create_index(["annotator"])
    db["publishes"].create(
        {
            "id": int,
            "target": str,
            "repo_id": str,
            "revision": str,
            "record_hash": str,
            "format": str,
            "counts": str,
            "card": str,
            "path": str,
            "created_at": str,
            "operator": str,
        },
        pk="id",
    )
    db["publish_items"].create({"publish_id": int, "uid": str, "split": str})
    db["publish_items"].create_index(["uid"])
    # The decision of a sample is its latest review (DESIGN.md, Storage).
    db.create_view(
        "latest_reviews",
        "SELECT r.* FROM reviews r JOIN (SELECT uid, MAX(id) AS id FROM reviews GROUP BY uid) m ON r.id = m.id",
    )


def _m002_quality_gate(db: sqlite_utils.Database) -> None:
    """Tables of the quality gate (:mod:`datagen.checks`): findings, duplicate clusters, contamination
    (``sample_state.checked_at``, in 003, records when a sample was last checked)."""
    db["findings"].create(
        {
            "id": int,
            "uid": str,
            "check_id": str,
            "severity": str,
            "turn": int,
            "reason": str,
            "message": str,
            "created_at": str,
        },
        pk="id",
    )
    db["findings"].create_index(["uid"])
    db["findings"].create_index(["check_id"])
    db["duplicates"].create({"uid": str, "cluster": str, "kind": str, "similarity": float}, pk="uid")
    db["duplicates"].create_index(["cluster"])
    db["contamination"].create(
        {"uid": str, "gold_uid": str, "method": str, "overlap": float, "band": str, "created_at": str},
        pk=("uid", "gold_uid", "method"),
    )
    db["contamination"].create_index(["gold_uid"])


_STATE_COLUMNS = "uid, seq, kind, category, batch_id, job_id, state"


def _state_values(s: str) -> str:
    """The sample_state values of a samples row named ``s`` (``s`` or ``new`` in the trigger; ``:``
    for named parameters ``:uid, :rowid, :kind, :category, :source, :custom_id``)."""
    c = (lambda name: f":{name}") if s == ":" else (lambda name: f"{s}.{name}")
    return (
        f"{c('uid')}, {c('rowid')}, {c('kind')}, {c('category')}, "
        f"CASE WHEN {c('source')} LIKE 'batch:%' THEN substr({c('source')}, 7, instr(substr({c('source')}, 7), ':') - 1) END, "
        f"(SELECT q.job_id FROM requests q WHERE q.custom_id = {c('custom_id')}), 'pending'"
    )


STATE_INSERT_SQL = f"INSERT OR IGNORE INTO sample_state ({_STATE_COLUMNS}, checked_at) VALUES ({_state_values(':')}, :checked_at)"
"""The ``sample_state`` row of a sample about to be stored with an explicit rowid (named parameters
``uid, rowid, kind, category, source, custom_id, checked_at``): what the ``samples`` insert trigger
would write, for a writer that stores many samples at once (the trigger then does nothing)."""


def search_text(turns: list[dict]) -> str:
    """What full-text search covers: the text of user and assistant turns (tool results and call
    arguments are JSON, large, and better searched through findings and analytics)."""
    return "\n".join(t.get("content") or "" for t in turns if t.get("role") != "tool")


def index_for_search(db: sqlite_utils.Database, rows: list[tuple[int, str]]) -> None:
    """Add ``(samples rowid, text)`` rows (text: :func:`search_text`) to the FTS index (the caller
    holds the transaction). Ingest does this for every sample it stores; samples inserted another
    way after migration 009 are not searchable."""
    db.conn.executemany("INSERT INTO samples_fts (rowid, text) VALUES (?, ?)", rows)


def _m003_review_workbench(db: sqlite_utils.Database) -> None:
    """Review workbench: undo / revisions / adjudication columns, the materialised per-sample state
    (kept current in the same transaction as every review), per-annotator decisions, FTS5 search."""
    db["reviews"].add_column("undoes", int)
    db["reviews"].add_column("revision_id", int)
    db["reviews"].add_column("adjudication", int)
    db["revisions"].create(
        {"id": int, "uid": str, "annotator": str, "dialogue": str, "note": str, "seconds": float, "created_at": str},
        pk="id",
    )
    db["revisions"].create_index(["uid", "id"])
    db.execute(
        """CREATE TABLE sample_state (
            uid TEXT PRIMARY KEY, seq INTEGER NOT NULL, kind TEXT, category TEXT, batch_id TEXT, job_id TEXT,
            state TEXT NOT NULL DEFAULT 'pending', rank INTEGER NOT NULL DEFAULT 0, decision TEXT,
            n_votes INTEGER NOT NULL DEFAULT 0,
            revision_id INTEGER, accepted_revision_id INTEGER, updated_at TEXT, checked_at TEXT)"""
    )
    # rank orders the queue (0 needs a decision, 1 skipped, 2 disputed, 3 decided): the queue is an
    # index range scan in (rank, seq) order whatever the filter on kind / category.
    db.execute("CREATE INDEX idx_state_rank ON sample_state(rank, seq)")
    db.execute("CREATE INDEX idx_state_kind ON sample_state(kind, rank, seq)")
    db.execute("CREATE INDEX idx_state_category ON sample_state(category, rank, seq)")
    db.execute("CREATE INDEX idx_state_filter ON sample_state(kind, category, rank, seq)")
    db.execute("CREATE INDEX idx_state_decision ON sample_state(decision, seq)")
    db.execute("CREATE INDEX idx_state_batch ON sample_state(batch_id)")
    db.execute(
        """CREATE TABLE annotator_decisions (
            uid TEXT NOT NULL, annotator TEXT NOT NULL, decision TEXT NOT NULL, review_id INTEGER NOT NULL,
            PRIMARY KEY (uid, annotator))"""
    )
    db.execute("CREATE INDEX idx_annotator_decisions ON annotator_decisions(annotator, uid)")
    db.execute(f"INSERT INTO sample_state ({_STATE_COLUMNS}) SELECT {_state_values('s')} FROM samples s")
    # Every stored sample gets its state row, whatever code inserts it (no re-read of the row).
    db.execute(
        f"CREATE TRIGGER samples_state_ai AFTER INSERT ON samples BEGIN "
        f"INSERT OR IGNORE INTO sample_state ({_STATE_COLUMNS}) VALUES ({_state_values('new')}); END"
    )
    # unicode61 word tokens: Korean particles are suffixes, so a prefix query ("짜장면"*) finds
    # 짜장면을 / 짜장면이; far cheaper to index than trigrams.
    db.execute("CREATE VIRTUAL TABLE samples_fts USING fts5(uid UNINDEXED, text, tokenize = 'unicode61')")
    db.conn.executemany("INSERT INTO samples_fts (uid, text) VALUES (?, ?)",
                        [(uid, search_text(json.loads(text)["turns"])) for uid, text in db.execute("SELECT uid, dialogue FROM samples")])
    db.execute("DROP VIEW latest_reviews")
    # Kept for readers of "the decision per uid": now the materialised state (see datagen.review).
    db.execute(
        "CREATE VIEW latest_reviews AS SELECT uid, decision, state FROM sample_state WHERE decision IS NOT NULL"
    )
    from .review import recompute_state  # the rules live in one place

    for (uid,) in db.execute("SELECT DISTINCT uid FROM reviews").fetchall():
        recompute_state(db, uid)


def _m004_findings_seen(db: sqlite_utils.Database) -> None:
    """``reviews.findings_seen``: the error-level check ids shown to the person when deciding, so
    publishing can tell an accept that overrode a finding from one made before it existed."""
    db["reviews"].add_column("findings_seen", str)


def _m005_batches_at_scale(db: sqlite_utils.Database) -> None:
    """Jobs split into parts under the API limits, each submitted idempotently; job idempotency keys;
    scenario-mix presets with history."""
    db["jobs"].add_column("idempotency_key", str)
    db["jobs"].add_column("retry_of", str)
    db.execute("CREATE UNIQUE INDEX idx_jobs_idem ON jobs(idempotency_key) WHERE idempotency_key IS NOT NULL")
    db.execute(
        """CREATE TABLE job_parts (
            job_id TEXT NOT NULL, part INTEGER NOT NULL, path TEXT NOT NULL, sha256 TEXT NOT NULL,
            n_requests INTEGER NOT NULL, bytes INTEGER NOT NULL, file_id TEXT, batch_id TEXT,
            create_attempts INTEGER NOT NULL DEFAULT 0, retry_of TEXT, status TEXT NOT NULL DEFAULT 'planned',
            created_at TEXT, PRIMARY KEY (job_id, part))"""
    )
    db["requests"].create_index(["job_id", "status"])
    db["presets"].create({"id": int, "name": str, "config": str, "created_at": str, "author": str}, pk="id")
    db["presets"].create_index(["name", "id"])


def _m006_roles(db: sqlite_utils.Database) -> None:
    """Roles of the team (see :mod:`datagen.auth`), the append-only log of grants and revokes, and
    the identity that submitted each batch."""
    db.execute("CREATE TABLE roles (user TEXT NOT NULL, role TEXT NOT NULL, granted_by TEXT, granted_at TEXT, PRIMARY KEY (user, role))")
    db["role_log"].create({"id": int, "user": str, "role": str, "action": str, "actor": str, "at": str}, pk="id")
    db["batches"].add_column("submitted_by", str)  # who spent: the identity behind every submit


TURNS_KEY = ',"turns":'
"""Where the tool list goes back into a stored dialogue: ``Dialogue.model_dump_json()`` writes
``uid, kind, category, dates, system_prompt, tools, turns, …`` in that order, and the first
``,"turns":`` of the text is that top-level key (the fields before it are strings, where a quote
is always escaped)."""


def _m007_ingest_at_scale(db: sqlite_utils.Database) -> None:
    """Ingest at batch scale (BENCHMARKS.md, "Batches at scale"):

    - tool lists stored once: a stored record carried its ~7 KB tool list, the same for every
      sample of a run (two thirds of each row). New samples name their list in ``samples.toolset``;
      rows stored before keep their inline list (``toolset`` NULL) and read the same through the
      ``sample_dialogues`` view;
    - the ``samples`` insert trigger writes the state row only when the writer has not (a writer
      of thousands of samples inserts their state rows itself: :data:`STATE_INSERT_SQL`; the
      trigger's insert cost ~30 µs a row);
    - raw line texts move to ``raw_lines``: updating a line's status rewrote its whole row, text
      included (the text of 100,000 lines written twice more, WAL and checkpoint).
    """
    db.execute("CREATE TABLE toolsets (hash TEXT PRIMARY KEY, tools TEXT NOT NULL, created_at TEXT)")
    db["samples"].add_column("toolset", str)
    db.execute(f"CREATE VIEW sample_dialogues AS {SAMPLE_DIALOGUE_SQL}")
    db.execute("CREATE TABLE raw_lines (id INTEGER PRIMARY KEY, line TEXT NOT NULL)")
    db.execute("INSERT INTO raw_lines (id, line) SELECT id, line FROM raw_results")
    if sqlite3.sqlite_version_info >= (3, 35):
        db.execute("ALTER TABLE raw_results DROP COLUMN line")
    else:  # no DROP COLUMN before SQLite 3.35: the column stays, empty
        db.execute("UPDATE raw_results SET line = NULL")
    db.execute("DROP TRIGGER samples_state_ai")
    db.execute(
        "CREATE TRIGGER samples_state_ai AFTER INSERT ON samples "
        "WHEN NOT EXISTS (SELECT 1 FROM sample_state WHERE uid = new.uid) BEGIN "
        f"INSERT OR IGNORE INTO sample_state ({_STATE_COLUMNS}) VALUES ({_state_values('new')}); END"
    )


SAMPLE_DIALOGUE_SQL = (
    "SELECT s.uid AS uid, s.kind AS kind, s.rowid AS seq, CASE WHEN s.toolset IS NULL THEN s.dialogue ELSE "
    f"substr(s.dialogue, 1, instr(s.dialogue, '{TURNS_KEY}') - 1) || ',\"tools\":' || t.tools || "
    f"substr(s.dialogue, instr(s.dialogue, '{TURNS_KEY}')) END AS dialogue "
    "FROM samples s LEFT JOIN toolsets t ON t.hash = s.toolset"
)
"""The ``sample_dialogues(uid, kind, seq, dialogue)`` view: every sample's full ``model_dump_json()``
text (``seq`` = the sample's rowid, insertion order). With a ``toolset`` the tool list is put back
before ``,"turns":`` (:data:`TURNS_KEY`), so the text is byte for byte what the Dialogue dumps
(:func:`join_tools`); a toolset missing from ``toolsets`` gives NULL, never a dialogue without tools."""


def split_tools(full_json: str, tools_json: str) -> str:
    """The stored form of a dialogue whose tools live in ``toolsets``: ``full_json`` without its
    ``,"tools":<tools_json>`` member.

    Args:
        full_json: ``Dialogue.model_dump_json()``.
        tools_json: the same dialogue's tools exactly as serialised there
            (:meth:`datagen.dialogue.Dialogue.tools_json`).

    Raises:
        ValueError: ``full_json`` does not hold ``,"tools":<tools_json>,"turns":`` where the first
            ``,"tools":`` is (the top-level key: the fields before it are strings).
    """
    i = full_json.find(',"tools":')
    end = i + len(',"tools":') + len(tools_json)
    if i < 0 or not full_json.startswith(tools_json, end - len(tools_json)) or not full_json.startswith(TURNS_KEY, end):
        raise ValueError("dialogue JSON does not hold the tools member right before turns")
    return full_json[:i] + full_json[end:]


def join_tools(stored_json: str, tools_json: str) -> str:
    """Inverse of :func:`split_tools` (what the ``sample_dialogues`` view computes in SQL)."""
    i = stored_json.find(TURNS_KEY)
    if i < 0:
        raise ValueError("stored dialogue JSON has no turns")
    return stored_json[:i] + ',"tools":' + tools_json + stored_json[i:]


def tools_hash(tools_json: str) -> str:
    """SHA-256 hex of a tool list's JSON text (the ``toolsets`` key)."""
    return hashlib.sha256(tools_json.encode()).hexdigest()


def _m008_regenerate(db: sqlite_utils.Database) -> None:
    """``requests.regenerates``: the uid of the rejected sample a request was made to replace
    (:func:`datagen.jobs.regenerate_rejected`)."""
    db["requests"].add_column("regenerates", str)
    db["requests"].create_index(["regenerates"])


def _m009_search_by_rowid(db: sqlite_utils.Database) -> None:
    """The search index without its own copy of the text: a contentless FTS5 table keyed by the
    samples rowid (the copy was ~1.5 KB a sample, written again on every checkpoint). Every stored
    sample is indexed, including those stored before without ingest."""
    db.execute("DROP TABLE samples_fts")
    db.execute("CREATE VIRTUAL TABLE samples_fts USING fts5(text, content = '', tokenize = 'unicode61')")
    cur = db.execute("SELECT seq, dialogue FROM sample_dialogues")
    while rows := cur.fetchmany(1000):
        index_for_search(db, [(seq, search_text(json.loads(text).get("turns") or [])) for seq, text in rows if text])


def _m010_raw_line_content_key(db: sqlite_utils.Database) -> None:
    """``raw_results.content_key``: the SHA-256 of an imported line that was parsed into a sample
    (issue 14: a copy of an imported file at another path added every sample again). Indexed only
    where set, so batch lines (whose origin, the batch id, is already unique) cost nothing."""
    db.execute("ALTER TABLE raw_results ADD COLUMN content_key TEXT")
    db.execute("CREATE INDEX idx_raw_content_key ON raw_results(content_key) WHERE content_key IS NOT NULL")
    # imported lines stored as samples before: their keys too, so a copy of an earlier import is known
    ids = [r[0] for r in db.execute(
        "SELECT id FROM raw_results WHERE substr(origin, 1, 7) = 'import:' AND status = 'parsed' ORDER BY id")]
    for i in range(0, len(ids), 500):
        part = ids[i : i + 500]
        rows = db.execute(f"SELECT id, line FROM raw_lines WHERE id IN ({','.join('?' * len(part))})", part).fetchall()
        db.conn.executemany("UPDATE raw_results SET content_key = ? WHERE id = ?",
                            [(hashlib.sha256(line.encode("utf-8")).hexdigest(), rid) for rid, line in rows])


MIGRATIONS: list[tuple[str, Callable[[sqlite_utils.Database], None]]] = [
    ("001_initial", _m001_initial),
    ("002_quality_gate", _m002_quality_gate),
    ("003_review_workbench", _m003_review_workbench),
    ("004_findings_seen", _m004_findings_seen),
    ("005_batches_at_scale", _m005_batches_at_scale),
    ("006_roles", _m006_roles),
    ("007_ingest_at_scale", _m007_ingest_at_scale),
    ("008_regenerate", _m008_regenerate),
    ("009_search_by_rowid", _m009_search_by_rowid),
    ("010_raw_line_content_key", _m010_raw_line_content_key),
]

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


def _applied_migrations(db: sqlite_utils.Database) -> set[str]:
    try:
        return {r[0] for r in db.execute("SELECT name FROM _migrations")}
    except sqlite3.OperationalError as exc:
        if "no such table" not in str(exc):
            raise
        return set()  # a new database


def migrate(db: sqlite_utils.Database) -> list[str]:
    """Apply the pending :data:`MIGRATIONS` in order; returns the names applied now.

    Safe when several processes open a new (or older) database at once (issue 14: the second one
    died on "table jobs already exists"): the pending migrations run in one ``BEGIN IMMEDIATE``
    transaction, and which ones are pending is read again once the write lock is held, so exactly
    one process applies each migration and the others wait (``busy_timeout``) and find them done.
    A migration that fails leaves the database as it was."""
    names = [name for name, _ in MIGRATIONS]
    if set(names) <= _applied_migrations(db):  # the common case: nothing to do, no write lock
        return []
    applied = []
    with write_transaction(db):
        db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
        done = _applied_migrations(db)
        for name, fn in MIGRATIONS:
            if name in done:
                continue
            fn(db)
            db.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, ?)", [name, now()])
            applied.append(name)
    return applied


@contextmanager
def write_transaction(db: sqlite_utils.Database):
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (rollback on error): takes the write lock up front, so
    concurrent writers wait on ``busy_timeout`` instead of failing on a lock upgrade. Nested use
    joins the open transaction. Use raw ``db.execute`` inside (sqlite-utils' own ``with conn``
    would commit early)."""
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


def loads(text: str | None, default: Any = None) -> Any:
    """Decode a JSON column; ``None`` or empty gives ``default``."""
    return json.loads(text) if text else default


def insert_raw_lines(db: sqlite_utils.Database, origin: str, lines: Iterable[tuple], *, failed: list | None = None) -> int:
    """Store raw lines as received, before any parsing; returns how many were new.

    Args:
        origin: ``batch:<id>:output``, ``batch:<id>:error`` or ``import:<path>``.
        lines: ``(line_no, text)`` pairs, line numbers from 1, or ``(line_no, text, reason)`` for a
            line already known to fail (a reader that found invalid UTF-8): stored ``failed`` with
            that reason, never parsed.
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


def _storable(no: int, text: str, reason: str | None = None) -> tuple[int, str, str | None]:
    """``(line_no, text, reason)`` with a text SQLite can store (valid UTF-8)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        cp = ord(text[exc.start])
        return no, text.encode("utf-8", "backslashreplace").decode("utf-8"), reason or (
            f"line holds a lone surrogate (U+{cp:04X} at character {exc.start}), which is not valid Unicode text; "
            f"stored with it escaped as \\u{cp:04x}")
    return no, text, reason


def _insert_raw_chunk(db: sqlite_utils.Database, origin: str, chunk: list[tuple[int, str, str | None]], ts: str, failed: list | None) -> int:
    with write_transaction(db):
        before = db.conn.total_changes
        db.conn.executemany(
            "INSERT OR IGNORE INTO raw_results (origin, line_no, custom_id, status, reason, received_at) VALUES (?, ?, ?, ?, ?, ?)",
            [(origin, no, None if reason else _peek_custom_id(text), "failed" if reason else "new", reason, ts)
             for no, text, reason in chunk],
        )
        n = db.conn.total_changes - before
        if n:  # the text of each row just added (a row stored before keeps its own text)
            db.conn.executemany(
                "INSERT OR IGNORE INTO raw_lines (id, line) SELECT id, ? FROM raw_results WHERE origin = ? AND line_no = ?",
                [(text, origin, no) for no, text, _ in chunk],
            )
            bad = [(no, reason) for no, _, reason in chunk if reason]
            if bad and failed is not None:  # which of them this call stored (the others were there before)
                mine = {r[0] for r in db.execute(
                    f"SELECT line_no FROM raw_results WHERE origin = ? AND received_at = ? AND line_no IN ({','.join('?' * len(bad))})",
                    [origin, ts, *(no for no, _ in bad)])}
                failed.extend((no, reason) for no, reason in bad if no in mine)
    return n


RAW_CHUNK = 1000
"""Raw lines per transaction in :func:`insert_raw_lines`."""

_BATCH_LINE_HEAD = re.compile(r'\{\s*"id"\s*:\s*"[^"\\]*"\s*,\s*"custom_id"\s*:\s*"([^"\\]*)"\s*,')


def _peek_custom_id(text: str) -> str | None:
    """The custom_id of a batch line, if it is JSON with one (None otherwise; never raises).

    Batch API output lines (OpenAI, vLLM) begin ``{"id": "…", "custom_id": "…",``: that head is
    read with a regular expression (a string without quotes or backslashes, so the match is the
    top-level key); any other line is decoded whole."""
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
