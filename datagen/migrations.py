"""The schema of the store: named, ordered migrations, each applied atomically and recorded in ``_migrations``.

The steps are frozen history: a migration never calls live domain code (its result would change
when today's rules change). Migration 003 backfills ``sample_state`` with the review rules as they
were written when it was added (:func:`_m003_state_of`), not with :func:`datagen.review.derive_state`.
This module imports nothing from the library above it (only the standard library and sqlite-utils),
so :mod:`datagen.store` can import it and nothing here imports :mod:`datagen.store`.

The runner is sqlite-utils' :class:`sqlite_utils.Migrations` (each step and the record of it in
one transaction; ``apply(stop_before=...)`` as in simonw/llm), kept on this project's own record
table ``_migrations(name, applied_at)`` so that every database migrated before keeps working
(:class:`_Runner`). :func:`migrate` holds one ``BEGIN IMMEDIATE`` write lock around all pending
steps (each a savepoint inside it), so several processes opening a new database at once apply each
step exactly once (issue 14).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime

import sqlite_utils


def _now() -> str:
    """UTC ISO-8601 with microseconds (the format of ``store.now``)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _m001_initial(db: sqlite_utils.Database) -> None:
    db.table("jobs").create(
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
    db.table("batches").create(
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
    db.table("requests").create(
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
    db.table("requests").create_index(["job_id"])
    db.table("requests").create_index(["batch_id"])
    db.table("raw_results").create(
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
    db.table("raw_results").create_index(["origin", "line_no"], unique=True)
    db.table("raw_results").create_index(["status"])
    db.table("raw_results").create_index(["custom_id"])
    db.table("samples").create(
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
    db.table("samples").create_index(["kind", "category"])
    db.table("samples").create_index(["custom_id"])
    db.table("reviews").create(
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
    db.table("reviews").create_index(["uid", "id"])
    db.table("reviews").create_index(["annotator"])
    db.table("publishes").create(
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
    db.table("publish_items").create({"publish_id": int, "uid": str, "split": str})
    db.table("publish_items").create_index(["uid"])
    # The decision of a sample is its latest review (ARCHITECTURE.md, "Storage").
    db.create_view(
        "latest_reviews",
        "SELECT r.* FROM reviews r JOIN (SELECT uid, MAX(id) AS id FROM reviews GROUP BY uid) m ON r.id = m.id",
    )


def _m002_quality_gate(db: sqlite_utils.Database) -> None:
    """Tables of the quality gate (:mod:`datagen.checks`): findings, duplicate clusters, contamination
    (``sample_state.checked_at``, in 003, records when a sample was last checked)."""
    db.table("findings").create(
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
    db.table("findings").create_index(["uid"])
    db.table("findings").create_index(["check_id"])
    db.table("duplicates").create({"uid": str, "cluster": str, "kind": str, "similarity": float}, pk="uid")
    db.table("duplicates").create_index(["cluster"])
    db.table("contamination").create(
        {"uid": str, "gold_uid": str, "method": str, "overlap": float, "band": str, "created_at": str},
        pk=("uid", "gold_uid", "method"),
    )
    db.table("contamination").create_index(["gold_uid"])


STATE_COLUMNS = "uid, seq, kind, category, batch_id, job_id, state"


STATE_PARAMS = ("uid", "rowid", "kind", "category", "source", "custom_id")
"""What :func:`state_values` reads of a samples row, in the order of its ``VALUES`` columns."""


def state_values(s: str) -> str:
    """The sample_state values of a samples row named ``s`` (``s`` or ``new`` in the trigger; ``:``
    for named parameters ``:uid, :rowid, :kind, :category, :source, :custom_id``; ``VALUES`` for
    the columns ``column1`` … ``column6`` of a ``VALUES`` list, in :data:`STATE_PARAMS` order)."""
    if s == ":":
        c = lambda name: f":{name}"
    elif s == "VALUES":
        c = lambda name: f"column{STATE_PARAMS.index(name) + 1}"
    else:
        c = lambda name: f"{s}.{name}"
    return (
        f"{c('uid')}, {c('rowid')}, {c('kind')}, {c('category')}, "
        f"CASE WHEN {c('source')} LIKE 'batch:%' THEN substr({c('source')}, 7, instr(substr({c('source')}, 7), ':') - 1) END, "
        f"(SELECT q.job_id FROM requests q WHERE q.custom_id = {c('custom_id')}), 'pending'"
    )


def _frozen_search_text(turns: list[dict]) -> str:
    """Frozen copy (migrations 003 and 009, as written then) of what full-text search covered then: the text of user
    and assistant turns."""
    return "\n".join(t.get("content") or "" for t in turns if t.get("role") != "tool")


def _m003_review_workbench(db: sqlite_utils.Database) -> None:
    """Review workbench: undo / revisions / adjudication columns, the materialised per-sample state
    (kept current in the same transaction as every review), per-annotator decisions, FTS5 search."""
    db.table("reviews").add_column("undoes", int)
    db.table("reviews").add_column("revision_id", int)
    db.table("reviews").add_column("adjudication", int)
    db.table("revisions").create(
        {"id": int, "uid": str, "annotator": str, "dialogue": str, "note": str, "seconds": float, "created_at": str},
        pk="id",
    )
    db.table("revisions").create_index(["uid", "id"])
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
    db.execute(f"INSERT INTO sample_state ({STATE_COLUMNS}) SELECT {state_values('s')} FROM samples s")
    # Every stored sample gets its state row, whatever code inserts it (no re-read of the row).
    db.execute(
        f"CREATE TRIGGER samples_state_ai AFTER INSERT ON samples BEGIN "
        f"INSERT OR IGNORE INTO sample_state ({STATE_COLUMNS}) VALUES ({state_values('new')}); END"
    )
    # unicode61 word tokens: Korean particles are suffixes, so a prefix query ("짜장면"*) finds
    # 짜장면을 / 짜장면이; far cheaper to index than trigrams.
    db.execute("CREATE VIRTUAL TABLE samples_fts USING fts5(uid UNINDEXED, text, tokenize = 'unicode61')")
    db.conn.executemany(
        "INSERT INTO samples_fts (uid, text) VALUES (?, ?)",
        [(uid, _frozen_search_text(json.loads(text)["turns"])) for uid, text in db.execute("SELECT uid, dialogue FROM samples")],
    )
    db.execute("DROP VIEW latest_reviews")
    # Kept for readers of "the decision per uid": now the materialised state (see datagen.review).
    db.execute("CREATE VIEW latest_reviews AS SELECT uid, decision, state FROM sample_state WHERE decision IS NOT NULL")
    # the state of every reviewed sample, by the review rules as they were when 003 was written
    required_votes = int(os.environ.get("DATAGEN_GOLD_REQUIRED_VOTES", "2"))
    ts = _now()
    for (uid,) in db.execute("SELECT DISTINCT uid FROM reviews").fetchall():
        rows = db.execute(
            "SELECT id, annotator, decision, undoes, adjudication, revision_id FROM reviews WHERE uid = ? ORDER BY id",
            [uid],
        ).fetchall()
        kind_row = db.execute("SELECT kind FROM sample_state WHERE uid = ?", [uid]).fetchone()
        state, rank, decision, n_votes, accepted_revision, per_annotator = _m003_state_of(
            rows, kind=kind_row[0] if kind_row else "train", required_votes=required_votes
        )
        db.execute(
            "UPDATE sample_state SET state = ?, rank = ?, decision = ?, n_votes = ?, accepted_revision_id = ?, updated_at = ? WHERE uid = ?",
            [state, rank, decision, n_votes, accepted_revision, ts, uid],
        )
        db.execute("DELETE FROM annotator_decisions WHERE uid = ?", [uid])
        db.conn.executemany(
            "INSERT INTO annotator_decisions (uid, annotator, decision, review_id) VALUES (?, ?, ?, ?)",
            [(uid, a, r[2], r[0]) for a, r in per_annotator.items()],
        )


def _m003_state_of(rows: list[tuple], *, kind: str, required_votes: int) -> tuple:
    """Frozen copy of the review rules as migration 003 applied them (``datagen.review.recompute_state``
    of that time; the live rule, :func:`datagen.review.derive_state`, may change, this may not).

    Args:
        rows: a sample's ``reviews`` rows ``(id, annotator, decision, undoes, adjudication,
            revision_id)`` in id order.
        kind: ``train`` / ``gold``.
        required_votes: accept/reject votes of different annotators a gold sample needs
            (``DATAGEN_GOLD_REQUIRED_VOTES`` at migration time, default 2).

    Returns:
        ``(state, rank, decision, n_votes, accepted_revision_id, {annotator: row})``.
    """
    rank_of = {"pending": 0, "partial": 0, "skipped": 1, "disputed": 2, "decided": 3}
    decisions = ("accept", "reject", "skip")
    undone = {r[3] for r in rows if r[2] == "undo" and r[3] is not None}
    effective = [r for r in rows if r[2] in decisions and r[0] not in undone]
    per_annotator: dict[str, tuple] = {}
    for r in effective:
        per_annotator[r[1]] = r
    adjudicated = [r for r in effective if r[4]]
    votes = [r for r in per_annotator.values() if r[2] in ("accept", "reject")]
    final = None
    if adjudicated:
        final, state = adjudicated[-1], "decided"
    elif kind != "gold" or required_votes <= 1:
        if effective:
            final = effective[-1]
            state = "skipped" if final[2] == "skip" else "decided"
        else:
            state = "pending"
    elif len({v[2] for v in votes}) > 1:
        state = "disputed"
    elif len(votes) >= required_votes:
        final, state = max(votes, key=lambda v: v[0]), "decided"
    elif votes:
        state = "partial"
    elif per_annotator:
        final, state = effective[-1], "skipped"
    else:
        state = "pending"
    decision = final[2] if final else None
    accepted_revision = final[5] if final and final[2] == "accept" else None
    return state, rank_of[state], decision, len(votes), accepted_revision, per_annotator


def _m004_findings_seen(db: sqlite_utils.Database) -> None:
    """``reviews.findings_seen``: the error-level check ids shown to the person when deciding, so
    publishing can tell an accept that overrode a finding from one made before it existed."""
    db.table("reviews").add_column("findings_seen", str)


def _m005_batches_at_scale(db: sqlite_utils.Database) -> None:
    """Jobs split into parts under the API limits, each submitted idempotently; job idempotency keys;
    scenario-mix presets with history."""
    db.table("jobs").add_column("idempotency_key", str)
    db.table("jobs").add_column("retry_of", str)
    db.execute("CREATE UNIQUE INDEX idx_jobs_idem ON jobs(idempotency_key) WHERE idempotency_key IS NOT NULL")
    db.execute(
        """CREATE TABLE job_parts (
            job_id TEXT NOT NULL, part INTEGER NOT NULL, path TEXT NOT NULL, sha256 TEXT NOT NULL,
            n_requests INTEGER NOT NULL, bytes INTEGER NOT NULL, file_id TEXT, batch_id TEXT,
            create_attempts INTEGER NOT NULL DEFAULT 0, retry_of TEXT, status TEXT NOT NULL DEFAULT 'planned',
            created_at TEXT, PRIMARY KEY (job_id, part))"""
    )
    db.table("requests").create_index(["job_id", "status"])
    db.table("presets").create({"id": int, "name": str, "config": str, "created_at": str, "author": str}, pk="id")
    db.table("presets").create_index(["name", "id"])


def _m006_roles(db: sqlite_utils.Database) -> None:
    """Roles of the team (see :mod:`datagen.auth`), the append-only log of grants and revokes, and
    the identity that submitted each batch."""
    db.execute("CREATE TABLE roles (user TEXT NOT NULL, role TEXT NOT NULL, granted_by TEXT, granted_at TEXT, PRIMARY KEY (user, role))")
    db.table("role_log").create({"id": int, "user": str, "role": str, "action": str, "actor": str, "at": str}, pk="id")
    db.table("batches").add_column("submitted_by", str)  # who spent: the identity behind every submit


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
    db.table("samples").add_column("toolset", str)
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
        f"INSERT OR IGNORE INTO sample_state ({STATE_COLUMNS}) VALUES ({state_values('new')}); END"
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


def _m008_regenerate(db: sqlite_utils.Database) -> None:
    """``requests.regenerates``: the uid of the rejected sample a request was made to replace
    (:func:`datagen.jobs.regenerate_rejected`)."""
    db.table("requests").add_column("regenerates", str)
    db.table("requests").create_index(["regenerates"])


def _m009_search_by_rowid(db: sqlite_utils.Database) -> None:
    """The search index without its own copy of the text: a contentless FTS5 table keyed by the
    samples rowid (the copy was ~1.5 KB a sample, written again on every checkpoint). Every stored
    sample is indexed, including those stored before without ingest."""
    db.execute("DROP TABLE samples_fts")
    db.execute("CREATE VIRTUAL TABLE samples_fts USING fts5(text, content = '', tokenize = 'unicode61')")
    cur = db.execute("SELECT seq, dialogue FROM sample_dialogues")
    while rows := cur.fetchmany(1000):
        db.conn.executemany(
            "INSERT INTO samples_fts (rowid, text) VALUES (?, ?)",
            [(seq, _frozen_search_text(json.loads(text).get("turns") or [])) for seq, text in rows if text],
        )


def _m010_raw_line_content_key(db: sqlite_utils.Database) -> None:
    """``raw_results.content_key``: the SHA-256 of an imported line that was parsed into a sample
    (issue 14: a copy of an imported file at another path added every sample again). Indexed only
    where set, so batch lines (whose origin, the batch id, is already unique) cost nothing."""
    db.execute("ALTER TABLE raw_results ADD COLUMN content_key TEXT")
    db.execute("CREATE INDEX idx_raw_content_key ON raw_results(content_key) WHERE content_key IS NOT NULL")
    # imported lines stored as samples before: their keys too, so a copy of an earlier import is known
    ids = [r[0] for r in db.execute("SELECT id FROM raw_results WHERE substr(origin, 1, 7) = 'import:' AND status = 'parsed' ORDER BY id")]
    for i in range(0, len(ids), 500):
        part = ids[i : i + 500]
        rows = db.execute(f"SELECT id, line FROM raw_lines WHERE id IN ({','.join('?' * len(part))})", part).fetchall()
        db.conn.executemany(
            "UPDATE raw_results SET content_key = ? WHERE id = ?", [(hashlib.sha256(line.encode("utf-8")).hexdigest(), rid) for rid, line in rows]
        )


_M011_DECIDING_REVIEW_SQL = """COALESCE(
    (SELECT MAX(r.id) FROM reviews r WHERE r.uid = sample_state.uid AND r.adjudication = 1
        AND r.decision IN ('accept', 'reject', 'skip')
        AND NOT EXISTS (SELECT 1 FROM reviews u WHERE u.uid = r.uid AND u.decision = 'undo' AND u.undoes = r.id)),
    (SELECT MAX(ad.review_id) FROM annotator_decisions ad WHERE ad.uid = sample_state.uid AND ad.decision = 'accept'))"""
"""Frozen: how publishing found the review that decided an accepted sample before 011 (the latest
effective adjudication, else the latest accept among the annotators' own decisions)."""


def _m011_accepted_review(db: sqlite_utils.Database) -> None:
    """``sample_state.accepted_review_id``: the review whose accept decided the sample (NULL unless
    the state is decided with decision accept), written with the rest of the state by
    ``datagen.review``; publishing reads it instead of re-deriving the review rules in SQL (issue 16).
    Samples accepted before get it from the query publishing used until then."""
    db.execute("ALTER TABLE sample_state ADD COLUMN accepted_review_id INTEGER")
    db.execute(f"UPDATE sample_state SET accepted_review_id = {_M011_DECIDING_REVIEW_SQL} WHERE state = 'decided' AND decision = 'accept'")


def _m012_judge(db: sqlite_utils.Database) -> None:
    """The model judge (issue 17, part 1: :mod:`datagen.judge`):

    - ``findings.source``: who found it, ``rule`` (the checks and corpus checks of
      :mod:`datagen.quality`; every row stored before) or ``judge:<model>`` (a judge model's
      verdict). Each writer replaces only its own source's rows, so re-running the rule gate keeps
      the judge's findings and a new verdict keeps the rules'.
    - ``judge_verdicts``: every parsed judge answer, append-only (the latest per ``(uid, model)`` is
      in force): the overall verdict, reason key and evidence quote, the per-turn verdicts as JSON,
      the revision judged (NULL: the sample as stored), the answering model and its usage, and the
      raw line it came from.
    """
    db.execute("ALTER TABLE findings ADD COLUMN source TEXT NOT NULL DEFAULT 'rule'")
    db.execute("CREATE INDEX idx_findings_source ON findings(source, uid)")
    db.execute(
        """CREATE TABLE judge_verdicts (
            id INTEGER PRIMARY KEY, uid TEXT NOT NULL, model TEXT NOT NULL, custom_id TEXT NOT NULL, raw_id INTEGER,
            revision_id INTEGER, verdict TEXT NOT NULL, reason TEXT, evidence TEXT, turns TEXT NOT NULL, response_model TEXT,
            usage TEXT, created_at TEXT NOT NULL)"""
    )
    db.execute("CREATE INDEX idx_judge_verdicts_uid ON judge_verdicts(uid, model, id)")
    db.execute("CREATE INDEX idx_judge_verdicts_model ON judge_verdicts(model, id)")


_M013_LANE_SQL = """CASE WHEN sample_state.kind = 'gold' OR EXISTS (SELECT 1 FROM findings f WHERE f.uid = sample_state.uid) THEN 0
    WHEN EXISTS (SELECT 1 FROM lot_items li WHERE li.uid = sample_state.uid AND li.held = 1) THEN 2 ELSE 1 END"""
"""Frozen: ``sample_state.lane_rank`` of a ``sample_state`` row as 013 defines it (0 gold or any finding,
2 clean and held out of the queue by an open audit lot, 1 clean)."""


def _m013_audit_lots(db: sqlite_utils.Database) -> None:
    """Triage lanes and audited lots (issue 17, parts 2–3).

    - ``sample_state.lane_rank``: the queue's lane order, kept by triggers on ``findings`` and
      ``sample_state`` whatever code writes them (rule checks, a model judge, corpus checks):
      0 = a person must look (gold, or any finding of any source or severity), 1 = clean,
      2 = clean and held out of the queue by an open audit lot (``lot_items.held``). The rank
      indexes order by ``(rank, lane_rank, seq)``, so the queue serves flagged before clean and
      stays an index range scan;
    - ``sample_state.approved_by``: ``lot:<id>`` when an audited lot decided the sample (NULL: a
      person's review did, or nothing did);
    - ``audit_params`` (publisher-set p0, confidence, allowed defects; newest row wins), ``lots``
      (one job's clean lane of one category, its parameters, seed, sample size and state),
      ``lot_items`` (members; ``draw`` = position in the audit sample, NULL when not drawn),
      ``lot_events`` (start / fail / approve / revoke, with the audit figures; append-only) and
      ``lot_decisions`` (per sample: the lot's approval and its revocation; append-only).
    """
    db.execute("ALTER TABLE sample_state ADD COLUMN lane_rank INTEGER NOT NULL DEFAULT 1")
    db.execute("ALTER TABLE sample_state ADD COLUMN approved_by TEXT")
    db.execute(
        """CREATE TABLE audit_params (id INTEGER PRIMARY KEY, p0 REAL NOT NULL, confidence REAL NOT NULL,
            allowed_defects INTEGER NOT NULL DEFAULT 0, set_by TEXT, set_at TEXT)"""
    )
    db.execute(
        """CREATE TABLE lots (id INTEGER PRIMARY KEY, job_id TEXT NOT NULL, category TEXT NOT NULL, kind TEXT NOT NULL,
            size INTEGER NOT NULL, sample_size INTEGER NOT NULL, p0 REAL NOT NULL, confidence REAL NOT NULL,
            allowed_defects INTEGER NOT NULL, seed INTEGER NOT NULL, state TEXT NOT NULL, created_by TEXT,
            created_at TEXT, updated_at TEXT)"""
    )
    db.execute("CREATE INDEX idx_lots_job ON lots(job_id, category)")
    db.execute(
        """CREATE TABLE lot_items (lot_id INTEGER NOT NULL, uid TEXT NOT NULL, draw INTEGER, held INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (lot_id, uid))"""
    )
    db.execute("CREATE INDEX idx_lot_items_uid ON lot_items(uid, held)")
    db.execute("CREATE INDEX idx_lot_items_draw ON lot_items(lot_id, draw) WHERE draw IS NOT NULL")
    db.execute(
        """CREATE TABLE lot_events (id INTEGER PRIMARY KEY, lot_id INTEGER NOT NULL, action TEXT NOT NULL, actor TEXT,
            figures TEXT, note TEXT, at TEXT)"""
    )
    db.execute("CREATE INDEX idx_lot_events_lot ON lot_events(lot_id, id)")
    db.execute(
        """CREATE TABLE lot_decisions (id INTEGER PRIMARY KEY, uid TEXT NOT NULL, lot_id INTEGER NOT NULL, action TEXT NOT NULL,
            approved_by TEXT NOT NULL, revision_id INTEGER, actor TEXT, figures TEXT, created_at TEXT)"""
    )
    db.execute("CREATE INDEX idx_lot_decisions_uid ON lot_decisions(uid, id)")
    db.execute("CREATE INDEX idx_lot_decisions_lot ON lot_decisions(lot_id)")
    db.execute(f"UPDATE sample_state SET lane_rank = {_M013_LANE_SQL}")
    for name in ("idx_state_rank", "idx_state_kind", "idx_state_category", "idx_state_filter"):
        db.execute(f"DROP INDEX IF EXISTS {name}")
    db.execute("CREATE INDEX idx_state_rank ON sample_state(rank, lane_rank, seq)")
    db.execute("CREATE INDEX idx_state_kind ON sample_state(kind, rank, lane_rank, seq)")
    db.execute("CREATE INDEX idx_state_category ON sample_state(category, rank, lane_rank, seq)")
    db.execute("CREATE INDEX idx_state_filter ON sample_state(kind, category, rank, lane_rank, seq)")
    db.execute("CREATE INDEX idx_state_approved_by ON sample_state(approved_by) WHERE approved_by IS NOT NULL")
    # any finding (of any source) puts the sample in a person's lane; the last one gone takes it back
    db.execute(
        "CREATE TRIGGER findings_lane_ai AFTER INSERT ON findings BEGIN UPDATE sample_state SET lane_rank = 0 WHERE uid = new.uid AND lane_rank <> 0; END"
    )
    db.execute(
        "CREATE TRIGGER findings_lane_ad AFTER DELETE ON findings "
        "WHEN NOT EXISTS (SELECT 1 FROM findings f WHERE f.uid = old.uid) BEGIN "
        f"UPDATE sample_state SET lane_rank = {_M013_LANE_SQL} WHERE sample_state.uid = old.uid; END"
    )
    db.execute(
        "CREATE TRIGGER findings_lane_au AFTER UPDATE OF uid ON findings BEGIN "
        "UPDATE sample_state SET lane_rank = 0 WHERE uid = new.uid AND lane_rank <> 0; "
        f"UPDATE sample_state SET lane_rank = {_M013_LANE_SQL} WHERE sample_state.uid = old.uid; END"
    )
    # a state row written after its findings (or a gold one): its lane at once
    db.execute(
        "CREATE TRIGGER sample_state_lane_ai AFTER INSERT ON sample_state "
        "WHEN new.kind = 'gold' OR EXISTS (SELECT 1 FROM findings f WHERE f.uid = new.uid) BEGIN "
        "UPDATE sample_state SET lane_rank = 0 WHERE uid = new.uid; END"
    )
    db.execute(
        "CREATE TRIGGER sample_state_lane_au AFTER UPDATE OF kind ON sample_state BEGIN "
        f"UPDATE sample_state SET lane_rank = {_M013_LANE_SQL} WHERE sample_state.uid = new.uid; END"
    )


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
    ("011_accepted_review", _m011_accepted_review),
    ("012_judge", _m012_judge),
    ("013_audit_lots", _m013_audit_lots),
]


class _Runner(sqlite_utils.Migrations):
    """:class:`sqlite_utils.Migrations` recording in this project's ``_migrations(name TEXT PRIMARY
    KEY, applied_at TEXT)`` (the table every database migrated before this module has) instead of
    ``_sqlite_migrations``: a database migrated by the old ``store.migrate`` is recognised as is."""

    migrations_table = "_migrations"

    def applied(self, db: sqlite_utils.Database) -> list:
        try:
            rows = db.execute("SELECT name, applied_at FROM _migrations ORDER BY rowid").fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" not in str(exc):
                raise
            return []  # a new database
        return [self._AppliedMigration(name=name, applied_at=at) for name, at in rows]

    def ensure_migrations_table(self, db: sqlite_utils.Database) -> None:
        db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT)")

    def _record_applied(self, db: sqlite_utils.Database, name: str) -> None:
        db.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, ?)", [name, _now()])


RUNNER = _Runner("datagen")
for _name, _fn in MIGRATIONS:
    RUNNER(name=_name)(_fn)


def applied_names(db: sqlite_utils.Database) -> set[str]:
    """Names of the migrations recorded in ``_migrations`` (empty for a new database)."""
    return {m.name for m in RUNNER.applied(db)}


def migrate(db: sqlite_utils.Database, *, stop_before: str | None = None) -> list[str]:
    """Apply the pending :data:`MIGRATIONS` in order (all, or those before ``stop_before``); returns
    the names applied now.

    Each step runs with its record in one savepoint (:meth:`sqlite_utils.Migrations.apply`): a step
    that raises leaves none of its tables, columns or rows behind and is not recorded. All pending
    steps run inside one ``BEGIN IMMEDIATE`` transaction, and which ones are pending is read again
    once the write lock is held, so when several processes open a new (or older) database at once
    exactly one applies each step and the others wait (``busy_timeout``) and find them done
    (issue 14). A failing step rolls back the whole call: the database is as it was before it.

    Raises:
        ValueError: ``stop_before`` names a migration already applied.
        Exception: whatever the failing step raised (nothing of this call is kept).
    """
    names = [name for name, _ in MIGRATIONS]
    if stop_before is None and set(names) <= applied_names(db):  # the common case: no write lock
        return []
    conn = db.conn
    own = not conn.in_transaction  # inside a caller's transaction: join it (savepoints per step)
    if own:
        conn.execute("BEGIN IMMEDIATE")
    try:
        before = applied_names(db)
        RUNNER.apply(db, stop_before=stop_before)
        after = applied_names(db)
    except BaseException:
        if own and conn.in_transaction:
            conn.rollback()
        raise
    if own:
        conn.commit()
    return [name for name in names if name in after and name not in before]
