"""Ingest at batch scale: parse-and-check workers, tool lists stored once, raw lines stored while
earlier ones are parsed, and the readers that put the tools back (datagen.ingest, datagen.store)."""

from __future__ import annotations

import json
import math
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datagen import config, fastjson, ingest, jobs, quality, scenarios, store
from datagen.analytics import load_dialogues
from datagen.dialogue import Dialogue, Turn, new_uid
from datagen.offline import OfflineOptions, complete_request
from datagen.review import get_dialogue


def write_batch_output(path, n: int, *, error_rate=0.1, truncation_rate=0.1) -> None:
    """n offline batch output lines (some HTTP errors and cut-off answers among them)."""
    opts = OfflineOptions(error_rate=error_rate, truncation_rate=truncation_rate)
    per = max(1, n // len(config.CATEGORIES) + 1)
    base = scenarios.make_scenarios("train", {c: per for c in config.CATEGORIES}, 5)[:n]
    with path.open("w", encoding="utf-8") as fh:
        for sc in base:
            line = complete_request(sc["custom_id"], jobs.build_request_line(sc, model="gpt-4.1-mini", temperature=0.9)["body"], opts)
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")


def snapshot(db):
    """Everything ingest stores, without the ids and times that differ between runs."""
    samples = sorted(
        db.execute("SELECT s.custom_id, s.kind, s.category, s.content_hash, sd.dialogue FROM sample_dialogues sd JOIN samples s USING (uid)").fetchall()
    )
    samples = [(c, k, cat, h, {**json.loads(d), "uid": None}) for c, k, cat, h, d in samples]
    findings = sorted(db.execute("SELECT s.custom_id, f.check_id, f.turn, f.message FROM findings f JOIN samples s USING (uid)").fetchall())
    raw = sorted(db.execute("SELECT line_no, status, reason FROM raw_results").fetchall())
    return samples, findings, raw


@pytest.fixture
def output_file(tmp_path):
    path = tmp_path / "output.jsonl"
    write_batch_output(path, 60)
    return path


# ----------------------------------------------------------------------------- tools stored once


def test_a_batch_stores_its_tool_list_once_and_every_reader_gets_it_back(db, output_file):
    summary = ingest.import_file(db, output_file)
    assert summary["imported"] >= 30 and summary["failed"] >= 1
    assert db["toolsets"].count == 1
    (tools_json,) = db.execute("SELECT tools FROM toolsets").fetchone()
    assert json.loads(tools_json) == config.TOOLS
    assert db.execute("SELECT COUNT(*) FROM samples WHERE toolset IS NULL OR instr(dialogue, '\"tools\":') > 0").fetchone()[0] == 0
    uid = db.execute("SELECT uid FROM samples ORDER BY rowid LIMIT 1").fetchone()[0]
    d = get_dialogue(db, uid)
    assert d.tools == config.TOOLS and d.turns
    (text,) = db.execute("SELECT dialogue FROM sample_dialogues WHERE uid = ?", [uid]).fetchone()
    assert text == d.model_dump_json()  # byte for byte what the Dialogue dumps
    # (the workers hand the writer UTF-8 bytes: stored as text, never as a blob)
    assert db.execute("SELECT COUNT(*) FROM samples WHERE typeof(dialogue) <> 'text'").fetchone()[0] == 0
    assert all(x.tools == config.TOOLS for x in ingest.iter_dialogues(db))
    frame = load_dialogues(db)
    assert len(frame) == summary["imported"]


def test_rows_stored_before_keep_their_inline_tools_and_read_the_same(db):
    d = Dialogue(uid="legacy-1", tools=config.TOOLS, turns=[Turn(role="user", content="짜장면 주문할래요")])
    db["samples"].insert({"uid": d.uid, "kind": "train", "category": "imported", "dialogue": d.model_dump_json()})
    db.conn.commit()
    assert get_dialogue(db, "legacy-1") == d
    assert db.execute("SELECT dialogue FROM sample_dialogues WHERE uid = 'legacy-1'").fetchone()[0] == d.model_dump_json()


def test_a_sample_naming_a_missing_toolset_reads_as_null_not_as_a_dialogue_without_tools(db):
    d = Dialogue(uid="orphan", tools=config.TOOLS, turns=[Turn(role="user", content="안녕하세요")])
    stored = store.split_tools(d.model_dump_json(), d.tools_json())
    db.execute("INSERT INTO samples (uid, kind, dialogue, toolset) VALUES ('orphan', 'train', ?, 'no-such-hash')", [stored])
    db.conn.commit()
    assert db.execute("SELECT dialogue FROM sample_dialogues WHERE uid = 'orphan'").fetchone()[0] is None


_text = st.text(st.characters(blacklist_categories=["Cs"]), max_size=40)
_json_value = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.floats(allow_nan=False, allow_infinity=False) | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(
    system_prompt=_text,
    contents=st.lists(_text, min_size=1, max_size=4),
    extra=st.dictionaries(st.sampled_from(["turns", "tools", "description", "x"]), _json_value, max_size=3),
)
def test_split_and_join_round_trip_any_dialogue(system_prompt, contents, extra):
    """Tool specs holding "turns" / "tools" keys and strings holding ',"turns":' cannot fool the cut."""
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}, **extra}}]
    turns = [Turn(role="user" if i % 2 == 0 else "assistant", content=c) for i, c in enumerate(contents)]
    d = Dialogue(uid=',"turns":', system_prompt=system_prompt, tools=tools, turns=turns, source=',"tools":[]')
    full, tools_json = d.model_dump_json(), d.tools_json()
    stored = store.split_tools(full, tools_json)
    assert '"tools":' + tools_json not in stored
    assert store.join_tools(stored, tools_json) == full
    assert Dialogue.model_validate_json(store.join_tools(stored, tools_json)) == d
    # the same pair on UTF-8 bytes (publishing cuts the stored records it reads as bytes)
    assert store.split_tools(full.encode(), tools_json.encode()) == stored.encode()
    assert store.join_tools(stored.encode(), tools_json.encode()) == full.encode()
    # ingest serialises the stored form straight from the model: it is exactly that cut
    ingested, digest, ingested_tools, _, value = ingest._stored_form(d, set())
    assert value == json.loads(stored)
    assert (ingested, ingested_tools, digest) == (stored.encode(), tools_json, store.tools_hash(tools_json))


_any_json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=12,
)


@given(args=st.dictionaries(_text, _any_json_value, max_size=4), content=_text, name=_text)
@settings(max_examples=150, deadline=None)
def test_what_ingest_stores_and_the_checks_read_is_the_models_json(args, content, name):
    """Ingest serialises the stored form with orjson from model_dump instead of pydantic's
    serialiser, and builds the checks' input from the model instead of parsing what it stores: the
    text must be pydantic's to the byte and the value its parse, for any arguments (integers beyond
    64 bits, NaN and infinities, which JSON writes as null) and any text."""
    turns = [
        Turn(role="user", content=content),
        Turn(role="assistant", content=name, tool_calls=[{"id": "c1", "name": name or "f", "arguments": args}]),
        Turn(role="tool", tool_call_id="c1", name=name, content='{"ok": true}'),
    ]
    d = Dialogue(uid="u", system_prompt=content, turns=turns, tools=config.TOOLS, model=name or None)
    stored, value = ingest._serialised(d)
    assert stored == d.model_dump_json(exclude={"tools"}).encode()
    assert value == json.loads(stored)


@pytest.mark.parametrize("value", [math.inf, -math.inf, [1, {"x": math.nan}], 10**30, 2**64 - 1, -(2**63) - 1])
def test_arguments_json_cannot_keep_are_read_back_as_stored(value):
    d = Dialogue(uid="u", turns=[Turn(role="assistant", tool_calls=[{"name": "f", "arguments": {"a": value}}])])
    stored, decoded = ingest._serialised(d)
    assert stored == d.model_dump_json(exclude={"tools"}).encode()
    got = decoded["turns"][0]["tool_calls"][0]["arguments"]["a"]
    assert got == json.loads(stored)["turns"][0]["tool_calls"][0]["arguments"]["a"]
    assert got == (value if isinstance(value, int) else None if not isinstance(value, list) else [1, {"x": None}])


def test_a_tool_list_is_reused_only_when_made_of_the_same_objects_in_the_same_order():
    ref = [{"type": "function", "function": {"name": "f"}}]
    assert ingest._same_objects([dict(ref[0])], ref)
    assert not ingest._same_objects([{"function": ref[0]["function"], "type": "function"}], ref)  # other key order
    assert not ingest._same_objects([{"type": "function", "function": {"name": "f"}}], ref)  # equal, not the same
    assert not ingest._same_objects([dict(ref[0]), dict(ref[0])], ref)


# ----------------------------------------------------------------------------- workers and feed


def test_two_worker_processes_store_exactly_what_one_process_does(tmp_path, output_file):
    one = store.connect(tmp_path / "one.db")
    two = store.connect(tmp_path / "two.db")
    origin = f"import:{output_file}"
    lines = [(i, line.rstrip("\n")) for i, line in enumerate(output_file.open(encoding="utf-8"), 1)]
    for db, workers in ((one, 1), (two, 2)):
        store.insert_raw_lines(db, origin, lines)
        ingest.CHUNK, saved = 7, ingest.CHUNK  # several chunks, so the writer and the workers overlap
        try:
            ingest.process_raw(db, origins=origin, workers=workers)
        finally:
            ingest.CHUNK = saved
    assert snapshot(one) == snapshot(two)
    assert one["findings"].count > 0


HELD_STDOUT = r"""
import io, multiprocessing, os, sys, threading, time
from multiprocessing import util
sys.path.insert(0, sys.argv[1])
from datagen.pools import worker_pool
r, w = os.pipe()  # nobody reads r: a large write blocks inside write(), holding the stream's lock
sys.stdout = io.TextIOWrapper(io.BufferedWriter(io.FileIO(w, "w")), write_through=True)
flush = util._flush_std_streams
util._flush_std_streams = lambda: None  # the parent's flush before fork: as if the lock was taken just after it
def restore():  # in each worker: flush the streams on exit, as multiprocessing does
    util._flush_std_streams = flush
threading.Thread(target=lambda: sys.stdout.write("x" * 1_000_000), daemon=True).start()
time.sleep(0.5)
if sys.argv[2] == "plain":
    pool = multiprocessing.get_context("fork").Pool(2, initializer=restore)
else:
    pool = worker_pool(2, restore)
pids = [pool.apply(os.getpid) for _ in range(4)]
pool.close()
pool.join()  # each worker flushed its streams as it exited
sys.stderr.write("joined\n")
os._exit(0)
"""


def test_workers_forked_while_another_thread_holds_stdout_still_exit():
    """The Streamlit server forks the ingest workers while its other threads may be writing to
    stdout or stderr: a worker that inherited the held lock used to hang as it flushed its streams on
    exit, and the pool's join with it. Workers now write through streams of their own."""
    import os
    import signal
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[1])
    with tempfile.TemporaryFile("w+") as err:
        # its own process group, killed whole on a hang: hung workers must not outlive the test
        proc = subprocess.Popen([sys.executable, "-c", HELD_STDOUT, root, "worker_pool"], stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
        try:
            code = proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            code = "hung"
        err.seek(0)
        message = err.read()
    assert code == 0 and "joined" in message, (code, message)


def test_findings_stored_at_ingest_are_what_a_full_recheck_finds(db, output_file):
    ingest.import_file(db, output_file)
    at_ingest = sorted(db.execute("SELECT uid, check_id, turn, message FROM findings").fetchall())
    assert at_ingest
    assert db.execute("SELECT COUNT(*) FROM sample_state WHERE checked_at IS NULL").fetchone()[0] == 0
    quality.check_samples(db)
    assert sorted(db.execute("SELECT uid, check_id, turn, message FROM findings").fetchall()) == at_ingest


def test_state_rows_written_by_ingest_match_what_the_trigger_writes(db, output_file):
    ingest.import_file(db, output_file)
    d = Dialogue(uid="by-hand", kind="gold", category="imported", source="batch:b1:output", turns=[Turn(role="user", content="hi")])
    db["samples"].insert({"uid": d.uid, "kind": d.kind, "category": d.category, "source": d.source, "dialogue": d.model_dump_json()})
    db.conn.commit()
    rows = db.execute("SELECT s.rowid, st.seq, st.kind, s.kind, st.category, s.category, st.state FROM samples s JOIN sample_state st USING (uid)").fetchall()
    assert len(rows) == db["samples"].count
    assert all(r[0] == r[1] and r[2] == r[3] and r[4] == r[5] and r[6] == "pending" for r in rows)
    assert db.execute("SELECT batch_id FROM sample_state WHERE uid = 'by-hand'").fetchone()[0] == "b1"


def test_content_hash_at_ingest_is_the_dialogues_own(db, output_file):
    ingest.import_file(db, output_file)
    for h, text in db.execute("SELECT s.content_hash, sd.dialogue FROM samples s JOIN sample_dialogues sd USING (uid)"):
        assert Dialogue.model_validate_json(text).content_hash() == h


def test_a_crash_while_parsing_keeps_the_stored_lines_and_a_rerun_finishes_without_duplicates(db, tmp_path, monkeypatch):
    path = tmp_path / "big.jsonl"
    write_batch_output(path, 45, error_rate=0, truncation_rate=0)
    monkeypatch.setattr(ingest, "CHUNK", 10)
    real, calls = ingest.prepare, []

    def flaky(items, key="", *rest):
        calls.append(len(items))
        if len(calls) == 3:
            raise RuntimeError("worker died")
        return real(items, key, *rest)

    monkeypatch.setattr(ingest, "prepare", flaky)
    with pytest.raises(RuntimeError):
        ingest.import_file(db, path)
    assert db["raw_results"].count == 45  # every line was stored before any was parsed
    assert db["samples"].count == 10  # chunk 1 was written; chunk 2 was parsed, not yet written
    monkeypatch.setattr(ingest, "prepare", real)
    summary = ingest.import_file(db, path)
    assert summary["imported"] == 35 and db["samples"].count == 45 and db["raw_results"].count == 45
    assert db.execute("SELECT COUNT(DISTINCT custom_id) FROM samples").fetchone()[0] == 45
    assert ingest.import_file(db, path)["read"] == 0  # a third time adds nothing


def test_with_a_feed_lines_are_stored_chunk_by_chunk_each_before_it_is_parsed(db, tmp_path, monkeypatch):
    path = tmp_path / "fed.jsonl"
    write_batch_output(path, 35, error_rate=0, truncation_rate=0)
    monkeypatch.setattr(ingest, "CHUNK", 10)
    origin = f"import:{path}"
    lines = iter([(i, line.rstrip("\n")) for i, line in enumerate(path.open(encoding="utf-8"), 1)])
    events, real = [], ingest.prepare

    def feed():
        chunk = [next(lines, None) for _ in range(10)]
        chunk = [c for c in chunk if c]
        store.insert_raw_lines(db, origin, chunk)
        events.append(("stored", db["raw_results"].count))
        return chunk or None

    def spy(items, key="", *rest):
        stored = db.execute("SELECT MAX(id) FROM raw_results").fetchone()[0]
        assert max(i[0] for i in items) <= stored
        events.append(("parsed", len(items)))
        return real(items, key, *rest)

    monkeypatch.setattr(ingest, "prepare", spy)
    summary = ingest.process_raw(db, origins=origin, workers=1, feed=feed)
    assert summary["imported"] == 35
    assert events[:4] == [("stored", 10), ("parsed", 10), ("stored", 20), ("parsed", 10)]  # interleaved


def test_lines_stored_to_decide_on_the_workers_drain_before_more_are_stored(db, tmp_path, monkeypatch):
    """The lines stored before parsing starts (enough to choose 1 or 2 workers) are a backlog that is
    parsed before the feed stores more: stored-but-unparsed lines stay a few chunks, not
    PARALLEL_FROM lines for the whole run (each held in memory with its UTF-8 copy)."""
    path = tmp_path / "backlog.jsonl"
    write_batch_output(path, 120, error_rate=0, truncation_rate=0)
    monkeypatch.setattr(ingest, "CHUNK", 10)
    monkeypatch.setattr(ingest, "PARALLEL_FROM", 50)
    origin = f"import:{path}"
    lines = iter([(i, line.rstrip("\n")) for i, line in enumerate(path.open(encoding="utf-8"), 1)])
    counts = {"stored": 0, "written": 0}
    backlog_after_start = []
    real_write = ingest._write_chunk

    def feed():
        chunk = [c for c in (next(lines, None) for _ in range(10)) if c]
        if not chunk:
            return None
        store.insert_raw_lines(db, origin, chunk)
        counts["stored"] += len(chunk)
        if counts["written"]:
            backlog_after_start.append(counts["stored"] - counts["written"])
        return chunk

    def write(db_, rows, *args):
        counts["written"] += len(rows)
        return real_write(db_, rows, *args)

    monkeypatch.setattr(ingest, "_write_chunk", write)
    summary = ingest.process_raw(db, origins=origin, feed=feed)  # stores 50 lines, then picks 2 workers
    assert summary["imported"] == 120 and counts["written"] == 120
    # written chunk by chunk, up to PIPELINE_DEPTH + 1 chunks in flight: never the 50 of the start again
    assert backlog_after_start and max(backlog_after_start) <= (ingest.PIPELINE_DEPTH + 1) * 10 < 50


# ----------------------------------------------------------------------------- small pieces


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "a": 2}',
        "NaN",
        "[1e400]",
        "12345678901234567890123",
        '{"id": [-99999999999999999999]}',
        "1e19",
        '"\\ud800"',
        "[1.10, -0.0]",
        '{"k": "값"}',
        "18446744073709551615",
    ],
)
def test_fastjson_loads_gives_the_standard_librarys_value(text):
    want, got = json.loads(text), fastjson.loads(text)
    assert repr(got) == repr(want) or (isinstance(want, float) and math.isnan(want) and math.isnan(got))


@pytest.mark.parametrize("text", ["{", '{"a": }', "", "[1,]"])
def test_fastjson_loads_raises_the_standard_librarys_error(text):
    with pytest.raises(json.JSONDecodeError) as err:
        fastjson.loads(text)
    with pytest.raises(json.JSONDecodeError) as want:
        json.loads(text)
    assert (err.value.msg, err.value.pos) == (want.value.msg, want.value.pos)


def test_new_uids_are_uuid7_in_time_order():
    uids = [new_uid() for _ in range(50)]
    assert all(uuid.UUID(u).version == 7 for u in uids)
    assert uids == sorted(uids) and len(set(uids)) == 50


def test_batch_line_custom_id_is_read_from_the_head_or_the_whole_line():
    assert store._peek_custom_id('{"id": "batch_req_1", "custom_id": "train-menu-00001", "response": {}}') == "train-menu-00001"
    assert store._peek_custom_id('{"response": {}, "custom_id": "train-menu-00002"}') == "train-menu-00002"
    assert store._peek_custom_id('{"id": "x", "custom_id": "a\\"b", "response": {}}') == 'a"b'
    assert store._peek_custom_id("not json") is None and store._peek_custom_id('{"custom_id": 5}') is None


_HEAD_PART = st.sampled_from(["{", '"id"', '"custom_id"', ":", ",", '"', " ", "\t", "\n", "\u00a0", "\u3000", "\\", "x", "한", '"r":1}', "}"])


@settings(max_examples=300, deadline=None)
@given(
    line=st.one_of(
        st.lists(_HEAD_PART, max_size=24).map("".join),
        st.text(),
        st.builds(lambda cid, ws: f'{{"id":"b"{ws},{ws}"custom_id":"{cid}",{ws}"response":{{}}}}', st.text(), st.sampled_from(["", " ", "\u00a0", "\t"])),
    )
)
def test_batch_line_custom_id_is_the_same_read_from_text_or_its_utf8(line):
    """A file's lines reach the raw-line store as their UTF-8 bytes, other lines as text: the
    custom_id read from one is the one read from the other (white space is JSON's in both)."""
    try:
        data = line.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no bytes form (such a line never comes as bytes)
        return
    assert store._peek_custom_id(data) == store._peek_custom_id(line)


def test_lines_stored_before_a_crash_are_parsed_as_stored_even_if_the_file_changed(db, tmp_path):
    path = tmp_path / "again.jsonl"
    write_batch_output(path, 6, error_rate=0, truncation_rate=0)
    original = path.read_text(encoding="utf-8").splitlines()
    store.insert_raw_lines(db, f"import:{path.resolve()}", enumerate(original, 1))  # stored, then the process died
    path.write_text("\n".join(["not json any more"] * 6) + "\n", encoding="utf-8")
    summary = ingest.import_file(db, path)
    assert summary["imported"] == 6 and summary["failed"] == 0  # the stored lines, not the file's new text
    assert [r[0] for r in db.execute("SELECT l.line FROM raw_results r JOIN raw_lines l USING (id) ORDER BY r.line_no")] == original


def test_a_database_from_before_migration_007_keeps_its_samples_and_raw_lines(tmp_path):
    """Migrations 001–006 and data stored the old way (inline tools, line in raw_results), then the
    rest of the migrations: every reader sees the same dialogues and lines, and ingest goes on."""
    import sqlite3

    import sqlite_utils

    db = sqlite_utils.Database(sqlite3.connect(str(tmp_path / "old.db")))
    db["_migrations"].create({"name": str, "applied_at": str}, pk="name")
    for name, fn in store.MIGRATIONS[:6]:
        with db.conn:
            fn(db)
            db["_migrations"].insert({"name": name, "applied_at": "t"})
    assert "raw_lines" not in db.table_names() and "line" in db["raw_results"].columns_dict
    d = Dialogue(uid="old-1", tools=config.TOOLS, turns=[Turn(role="user", content="주문 취소할래요")], custom_id="train-cancel-00001")
    with db.conn:
        db["raw_results"].insert(
            {
                "origin": "import:/x.jsonl",
                "line_no": 1,
                "custom_id": None,
                "line": '{"messages": []}',
                "status": "parsed",
                "reason": None,
                "sample_uid": "old-1",
                "received_at": "t",
            }
        )
        db["samples"].insert(
            {
                "uid": "old-1",
                "custom_id": d.custom_id,
                "kind": "train",
                "category": "cancel",
                "source": "import:x",
                "dialogue": d.model_dump_json(),
                "content_hash": d.content_hash(),
                "created_at": "t",
            }
        )
    db.conn.close()

    new = store.connect(tmp_path / "old.db")
    assert {"007_ingest_at_scale", "008_regenerate", "009_search_by_rowid"} <= {r["name"] for r in new["_migrations"].rows}
    assert "line" not in new["raw_results"].columns_dict
    assert new.execute("SELECT line FROM raw_lines").fetchall() == [('{"messages": []}',)]
    assert get_dialogue(new, "old-1") == d
    assert new.execute("SELECT COUNT(*) FROM sample_state WHERE uid = 'old-1'").fetchone()[0] == 1
    from datagen import review

    assert review.queue(new, review.QueueFilter(decision=None, text="취소할래요")) == ["old-1"]  # indexed by migration 009
    path = tmp_path / "more.jsonl"
    write_batch_output(path, 5, error_rate=0, truncation_rate=0)
    assert ingest.import_file(new, path)["imported"] == 5
    assert new["samples"].count == 6 and new["toolsets"].count == 1


# ----------------------------------------------------------------------------- bulk inserts

_CELL = st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1), st.text(max_size=20), st.binary(max_size=8), st.floats(allow_nan=False))


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(_CELL, _CELL, _CELL), max_size=40), limit=st.integers(3, 40))
def test_insert_values_stores_what_executemany_does_in_order_with_triggers_per_row(rows, limit):
    """store.insert_values against executemany: the same rows in the same order, every row's trigger
    fired once, for any number of rows and a variable limit that forces several statements."""
    import sqlite3

    import sqlite_utils

    def fresh():
        conn = sqlite3.connect(":memory:")
        conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, limit)
        conn.executescript("CREATE TABLE t (a, b, c); CREATE TABLE log (a);CREATE TRIGGER t_ai AFTER INSERT ON t BEGIN INSERT INTO log (a) VALUES (new.a); END")
        return sqlite_utils.Database(conn)

    bulk, one_by_one = fresh(), fresh()
    store.insert_values(bulk, "INSERT INTO t (a, b, c) {values}", rows)
    one_by_one.conn.executemany("INSERT INTO t (a, b, c) VALUES (?, ?, ?)", rows)
    for table in ("t", "log"):
        assert bulk.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall() == one_by_one.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
    assert bulk.execute("SELECT COUNT(*) FROM log").fetchone()[0] == len(rows)


def test_insert_values_with_a_row_sqlite_refuses_raises_like_executemany(db):
    """A refused row makes the call raise (the caller's transaction rolls back: ingest then writes the
    chunk one line at a time, test_ingest_hostile); rows before it are not silently kept."""
    import sqlite3

    db.execute("CREATE TABLE u (k TEXT PRIMARY KEY)")
    with pytest.raises(sqlite3.IntegrityError):
        with store.write_transaction(db):
            store.insert_values(db, "INSERT INTO u (k) {values}", [("a",), ("b",), ("a",)])
    assert db.execute("SELECT COUNT(*) FROM u").fetchone()[0] == 0


def test_ingest_leaves_the_connections_temp_store_as_it_was(db, output_file):
    db.execute("PRAGMA temp_store = FILE")
    ingest.import_file(db, output_file)
    assert db.execute("PRAGMA temp_store").fetchone()[0] == 1


def test_insert_values_uses_few_distinct_statement_texts_whatever_the_row_counts():
    """sqlite3 keeps each distinct statement it ran compiled: one text per row count would keep up
    to 128 programs of thousands of parameters alive (the writer's memory grew by ~55 MB)."""
    import sqlite3

    import sqlite_utils

    db = sqlite_utils.Database(sqlite3.connect(":memory:"))
    db.execute("CREATE TABLE t (a, b)")
    texts: set[str] = set()
    db.conn.set_trace_callback(texts.add)
    for n in range(0, 1001, 7):
        store.insert_values(db, "INSERT INTO t (a, b) {values}", [(k, n) for k in range(n)])
    assert db.execute("SELECT COUNT(*) FROM t").fetchone()[0] == sum(range(0, 1001, 7))
    # (the callback sees the statement with its values filled in: count its rows instead)
    assert len({t.count("), (") + 1 for t in texts if t.startswith("INSERT")}) <= 8


# ----------------------------------------------------------------------------- lines handed over as bytes


def _same_result(a: tuple, b: tuple) -> bool:
    """Two prepare() results for one line, equal but for the fresh uid each parse draws."""
    if a[1] is None or b[1] is None or a[1] == ingest.JUDGED:
        return a == b
    (ua, *ra), (ub, *rb) = a[1], b[1]
    return ra[:5] == rb[:5] and ra[5].replace(ua.encode(), b"") == rb[5].replace(ub.encode(), b"") and ra[6:] == rb[6:] and a[2:] == b[2:]


_LINE_TEXT = st.one_of(
    st.text(max_size=60),
    st.from_regex(r'\A\ufeff?[{\[]"?[a-z]{0,3}"?[:,]?\s?[0-9"{}\[\]]{0,6}\Z'),
    st.sampled_from(['{"a": 1}', '\ufeff{"a": 1}', '{"k": "\\ud800"}', "[1,]", '{"custom_id": "x", "response": null}', "1" * 5000]),
)


@settings(max_examples=120, deadline=None)
@given(line=_LINE_TEXT)
def test_a_line_handed_over_as_bytes_is_read_exactly_as_its_text(line):
    """prepare() on a line's UTF-8 bytes (what the writer hands its workers) gives what it gives on
    the text: the same failure reason (a leading BOM is still an error, positions count characters)."""
    wire = ingest._wire(line)
    got = ingest.prepare([(1, "cid", wire, None, "import:x")], "bytes", hash_lines=True)
    want = ingest.prepare([(1, "cid", line, None, "import:x")], "text", hash_lines=True)
    assert _same_result(got[0], want[0])


def test_batch_lines_handed_over_as_bytes_give_the_same_samples_and_findings(output_file):
    lines = [t for t in output_file.read_text(encoding="utf-8").splitlines() if t.strip()]
    cid = [json.loads(t)["custom_id"] for t in lines]
    got = ingest.prepare([(i, c, ingest._wire(t), None, "batch:b:output") for i, (c, t) in enumerate(zip(cid, lines))], "b1", hash_lines=True)
    want = ingest.prepare([(i, c, t, None, "batch:b:output") for i, (c, t) in enumerate(zip(cid, lines))], "b2", hash_lines=True)
    assert sum(r[1] is not None for r in want) > 30
    assert all(_same_result(a, b) for a, b in zip(got, want, strict=True))
    assert isinstance(ingest._wire("a\ud800"), str)  # no UTF-8 form: handed over as text
