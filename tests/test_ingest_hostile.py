"""Nothing lost, nothing doubled (issue 14): concurrent imports in separate processes, origins
compared exactly, poison lines that fail alone, file encodings, and a Hypothesis fuzz of import_file."""

from __future__ import annotations

import codecs
import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_ingest_scale import write_batch_output

from datagen import ingest, store

ROOT = Path(__file__).resolve().parents[1]

# ----------------------------------------------------------------------------- helpers

RACE = r"""
import json, os, sys, time
sys.path.insert(0, sys.argv[1])
from datagen import ingest
from datagen.store import connect
ingest.CHUNK = int(sys.argv[5])
go = sys.argv[4]
while not os.path.exists(go):  # every process starts at the same moment
    time.sleep(0.005)
db = connect(sys.argv[2])
print(json.dumps(ingest.import_file(db, sys.argv[3])))
"""


def race(db_path: Path, files: list[Path], tmp_path: Path, *, chunk: int = 25) -> list[dict]:
    """Run one ``import_file`` per file, each in its own process, released together; their summaries."""
    go = tmp_path / f"go-{time.monotonic_ns()}"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACE, str(ROOT), str(db_path), str(f), str(go), str(chunk)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for f in files
    ]
    time.sleep(0.5)  # all started and waiting
    go.touch()
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=300)
        assert p.returncode == 0, stderr
        out.append(json.loads(stdout.strip().splitlines()[-1]))
    return out


def assert_each_raw_line_once(db) -> None:
    """Every sample comes from exactly one raw line, and every parsed raw line has its own sample."""
    n_samples = db["samples"].count
    parsed = db.execute("SELECT COUNT(*), COUNT(DISTINCT sample_uid) FROM raw_results WHERE status = 'parsed'").fetchone()
    assert parsed == (n_samples, n_samples)
    assert db.execute("SELECT COUNT(*) FROM raw_results WHERE status = 'new'").fetchone()[0] == 0
    orphan = db.execute("SELECT COUNT(*) FROM samples s WHERE NOT EXISTS (SELECT 1 FROM raw_results r WHERE r.sample_uid = s.uid)").fetchone()[0]
    assert orphan == 0


def seed_file(tmp_path: Path, n: int) -> Path:
    """A seed 001 ``dataset.jsonl`` of n dialogues (written from an import of offline batch output)."""
    src = tmp_path / "src.jsonl"
    write_batch_output(src, n, error_rate=0, truncation_rate=0)
    tmp_db = store.connect(tmp_path / "seed-src.db")
    ingest.import_file(tmp_db, src)
    out = tmp_path / "dataset.jsonl"
    assert ingest.write_dataset_jsonl(tmp_db, out) == n
    tmp_db.close()
    return out


# ----------------------------------------------------------------------------- 1. concurrent imports


def test_two_imports_of_one_file_at_once_store_every_line_once(db, tmp_path):
    path = tmp_path / "out.jsonl"
    write_batch_output(path, 240)
    db_path = tmp_path / "output" / "datagen.db"
    a, b = race(db_path, [path, path], tmp_path)
    assert_each_raw_line_once(db)
    assert db["raw_results"].count == 240
    assert a["imported"] + b["imported"] == db["samples"].count
    assert a["failed"] + b["failed"] == db.execute("SELECT COUNT(*) FROM raw_results WHERE status = 'failed'").fetchone()[0]
    assert db["samples"].count == db.execute("SELECT COUNT(DISTINCT custom_id) FROM samples").fetchone()[0]


def test_two_seed_format_imports_at_once_mark_no_good_line_failed(db, tmp_path):
    path = seed_file(tmp_path, 120)
    db_path = tmp_path / "output" / "datagen.db"
    a, b = race(db_path, [path, path], tmp_path, chunk=10)
    assert a["failed"] == b["failed"] == 0, (a["errors"][:3], b["errors"][:3])
    assert a["imported"] + b["imported"] == 120 == db["samples"].count
    assert_each_raw_line_once(db)


MIGRATE = r"""
import os, sys, time
sys.path.insert(0, sys.argv[1])
from datagen.store import connect
while not os.path.exists(sys.argv[3]):
    time.sleep(0.002)
db = connect(sys.argv[2])
print(db.execute("SELECT COUNT(*) FROM _migrations").fetchone()[0])
"""


def test_processes_opening_a_new_database_at_once_all_migrate_it_once(tmp_path):
    db_path, go = tmp_path / "new.db", tmp_path / "go"
    procs = [
        subprocess.Popen([sys.executable, "-c", MIGRATE, str(ROOT), str(db_path), str(go)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    time.sleep(0.5)
    go.touch()
    results = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
    assert [r[2] for r in results] == [0] * 6, [r[1][-300:] for r in results]
    assert {r[0].strip() for r in results} == {str(len(store.MIGRATIONS))}
    db = store.connect(db_path)
    assert db.execute("SELECT COUNT(*) FROM _migrations").fetchone()[0] == len(store.MIGRATIONS)


# ----------------------------------------------------------------------------- 2. origins exactly


@pytest.mark.parametrize("other", ["runXa.jsonl", "RUN_A.jsonl", "run%a.jsonl"])
def test_origins_that_match_as_like_patterns_stay_apart(db, tmp_path, other):
    mine, theirs = tmp_path / "run_a.jsonl", tmp_path / other
    write_batch_output(mine, 30, error_rate=0, truncation_rate=0)
    write_batch_output(theirs, 45, error_rate=0, truncation_rate=0)
    theirs.write_text("".join(l.replace('"train-', '"other-', 1) for l in theirs.open(encoding="utf-8")), encoding="utf-8")
    # their lines were stored by an import that stopped before parsing them
    store.insert_raw_lines(db, f"import:{theirs.resolve()}", enumerate(theirs.read_text(encoding="utf-8").splitlines(), 1))
    summary = ingest.import_file(db, mine)
    assert (summary["read"], summary["imported"], summary["failed"]) == (30, 30, 0)
    assert db.execute("SELECT COUNT(*) FROM raw_results WHERE status = 'new'").fetchone()[0] == 45  # theirs untouched
    mine_texts = {json.loads(l)["custom_id"] for l in mine.read_text(encoding="utf-8").splitlines()}
    assert {r[0] for r in db.execute("SELECT custom_id FROM samples")} == mine_texts
    theirs_summary = ingest.import_file(db, theirs)
    assert (theirs_summary["read"], theirs_summary["imported"]) == (45, 45)
    assert_each_raw_line_once(db)
    for origin, path in ((f"import:{mine.resolve()}", mine), (f"import:{theirs.resolve()}", theirs)):
        # each parsed line holds its own file's text, and its sample is that line's dialogue
        stored = [r[0] for r in db.execute("SELECT l.line FROM raw_results r JOIN raw_lines l USING (id) WHERE r.origin = ? ORDER BY r.line_no", [origin])]
        assert stored == path.read_text(encoding="utf-8").splitlines()
        for line, cid in db.execute(
            "SELECT l.line, s.custom_id FROM raw_results r JOIN raw_lines l USING (id) JOIN samples s ON s.uid = r.sample_uid WHERE r.origin = ?", [origin]
        ):
            assert json.loads(line)["custom_id"] == cid


def test_a_copy_of_an_imported_file_at_another_path_adds_no_sample(db, tmp_path):
    path = seed_file(tmp_path, 12)
    first = ingest.import_file(db, path)
    assert first["imported"] == 12
    (tmp_path / "elsewhere").mkdir()
    copy = shutil.copy(path, tmp_path / "elsewhere" / "renamed.jsonl")
    again = ingest.import_file(db, copy)
    assert db["samples"].count == 12
    assert (again["read"], again["imported"], again["failed"]) == (12, 0, 12)
    assert all("번째 줄과 같은 내용입니다" in e["reason"] and str(path.resolve()) in e["reason"] for e in again["errors"])
    assert db["raw_results"].count == 24  # the copy's lines are kept too, with their reason
    batch_copy = tmp_path / "batch.jsonl"
    write_batch_output(batch_copy, 10, error_rate=0, truncation_rate=0)
    assert ingest.import_file(db, batch_copy)["imported"] == 10
    assert ingest.import_file(db, shutil.copy(batch_copy, tmp_path / "elsewhere" / "b.jsonl"))["imported"] == 0
    assert db["samples"].count == 22


# ----------------------------------------------------------------------------- 3. poison lines


def _good_lines(tmp_path: Path, n: int) -> list[str]:
    path = tmp_path / f"good{n}.jsonl"
    write_batch_output(path, n, error_rate=0, truncation_rate=0)
    return path.read_text(encoding="utf-8").splitlines()


def _with_content(line: str, content: str) -> str:
    obj = json.loads(line)
    obj["response"]["body"]["choices"][0]["message"]["content"] = content
    return json.dumps(obj, ensure_ascii=False)


def poison_lines(good: str) -> dict[str, str]:
    """One line per poison kind, each otherwise a good batch output line."""
    obj = json.loads(good)
    content = obj["response"]["body"]["choices"][0]["message"]["content"]
    gen = json.loads(content)
    gen["turns"][0]["content"] = "짜장면 \ud800 주세요"
    surrogate_in_content = _with_content(good, json.dumps(gen))  # ASCII escapes: valid JSON text
    surrogate_cid = json.dumps({**obj, "custom_id": "train-search-\ud800"})
    big = good.replace('"status_code": 200', '"status_code": 200, "n": ' + "7" * 5000, 1)
    deep_inside = _with_content(good, '{"turns": ' + "[" * 2000 + "]" * 2000 + "}")
    return {
        "surrogate_in_content": surrogate_in_content,
        "surrogate_in_custom_id": surrogate_cid,
        "integer_over_4300_digits": big,
        "nesting_top_level": "[" * 2000 + "]" * 2000,
        "nesting_inside_the_answer": deep_inside,
    }


REASON_WORDS = {
    "surrogate_in_content": "서로게이트",
    "surrogate_in_custom_id": "서로게이트",
    "integer_over_4300_digits": "4300자리",
    "nesting_top_level": "중첩",
    "nesting_inside_the_answer": "중첩",
}


@pytest.mark.parametrize("workers", [1, 2])
def test_a_poison_line_fails_alone_with_its_reason(db, tmp_path, monkeypatch, workers):
    monkeypatch.setattr(ingest, "CHUNK", 10)
    good = _good_lines(tmp_path, 30)
    poison = poison_lines(good[0])
    lines = good[:5] + list(poison.values()) + good[5:]
    numbered = list(enumerate(lines, 1))
    origin = "batch:batch_poison:output"
    monkeypatch.setattr(ingest, "PARALLEL_FROM", 1 if workers == 2 else 10**9)
    summary = ingest.ingest_lines(db, origin, iter(numbered))
    assert (summary["read"], summary["imported"], summary["failed"]) == (35, 30, 5)
    by_line = {e["line"]: e["reason"] for e in summary["errors"]}
    for no, kind in enumerate(poison, 6):
        assert REASON_WORDS[kind] in by_line[no], (kind, by_line[no])
    assert db.execute("SELECT COUNT(*) FROM raw_results WHERE origin = ?", [origin]).fetchone()[0] == 35  # all stored raw
    stored = dict(db.execute("SELECT r.line_no, l.line FROM raw_results r JOIN raw_lines l USING (id)").fetchall())
    assert stored[7].encode("utf-8", "backslashreplace").decode() == lines[6].encode("utf-8", "backslashreplace").decode()
    for no in (6, 8, 9, 10):
        assert stored[no] == lines[no - 1]  # stored byte for byte
    assert_each_raw_line_once(db)
    assert ingest.ingest_lines(db, origin, iter(numbered))["read"] == 0  # a rerun: nothing left, nothing raised


def test_a_text_sqlite_cannot_hold_is_stored_escaped_and_fails_alone(db, tmp_path):
    """A line handed over as text with a lone surrogate character (not an escape): SQLite cannot
    store it as UTF-8, so it is stored with the character escaped and fails with the reason."""
    good = _good_lines(tmp_path, 3)
    lines = [(1, good[0]), (2, '{"custom_id": "x", "messages": [{"role": "user", "content": "a\ud800b"}]}'), (3, good[1]), (4, good[2])]
    summary = ingest.ingest_lines(db, "batch:b_sur:output", iter(lines))
    assert (summary["read"], summary["imported"], summary["failed"]) == (4, 3, 1)
    (err,) = summary["errors"]
    assert err["line"] == 2 and "surrogate" in err["reason"]
    (text, status) = db.execute("SELECT l.line, r.status FROM raw_results r JOIN raw_lines l USING (id) WHERE r.line_no = 2").fetchone()
    assert text == lines[1][1].encode("utf-8", "backslashreplace").decode() and status == "failed"
    assert ingest.ingest_lines(db, "batch:b_sur:output", iter(lines))["read"] == 0


PREPROCESS = r"""
import json, os, sys, time
sys.path.insert(0, sys.argv[1])
from datagen import ingest
from datagen.store import connect
ingest.CHUNK = 20
while not os.path.exists(sys.argv[3]):
    time.sleep(0.005)
print(json.dumps(ingest.preprocess(connect(sys.argv[2]))))
"""


def test_two_preprocess_runs_at_once_parse_each_downloaded_line_once(db, tmp_path):
    path = tmp_path / "out.jsonl"
    write_batch_output(path, 200)
    lines = list(enumerate(path.read_text(encoding="utf-8").splitlines(), 1))
    store.insert_raw_lines(db, "batch:batch_a_1:output", lines[:120])  # downloaded, not parsed yet
    store.insert_raw_lines(db, "batch:batch_a_1:error", lines[120:])
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", PREPROCESS, str(ROOT), str(tmp_path / "output" / "datagen.db"), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    time.sleep(0.5)
    go.touch()
    got = [json.loads(p.communicate(timeout=300)[0].strip().splitlines()[-1]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sum(g["read"] for g in got) == 200 and sum(g["imported"] for g in got) == db["samples"].count
    assert_each_raw_line_once(db)


def test_a_poison_line_through_import_file_and_the_cli(tmp_path, db):
    good = _good_lines(tmp_path, 6)
    path = tmp_path / "poison.jsonl"
    path.write_text("\n".join(good[:3] + list(poison_lines(good[0]).values()) + good[3:]) + "\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "datagen.import_file", str(path)], cwd=ROOT, capture_output=True, text=True, timeout=120, env=os.environ.copy()
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (summary["read"], summary["imported"], summary["failed"]) == (11, 6, 5)


# ----------------------------------------------------------------------------- 5. encodings


@pytest.fixture
def five(tmp_path):
    lines = _good_lines(tmp_path, 5)
    return lines


def _import_bytes(db, tmp_path, data: bytes, name="enc.jsonl") -> dict:
    path = tmp_path / name
    path.write_bytes(data)
    return ingest.import_file(db, path)


@pytest.mark.parametrize(
    "encoding,bom", [("utf-8", b"\xef\xbb\xbf"), ("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"), ("utf-32-le", b"\xff\xfe\x00\x00")]
)
@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_files_with_a_byte_order_mark_and_any_line_ending_import_whole(db, tmp_path, five, encoding, bom, newline):
    data = bom + newline.join(five).encode(encoding) + newline.encode(encoding)
    summary = _import_bytes(db, tmp_path, data)
    assert (summary["read"], summary["imported"], summary["failed"]) == (5, 5, 0), summary["errors"]
    stored = [r[0] for r in db.execute("SELECT l.line FROM raw_results r JOIN raw_lines l USING (id) ORDER BY r.line_no")]
    assert stored == five
    assert [r[0] for r in db.execute("SELECT line_no FROM raw_results ORDER BY line_no")] == [1, 2, 3, 4, 5]


def test_cr_only_line_endings_count_lines_like_a_text_editor(db, tmp_path, five):
    summary = _import_bytes(db, tmp_path, ("\r".join(five[:2]) + "\r\r" + "\r".join(five[2:])).encode())
    assert summary["imported"] == 5
    assert [r[0] for r in db.execute("SELECT line_no FROM raw_results ORDER BY line_no")] == [1, 2, 4, 5, 6]


def test_invalid_utf8_fails_that_line_with_a_reason_and_keeps_its_bytes(db, tmp_path, five):
    bad = five[1].encode().replace(b'"batch_req_', b'"batch_req_\xed\x95\xff', 1)
    assert bad != five[1].encode()
    data = b"\n".join([five[0].encode(), bad, *[l.encode() for l in five[2:]]]) + b"\n"
    summary = _import_bytes(db, tmp_path, data)
    assert (summary["read"], summary["imported"], summary["failed"]) == (5, 4, 1)
    (err,) = summary["errors"]
    assert err["line"] == 2 and "UTF-8" in err["reason"] and "byte" in err["reason"]
    (text,) = db.execute("SELECT l.line FROM raw_results r JOIN raw_lines l USING (id) WHERE r.line_no = 2").fetchone()
    assert "\ufffd" not in text and "\\xff" in text  # the bytes are kept, escaped
    assert db.execute("SELECT COUNT(*) FROM samples WHERE dialogue LIKE '%' || char(65533) || '%'").fetchone()[0] == 0


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_refused_with_one_file_level_error(db, tmp_path, five, encoding):
    path = tmp_path / "nobom.jsonl"
    path.write_bytes("\n".join(five).encode(encoding))
    with pytest.raises(ValueError, match="UTF-16") as err:
        ingest.import_file(db, path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)
    assert db["raw_results"].count == 0
    proc = subprocess.run(
        [sys.executable, "-m", "datagen.import_file", str(path)], cwd=ROOT, capture_output=True, text=True, timeout=120, env=os.environ.copy()
    )
    assert proc.returncode == 1 and proc.stderr.strip().count("\n") == 0 and "UTF-16" in proc.stderr


def test_a_utf16_file_that_is_not_valid_utf16_is_refused_naming_the_line(db, tmp_path, five):
    path = tmp_path / "bad16.jsonl"
    path.write_bytes(b"\xff\xfe" + five[0].encode("utf-16-le") + "\n".encode("utf-16-le") + b"\x00\xd8" + b"{\x00")
    with pytest.raises(ValueError, match=r"bad16\.jsonl:2: .*UTF-16"):
        ingest.import_file(db, path)


# ----------------------------------------------------------------------------- fuzz: arbitrary bytes and JSON


def _sample_lines() -> list[str]:
    """Good batch output lines, a seed 001 record, a messages record and the poison lines."""
    from datagen import config, jobs, scenarios
    from datagen.offline import OfflineOptions, complete_request

    opts = OfflineOptions(error_rate=0, truncation_rate=0)
    good = [
        json.dumps(complete_request(sc["custom_id"], jobs.build_request_line(sc, model="m", temperature=0.9)["body"], opts), ensure_ascii=False)
        for sc in scenarios.make_scenarios("train", {c: 1 for c in config.CATEGORIES[:3]}, 5)
    ]
    seed = json.dumps(
        json.loads((Path(__file__).parent / "fixtures" / "seed001_dataset.jsonl").read_text(encoding="utf-8").splitlines()[0]), ensure_ascii=False
    )
    messages = (Path(__file__).parent / "fixtures" / "messages_dataset.jsonl").read_text(encoding="utf-8").splitlines()[0]
    return good + [seed, messages] + list(poison_lines(good[0]).values())


SAMPLES = _sample_lines()
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["custom_id", "response", "error", "messages", "turns", "body", "method", "role", "content", "x"]) | st.text(max_size=5),
            inner,
            max_size=5,
        )
    ),
    max_leaves=15,
)


def _cut(line: str, frac: float) -> str:
    return line[: int(len(line) * frac)]


LINES = st.one_of(
    st.binary(max_size=120),  # arbitrary bytes: invalid UTF-8, NUL, stray CR
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),  # arbitrary JSON, lone surrogates as \ud800 escapes
    JSON_VALUES.map(lambda v: json.dumps(v, ensure_ascii=False).encode("utf-8", "surrogatepass")),  # … and as raw bytes
    st.sampled_from(SAMPLES).map(lambda s: s.encode("utf-8", "surrogatepass")),  # lines that parse, and poison
    st.tuples(st.sampled_from(SAMPLES), st.floats(0, 1)).map(lambda t: _cut(*t).encode("utf-8", "surrogatepass")),
    st.just(b""),
    st.just(b"   \t"),
)
BREAKS = st.sampled_from([b"\n", b"\r\n", b"\r"])


@st.composite
def jsonl_files(draw) -> bytes:
    lines = draw(st.lists(LINES, max_size=10))
    body = b"".join(line + draw(BREAKS) for line in lines)
    if draw(st.booleans()):
        body = body[:-1] if body else body  # no final line break
    how = draw(st.sampled_from(["plain", "plain", "plain", "utf-8-bom", "utf-16", "noise-bom"]))
    if how == "utf-8-bom":
        return codecs.BOM_UTF8 + body
    if how == "utf-16":  # the same text as UTF-16 with a mark (bytes that are not UTF-8 make it fail)
        enc = draw(st.sampled_from(["utf-16-le", "utf-16-be"]))
        text = body.decode("utf-8", "surrogateescape")
        return (codecs.BOM_UTF16_LE if enc.endswith("le") else codecs.BOM_UTF16_BE) + text.encode(enc, "surrogatepass")
    if how == "noise-bom":
        return draw(st.sampled_from([codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE])) + body
    return body


_BREAK = re.compile(r"\r\n|\r|\n")
_BREAK_B = re.compile(rb"\r\n|\r|\n")


def expected_lines(data: bytes) -> list[int] | None:
    """Numbers of the non-blank lines a reader must store, or None when the file must be refused
    (restated from the rules, not from the reader: the byte order mark, then \\r\\n | \\r | \\n)."""
    texts = expected_texts(data)
    return None if texts is None else list(texts)


def expected_texts(data: bytes) -> dict[int, str] | None:
    """:func:`expected_lines` with the text each must be stored as: the line decoded, a UTF-8 line
    that is not valid UTF-8 with its bytes escaped (``\\xff``)."""
    for bom, enc in (
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            data = data[len(bom) :]
            if enc == "utf-8":
                break
            try:
                text = data.decode(enc)
            except UnicodeDecodeError:
                return None
            return {i: part for i, part in enumerate(_BREAK.split(text), 1) if part.strip()}
    else:
        if len(data) >= 2 and (data[0] == 0) != (data[1] == 0):
            return None
    parts = (part.decode("utf-8", "backslashreplace") for part in _BREAK_B.split(data))
    return {i: text for i, text in enumerate(parts, 1) if text.strip()}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=jsonl_files())
def test_fuzz_import_file_stores_every_line_once_and_never_crashes(isolated_env, data):
    """Arbitrary bytes and JSON through ``python -m datagen.import_file``: exit 0 with the summary,
    or exit 1 with one clear line naming the file; every non-blank line stored raw; read = imported
    + failed; no raw line with two samples, no sample without its line (one database for all)."""
    from datagen import import_file as cli
    from datagen.cli import run
    from datagen.store import get_db

    folder = isolated_env / "fuzz"
    folder.mkdir(exist_ok=True)
    path = folder / f"f{time.monotonic_ns()}.jsonl"
    path.write_bytes(data)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(cli.main, [str(path)])
    db = get_db()
    want = expected_lines(data)
    if code == 1:
        assert want is None, (err.getvalue(), data[:40])
        assert err.getvalue().count("\n") == 1 and str(path) in err.getvalue() and err.getvalue().startswith("오류: ")
    else:
        assert code == 0 and want is not None, (err.getvalue(), data[:40])
        summary = json.loads(out.getvalue().strip().splitlines()[-1])
        rows = db.execute("SELECT line_no, status FROM raw_results WHERE origin = ? ORDER BY line_no", [ingest.import_origin(path)]).fetchall()
        assert [r[0] for r in rows] == want  # every non-blank line stored raw, under its own number
        stored = db.execute(
            "SELECT r.line_no, l.line, typeof(l.line) FROM raw_results r JOIN raw_lines l USING (id) WHERE r.origin = ? ORDER BY r.line_no",
            [ingest.import_origin(path)],
        ).fetchall()
        assert {kind for _, _, kind in stored} <= {"text"}  # stored as text (a line read as bytes too), not as a blob
        assert dict((no, line) for no, line, _ in stored) == expected_texts(data)  # the text each line holds, exactly
        assert all(r[1] in ("parsed", "failed") for r in rows)
        assert summary["read"] == len(want) == summary["imported"] + summary["failed"]
        assert summary["imported"] == sum(r[1] == "parsed" for r in rows)
    assert_each_raw_line_once(db)


def test_lines_imported_before_the_content_key_existed_are_known_after_the_migration(tmp_path):
    """Migration 010 gives the imported lines already stored as samples their content key, so a copy
    of a file imported before the upgrade adds nothing either."""
    import sqlite3

    import sqlite_utils

    path = seed_file(tmp_path, 5)
    old = sqlite_utils.Database(sqlite3.connect(str(tmp_path / "old.db")))
    old["_migrations"].create({"name": str, "applied_at": str}, pk="name")
    for name, fn in store.MIGRATIONS[:9]:  # 001–009: the database before 010
        with old.conn:
            fn(old)
            old["_migrations"].insert({"name": name, "applied_at": "t"})
    lines = list(enumerate(path.read_text(encoding="utf-8").splitlines(), 1))
    with old.conn:
        for no, line in lines:  # what an import of that time stored: the raw line, parsed into a sample
            rid = (
                old["raw_results"]
                .insert({"origin": ingest.import_origin(path), "line_no": no, "status": "parsed", "sample_uid": f"u{no}", "received_at": "t"})
                .last_pk
            )
            old["raw_lines"].insert({"id": rid, "line": line})
    old.conn.close()
    db = store.connect(tmp_path / "old.db")
    assert db.execute("SELECT COUNT(*) FROM raw_results WHERE content_key IS NOT NULL").fetchone()[0] == 5
    copy = shutil.copy(path, tmp_path / "copy.jsonl")
    summary = ingest.import_file(db, copy)
    assert (summary["imported"], summary["failed"]) == (0, 5)
    assert all("번째 줄과 같은 내용입니다" in e["reason"] for e in summary["errors"])


def test_an_unexpected_error_in_a_check_fails_its_line_and_is_logged_with_its_traceback(db, monkeypatch, caplog):
    """A bug (not a known poison) must not pass quietly as a failed line: it is logged as a warning."""
    from datagen import ingest

    real = ingest.check_record

    def buggy(data):
        if "짜장면" in str(data["turns"]):
            raise KeyError("bug in a check")
        return real(data)

    monkeypatch.setattr(ingest, "check_record", buggy)
    with caplog.at_level("WARNING", logger="datagen.ingest"):
        s = ingest.import_file(db, ROOT / "tests" / "fixtures" / "seed001_dataset.jsonl")
    assert (s["imported"], s["failed"]) == (2, 1)
    assert s["errors"][0]["reason"].startswith("처리할 수 없음: KeyError")
    (rec,) = [r for r in caplog.records if r.name == "datagen.ingest"]
    assert "unexpected KeyError" in rec.getMessage() and rec.exc_info is not None
