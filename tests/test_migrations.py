"""Migrations (datagen.migrations): frozen steps, each atomic, recorded in ``_migrations``; a database
reviewed before migration 003 gets the state today's rules give it; the store layer imports nothing
above it."""

from __future__ import annotations

import ast
import json
import sqlite3
from pathlib import Path

import pytest
import sqlite_utils
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datagen import migrations, review

ROOT = Path(__file__).resolve().parents[1]
NAMES = [name for name, _ in migrations.MIGRATIONS]


def memory_db() -> sqlite_utils.Database:
    return sqlite_utils.Database(sqlite3.connect(":memory:"))


def at_002() -> sqlite_utils.Database:
    """A database as migrations 001–002 left it (before the review workbench)."""
    db = memory_db()
    assert migrations.migrate(db, stop_before="003_review_workbench") == ["001_initial", "002_quality_gate"]
    return db


def add_sample(db, uid: str, kind: str, dialogue: str | None = None) -> None:
    with db.conn:
        db.execute(
            "INSERT INTO samples (uid, custom_id, kind, category, source, model, dialogue, usage, content_hash, created_at) "
            "VALUES (?, ?, ?, 'cancel', 'import:x.jsonl', 'm', ?, '{}', 'h', 't')",
            [
                uid,
                f"{kind}-cancel-{uid}",
                kind,
                dialogue if dialogue is not None else json.dumps({"uid": uid, "turns": [{"role": "user", "content": "주문 취소"}]}),
            ],
        )


# reviews at 002 had no undo / adjudication / revision columns: decisions by a few annotators
_reviews = st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.sampled_from(["accept", "reject", "skip"])), max_size=6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(samples=st.lists(st.tuples(st.sampled_from(["train", "gold"]), _reviews), min_size=1, max_size=5))
def test_a_database_reviewed_at_002_gets_todays_state_when_migrated_to_head(samples):
    db = at_002()
    for i, (kind, decisions) in enumerate(samples):
        add_sample(db, f"u{i}", kind)
        with db.conn:
            for annotator, decision in decisions:
                db.execute(
                    "INSERT INTO reviews (uid, annotator, decision, reasons, note, created_at) VALUES (?, ?, ?, '[]', '', 't')", [f"u{i}", annotator, decision]
                )
    assert migrations.migrate(db) == NAMES[2:]
    for i, (kind, _) in enumerate(samples):
        uid = f"u{i}"
        rows = db.execute("SELECT id, annotator, decision, undoes, adjudication, revision_id FROM reviews WHERE uid = ? ORDER BY id", [uid]).fetchall()
        want = review.derive_state(rows, kind=kind, required_votes=review.GOLD_REQUIRED_VOTES)
        got = db.execute("SELECT state, rank, decision, n_votes, accepted_revision_id, accepted_review_id FROM sample_state WHERE uid = ?", [uid]).fetchone()
        assert got == (want["state"], want["rank"], want["decision"], want["n_votes"], want["accepted_revision_id"], want["accepted_review_id"])
        assert {a: (d, r) for a, d, r in db.execute("SELECT annotator, decision, review_id FROM annotator_decisions WHERE uid = ?", [uid])} == want[
            "annotators"
        ]


def test_gold_votes_at_002_become_disputed_decided_or_partial():
    """The property above on named cases, so a rule that gives every sample the same state fails."""
    db = at_002()
    for uid, kind, votes in [
        ("g1", "gold", [("a", "accept"), ("b", "reject")]),
        ("g2", "gold", [("a", "accept"), ("b", "accept")]),
        ("g3", "gold", [("a", "reject")]),
        ("t1", "train", [("a", "accept"), ("a", "skip")]),
        ("t2", "train", []),
    ]:
        add_sample(db, uid, kind)
        with db.conn:
            for annotator, decision in votes:
                db.execute(
                    "INSERT INTO reviews (uid, annotator, decision, reasons, note, created_at) VALUES (?, ?, ?, '[]', '', 't')", [uid, annotator, decision]
                )
    migrations.migrate(db)
    assert dict(db.execute("SELECT uid, state || ':' || COALESCE(decision, '-') FROM sample_state").fetchall()) == {
        "g1": "disputed:-",
        "g2": "decided:accept",
        "g3": "partial:-",
        "t1": "skipped:skip",
        "t2": "pending:-",
    }


_rows = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c"]),
        st.sampled_from(["accept", "reject", "skip", "undo"]),
        st.integers(0, 5).map(lambda n: n == 5),
        st.one_of(st.none(), st.integers(1, 3)),
    ),
    max_size=8,
)


@settings(max_examples=300)
@given(rows=_rows, kind=st.sampled_from(["train", "gold", "gold"]), required=st.integers(1, 3))
def test_the_frozen_003_rule_is_todays_live_rule(rows, kind, required):
    """Migration 003's frozen copy and review.derive_state agree today (undo and adjudication rows
    included). When the live rule changes on purpose, this test is where that shows: pin the old
    answers of _m003_state_of on examples instead of comparing."""
    full = [(k + 1, a, d, (k if d == "undo" and k else None), int(adj and d != "undo"), rev) for k, (a, d, adj, rev) in enumerate(rows)]
    state, rank, decision, n_votes, accepted, per = migrations._m003_state_of(full, kind=kind, required_votes=required)
    live = review.derive_state(full, kind=kind, required_votes=required)
    assert (state, rank, decision, n_votes, accepted) == (live["state"], live["rank"], live["decision"], live["n_votes"], live["accepted_revision_id"])
    assert {a: (r[2], r[0]) for a, r in per.items()} == live["annotators"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(samples=st.lists(st.tuples(st.sampled_from(["train", "gold"]), _rows), min_size=1, max_size=4))
def test_the_materialised_deciding_review_is_the_one_publishing_used_to_derive(samples):
    """Migration 011 / review.derive_state materialise ``accepted_review_id``; publishing read the
    same review through an SQL re-encoding of the review rules before (kept frozen as 011's
    backfill). On any history of decisions, undos and adjudications both name the same review."""
    db = memory_db()
    migrations.migrate(db)
    for i, (kind, rows) in enumerate(samples):
        uid = f"u{i}"
        add_sample(db, uid, kind)
        with db.conn:
            ids = []
            for annotator, decision, adjudication, _ in rows:
                undoes = ids[-1] if decision == "undo" and ids else None
                cur = db.execute(
                    "INSERT INTO reviews (uid, annotator, decision, reasons, note, created_at, undoes, adjudication) VALUES (?, ?, ?, '[]', '', 't', ?, ?)",
                    [uid, annotator, decision, undoes, int(adjudication)],
                )
                ids.append(cur.lastrowid)
        review.recompute_state(db, uid)
    got = db.execute("SELECT uid, accepted_review_id FROM sample_state ORDER BY uid").fetchall()
    old = db.execute(
        f"SELECT uid, CASE WHEN state = 'decided' AND decision = 'accept' THEN {migrations._M011_DECIDING_REVIEW_SQL} END FROM sample_state ORDER BY uid"
    ).fetchall()
    assert got == old


def schema(db) -> list[tuple]:
    return db.execute("SELECT type, name, sql FROM sqlite_master ORDER BY type, name").fetchall()


def test_a_failing_step_leaves_nothing_behind_and_is_not_recorded():
    """Migration 003 creates its tables, then fails on a stored dialogue without turns (KeyError in
    the FTS backfill): none of its tables, columns or rows stay, and it stays pending."""
    db = at_002()
    add_sample(db, "bad", "train", dialogue='{"uid": "bad"}')
    before = schema(db)
    with pytest.raises(KeyError):
        migrations.migrate(db)
    assert not db.conn.in_transaction
    assert schema(db) == before
    assert "sample_state" not in db.table_names() and "revisions" not in db.table_names()
    assert "undoes" not in db["reviews"].columns_dict
    assert migrations.applied_names(db) == {"001_initial", "002_quality_gate"}
    with db.conn:  # fixed data: the same migration then applies
        db.execute("UPDATE samples SET dialogue = ? WHERE uid = 'bad'", ['{"uid": "bad", "turns": []}'])
    assert migrations.migrate(db) == NAMES[2:]


def test_a_failing_step_in_a_new_database_leaves_it_empty(monkeypatch):
    """All pending steps run under one lock: a failure in a later one rolls back the call, so a new
    file is left without tables (and the next open starts again)."""
    db = memory_db()

    def boom(db):
        db.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("step failed")

    runner = migrations._Runner("test")
    for name, fn in migrations.MIGRATIONS[:2]:
        runner(name=name)(fn)
    runner(name="003_boom")(boom)
    monkeypatch.setattr(migrations, "RUNNER", runner)
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:2] + [("003_boom", boom)])
    with pytest.raises(RuntimeError, match="step failed"):
        migrations.migrate(db)
    assert db.table_names() == []


def test_a_database_migrated_by_the_old_runner_is_recognised(tmp_path):
    """Before datagen.migrations, store.migrate recorded names in _migrations(name PRIMARY KEY,
    applied_at): such a database counts as fully migrated and gets no second record table."""
    path = tmp_path / "old.db"
    db = sqlite_utils.Database(sqlite3.connect(str(path)))
    db.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
    for name, fn in migrations.MIGRATIONS:
        with db.conn:
            fn(db)
            db.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, '2026-11-01T00:00:00+00:00')", [name])
    db.conn.close()
    from datagen.store import connect

    again = connect(path)
    assert migrations.migrate(again) == []
    assert "_sqlite_migrations" not in again.table_names()
    assert again.execute("SELECT COUNT(*) FROM _migrations").fetchone()[0] == len(NAMES)


def test_stop_before_an_applied_migration_is_refused():
    db = memory_db()
    migrations.migrate(db)
    with pytest.raises(ValueError, match="already"):
        migrations.migrate(db, stop_before="003_review_workbench")


def _datagen_imports(module: str) -> set[str]:
    tree = ast.parse((ROOT / "datagen" / f"{module}.py").read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                out |= {node.module} if node.module else {a.name for a in node.names}
            elif node.module and node.module.split(".")[0] == "datagen":
                out.add(node.module.split(".", 1)[1] if "." in node.module else node.module)
        elif isinstance(node, ast.Import):
            out |= {a.name.split(".", 1)[1] for a in node.names if a.name.startswith("datagen.")}
    return out


def test_store_and_migrations_import_nothing_above_them():
    """Issue 16: the store layer does not reach up into the domain (review, quality, jobs, …);
    migrations import nothing of datagen at all (frozen steps), store only its own helpers."""
    assert _datagen_imports("migrations") == set()
    assert _datagen_imports("store") <= {"settings", "fastjson", "migrations"}
    assert _datagen_imports("settings") == set() and _datagen_imports("fastjson") == set()


def test_012_marks_every_finding_stored_before_as_a_rules_and_adds_judge_verdicts():
    """Migration 012 (the model judge): existing findings get source 'rule', so the rule gate keeps
    replacing them and a judge's rows are told apart."""
    db = memory_db()
    migrations.migrate(db, stop_before="012_judge")
    add_sample(db, "u1", "train")
    with db.conn:
        db.execute(
            "INSERT INTO findings (uid, check_id, severity, turn, reason, message, created_at) "
            "VALUES ('u1', 'ungrounded_id', 'error', 1, 'ungrounded_id', 'm', 't')"
        )
    assert "source" not in db["findings"].columns_dict and "judge_verdicts" not in db.table_names()
    assert migrations.migrate(db)[0] == "012_judge"
    assert db.execute("SELECT source FROM findings").fetchall() == [("rule",)]
    assert {"uid", "model", "custom_id", "raw_id", "revision_id", "verdict", "reason", "evidence", "turns", "response_model", "usage", "created_at"} <= set(
        db["judge_verdicts"].columns_dict
    )
    with db.conn:  # a new row without a source is a rule's too (the writers of the checks name none)
        db.execute("INSERT INTO findings (uid, check_id, severity, created_at) VALUES ('u1', 'x', 'warning', 't')")
    assert [r[0] for r in db.execute("SELECT source FROM findings")] == ["rule", "rule"]
