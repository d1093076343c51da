"""One transaction idiom: ``store.write_transaction`` (ARCHITECTURE.md, "Storage"; issue 16 point 5).

sqlite3's ``with db.conn:`` made nothing atomic under sqlite-utils 4 (its ``execute`` and table
methods commit the implicit transaction a write opens), so it is kept out of every module but
``store`` and ``migrations``; the tests below show what that changes.
"""

from __future__ import annotations

import ast
import sqlite3
from pathlib import Path

import pytest

from datagen import batches, jobs, store
from datagen.store import write_transaction

ROOT = Path(__file__).resolve().parents[1]
ALLOWED = {"datagen/store.py", "datagen/migrations.py"}


def _conn_withs(path: Path) -> list[int]:
    """Lines of ``with <anything>.conn:`` (or ``with conn:``) statements in a file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                e = item.context_expr
                if (isinstance(e, ast.Attribute) and e.attr == "conn") or (isinstance(e, ast.Name) and e.id == "conn"):
                    found.append(node.lineno)
    return found


def test_no_module_outside_store_and_migrations_uses_with_db_conn():
    files = [*sorted((ROOT / "datagen").rglob("*.py")), *sorted((ROOT / "pages").glob("*.py")), ROOT / "app.py"]
    offenders = {str(p.relative_to(ROOT)): lines for p in files if str(p.relative_to(ROOT)) not in ALLOWED and (lines := _conn_withs(p))}
    assert offenders == {}


def test_the_checker_sees_with_db_conn(tmp_path):
    fake = tmp_path / "x.py"
    fake.write_text("def f(db, conn):\n    with db.conn:\n        pass\n    with open('x') as f, conn:\n        pass\n", encoding="utf-8")
    assert _conn_withs(fake) == [2, 4]


def test_with_db_conn_is_not_atomic_under_sqlite_utils_but_write_transaction_is(db):
    """Why the idiom matters: the second write fails, and only write_transaction takes the first back."""
    db.execute("CREATE TABLE t (a INTEGER PRIMARY KEY)")
    with pytest.raises(sqlite3.IntegrityError):
        with db.conn:
            db.execute("INSERT INTO t VALUES (1)")
            db["t"].insert({"a": 1})  # duplicate key
    assert db.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 1  # the first insert stayed
    with pytest.raises(sqlite3.IntegrityError):
        with write_transaction(db):
            db.execute("INSERT INTO t VALUES (2)")
            db["t"].insert({"a": 2})
    assert db.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 1  # nothing of the failed block


def test_a_job_whose_requests_cannot_be_recorded_leaves_no_job_behind(db, monkeypatch):
    """create_job's three writes (job, parts, requests) are one transaction: a failure in the last
    one used to keep the ``jobs`` row, whose idempotency key then answered a retry with an empty job."""

    def fail(*args, **kwargs):
        raise RuntimeError("disk full while recording requests")

    monkeypatch.setattr(jobs, "record_requests", fail)
    with pytest.raises(RuntimeError):
        jobs.create_job(db, kind="train", counts={"search": 2}, seed=1, idempotency_key="form-1")
    assert db["jobs"].count == 0 and db["requests"].count == 0
    monkeypatch.undo()
    job = jobs.create_job(db, kind="train", counts={"search": 2}, seed=1, idempotency_key="form-1")
    assert job["n_requests"] == 2 and db["requests"].count == 2


def test_mark_requests_is_one_transaction(db, monkeypatch):
    job = jobs.create_job(db, kind="train", counts={"search": 3}, seed=1)
    ids = [r[0] for r in db.execute("SELECT custom_id FROM requests WHERE job_id = ? ORDER BY custom_id", [job["id"]])]
    real_execute = db.execute
    calls = []

    def execute(sql, params=None):
        if sql.startswith("UPDATE requests"):
            calls.append(sql)
            if len(calls) == 2:
                raise RuntimeError("crash between two chunks")
        return real_execute(sql, params)

    monkeypatch.setattr(db, "execute", execute)
    with pytest.raises(RuntimeError):  # two chunks of 500: the real ids in the first
        jobs.mark_requests(db, ids + [f"train-search-{n:05d}" for n in range(100, 700)], status="submitted")
    assert len(calls) == 2
    monkeypatch.undo()
    assert {r[0] for r in db.execute("SELECT status FROM requests")} == {"planned"}


def test_submitting_inside_an_open_transaction_is_refused(db):
    """Each file id and create attempt must be committed before the next API call; joining an open
    transaction would hold them back, so _submit_part refuses (a bug in the caller)."""
    job = jobs.create_job(db, kind="train", counts={"search": 1}, seed=1)
    with pytest.raises(RuntimeError, match="open transaction"):
        with write_transaction(db):
            batches.submit_job(db, job["id"])
    assert db["batches"].count == 0


def test_write_transaction_joins_an_open_one_and_rolls_back_on_any_exception(db):
    db.execute("CREATE TABLE t (a INTEGER)")
    with pytest.raises(KeyboardInterrupt):
        with store.write_transaction(db):
            db.execute("INSERT INTO t VALUES (1)")
            with store.write_transaction(db):
                db.execute("INSERT INTO t VALUES (2)")
            assert db.conn.in_transaction  # the inner block did not commit
            raise KeyboardInterrupt
    assert db.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 0
