"""User errors and user-facing messages (ARCHITECTURE.md, "Errors and messages"; issue 16 point 5).

- ``cli.run`` turns a :class:`DatagenError` into one Korean line and exit status 1, and lets every
  other exception (a bug) through with its traceback;
- what a person reads is Korean: every ``DatagenError`` raised with a literal message (checked on
  the source with the AST), the error line of each CLI step's user errors, and the output lines of a
  whole CLI run;
- the pages show a ``DatagenError`` with ``st.error`` and let any other exception surface.
"""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import datagen
from datagen import (
    auth,
    errors,
    generate_batch,
    import_file,
    preprocess,
    push_to_hub,
    render_txt,
    retrieve_batch,
    retry_failed,
    review_cli,
    submit_batch,
    validate,
)
from datagen.cli import run
from datagen.errors import DatagenError, InputError
from datagen.store import get_db

ROOT = Path(__file__).resolve().parents[1]
HANGUL = re.compile(r"[\uac00-\ud7a3]")
ENGLISH_PHRASE = re.compile(r"\b[A-Za-z]{2,} [A-Za-z]{2,}\b")
"""Two English words in a row ("nothing to", "dry run"): a sentence, not an identifier, flag or path."""
BANNER = ("[offline]", "[openai]")
LOG_LINE = re.compile(r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL) datagen\.")  # logging stays English (operators)


def _user_lines(text: str) -> list[str]:
    """Output lines a person reads: not the backend banner, not log lines, not JSON."""
    out = []
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith(BANNER) or LOG_LINE.match(s) or s[0] in "{[":
            continue
        out.append(line)
    return out


# ----------------------------------------------------------------------------- cli.run


def test_a_user_error_is_one_korean_line_and_exit_status_1(capsys):
    def main(argv):
        raise InputError("잘못된 값입니다:\n두 줄로 써도 한 줄로 나옵니다")

    assert run(main, []) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == ["오류: 잘못된 값입니다: 두 줄로 써도 한 줄로 나옵니다"]


@pytest.mark.parametrize("bug", [ValueError("bad value from a bug"), KeyError("missing_key"), OSError("disk")])
def test_a_bug_is_not_passed_off_as_a_user_error(bug, capsys):
    """The old ``cli.run`` caught every ValueError and OSError and printed ``error: …``: a bug read
    like the user's mistake and lost its traceback."""

    def main(argv):
        raise bug

    with pytest.raises(type(bug)):
        run(main, [])
    assert "오류" not in capsys.readouterr().err


def test_a_bug_in_a_step_shows_its_traceback_and_exits_1():
    code = "import sys\nfrom datagen.cli import run\ndef main(argv):\n    return {}['no_such_key']\nsys.exit(run(main))\n"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr and "KeyError: 'no_such_key'" in proc.stderr and "오류:" not in proc.stderr


def test_output_piped_into_head_ends_quietly():
    """``python -m datagen.validate | head`` closes the pipe early: no traceback (the old run()
    printed it as a user error, ``error: [Errno 32] Broken pipe``)."""
    code = "import sys\nfrom datagen.cli import run\ndef main(argv):\n    for i in range(200000):\n        print('줄', i)\n    return 0\nsys.exit(run(main))\n"
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline().decode().startswith("줄 0")
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 1 and err == ""


def test_usage_errors_keep_argparse_status_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        run(generate_batch.main, ["--count", "many"])
    assert exit_.value.code == 2


def test_every_user_error_class_is_a_datagen_error_and_keeps_its_old_base():
    from datagen import auth, batches, dialogue, pricing, publish, review

    old_bases = {
        dialogue.FormatError: ValueError,
        auth.PermissionDenied: PermissionError,
        auth.IdentityError: ValueError,
        review.ReviewError: ValueError,
        review.StaleDecision: ValueError,
        pricing.PricingError: ValueError,
        batches.BatchError: RuntimeError,
        publish.PublishError: RuntimeError,
        errors.InputError: ValueError,
        errors.MissingFileError: FileNotFoundError,
    }
    for cls, base in old_bases.items():
        assert issubclass(cls, DatagenError) and issubclass(cls, base), cls


# ----------------------------------------------------------------------------- Korean messages in the source


def _all_modules() -> None:
    for info in pkgutil.walk_packages(datagen.__path__, "datagen."):
        if info.name not in ("datagen.__main__", "datagen.ui"):
            importlib.import_module(info.name)


def _subclasses(cls: type) -> set[type]:
    out = set()
    for sub in cls.__subclasses__():
        out |= {sub} | _subclasses(sub)
    return out


def _literal(node: ast.AST) -> str | None:
    """The literal text of a str constant or f-string (its fixed parts), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant))
    return None


def test_every_datagen_error_raised_with_a_literal_message_is_korean():
    _all_modules()
    names = {c.__name__ for c in _subclasses(DatagenError)} | {"DatagenError"}
    checked, english = 0, []
    for path in sorted((ROOT / "datagen").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args):
                continue
            func = node.exc.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            text = _literal(node.exc.args[0]) if name in names else None
            if text is None:
                continue  # another exception type, or a message built elsewhere (str(exc))
            checked += 1
            if not HANGUL.search(text):
                english.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}({text!r})")
    assert checked >= 80, checked  # the scan sees the library's raises (about 120 today)
    assert english == []


def test_cli_output_sentences_in_the_source_are_korean():
    """A ``print`` whose literal text holds an English phrase must hold Hangul too (flags, ids,
    paths and commands quoted inside a Korean line are fine)."""
    english = []
    for path in sorted((ROOT / "datagen").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print" and node.args:
                text = _literal(node.args[0])
                if text and ENGLISH_PHRASE.search(text) and not HANGUL.search(text):
                    english.append(f"{path.relative_to(ROOT)}:{node.lineno}: {text!r}")
    assert english == []


# ----------------------------------------------------------------------------- Korean messages at run time


def _utf16_without_bom(tmp_path: Path) -> Path:
    p = tmp_path / "utf16.jsonl"
    p.write_bytes('{"messages": []}\n'.encode("utf-16-le"))
    return p


USER_ERRORS = [
    ("negative count", generate_batch.main, ["--count", "-1"]),
    ("unknown category", generate_batch.main, ["--mix", "pizza=3"]),
    ("operator with a trailing space", generate_batch.main, ["--count", "1", "--operator", "boss "]),
    ("workers below 1", validate.main, ["--workers", "0"]),
    ("missing status file", retrieve_batch.main, ["--status-file", "{tmp}/nope.json"]),
    ("missing request file", submit_batch.main, ["--input", "{tmp}/nope.jsonl"]),
    ("unknown job", retry_failed.main, ["--job-id", "job_nope"]),
    ("unknown sample", review_cli.main, ["accept", "nope", "--operator", "민지"]),
    ("no operator", review_cli.main, ["accept", "nope"]),
    ("bad repo id", push_to_hub.main, ["--repo-id", "not a repo", "--dry-run"]),
    ("missing --input", push_to_hub.main, ["--repo-id", "me/ds", "--dry-run", "--input", "{tmp}/nope.jsonl"]),
    ("missing render input", render_txt.main, ["--input", "{tmp}/nope.jsonl"]),
    ("missing import file", import_file.main, ["{tmp}/nope.jsonl"]),
    ("UTF-16 without a mark", import_file.main, ["{utf16}"]),
]


@pytest.mark.parametrize("what, main, argv", USER_ERRORS, ids=[u[0] for u in USER_ERRORS])
def test_each_cli_user_error_is_one_korean_line(what, main, argv, isolated_env, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("DATAGEN_OPERATOR", raising=False)
    argv = [a.format(tmp=tmp_path, utf16=_utf16_without_bom(tmp_path)) for a in argv]
    assert run(main, argv) == 1
    captured = capsys.readouterr()
    lines = _user_lines(captured.err)
    assert len(lines) == 1 and lines[0].startswith("오류: "), captured.err
    assert HANGUL.search(lines[0][len("오류: ") :]), lines[0]


def test_a_whole_cli_run_speaks_korean(isolated_env, capsys, monkeypatch):
    """Steps 1–6 plus validate, retry and review on the offline backend: every output line a person
    reads (not JSON, not the banner, not a log line) that holds an English phrase holds Hangul too."""
    monkeypatch.setenv("DATAGEN_OFFLINE_ERROR_RATE", "0.2")
    monkeypatch.setenv("DATAGEN_OFFLINE_DEFECT_RATE", "0.4")
    steps = [
        (generate_batch.main, ["--count", "8", "--seed", "5"]),
        (submit_batch.main, ["--wait", "--poll-interval", "0"]),
        (retrieve_batch.main, []),
        (preprocess.main, []),
        (render_txt.main, []),
        (validate.main, []),
        (retry_failed.main, ["--job-id", "JOB"]),
        (review_cli.main, ["accept-clean", "--job-id", "JOB", "--operator", "민지"]),
        (push_to_hub.main, ["--repo-id", "me/delivery", "--dry-run"]),
    ]
    english, seen = [], 0
    for main, argv in steps:
        if "JOB" in argv:
            job = get_db().execute("SELECT id FROM jobs ORDER BY created_at LIMIT 1").fetchone()[0]
            argv = [job if a == "JOB" else a for a in argv]
        assert run(main, argv) == 0, main.__module__
        out = capsys.readouterr()
        for line in _user_lines(out.out) + _user_lines(out.err):
            seen += 1
            if ENGLISH_PHRASE.search(line) and not HANGUL.search(line):
                english.append(f"{main.__module__}: {line}")
    assert seen >= 15 and english == []


def test_import_errors_per_line_are_korean_with_file_and_line(isolated_env, tmp_path, capsys):
    path = tmp_path / "mixed.jsonl"
    path.write_text("not json\n" + json.dumps({"messages": [{"role": "wizard", "content": "x"}]}) + "\n[1, 2]\n", encoding="utf-8")
    assert run(import_file.main, [str(path)]) == 0
    lines = _user_lines(capsys.readouterr().err)
    assert [line.split(": ", 1)[0] for line in lines] == [f"{path}:1", f"{path}:2", f"{path}:3"]
    assert all(HANGUL.search(line) for line in lines), lines


# ----------------------------------------------------------------------------- pages


def _admin() -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "6_Admin.py"), default_timeout=60).run()
    at.text_input(key="adm_user").input("minji").run()
    return at


def test_a_page_shows_a_user_error_as_st_error(db):
    at = _admin()
    at.selectbox(key="adm_role").set_value("pm").run()
    next(b for b in at.button if b.key == "adm_grant").click().run()
    assert not at.exception
    assert any("첫 권한은 관리자" in e.value for e in at.error)
    assert auth.open_mode(db)


def test_a_page_does_not_swallow_a_bug_as_a_user_error(db, monkeypatch):
    """The old Admin page caught every ValueError and showed it as if the user had erred."""

    def buggy_grant(*args, **kwargs):
        raise ValueError("bug in grant")

    monkeypatch.setattr(auth, "grant", buggy_grant)
    at = _admin()
    next(b for b in at.button if b.key == "adm_grant").click().run()
    assert at.exception and "bug in grant" in at.exception[0].value
    assert not any("bug in grant" in e.value for e in at.error)


def test_a_broken_roles_file_is_said_on_the_page_not_a_crash(db, tmp_path, monkeypatch):
    bad = tmp_path / "roles.toml"
    bad.write_text('[roles]\nwizard = ["merlin"]\n', encoding="utf-8")
    monkeypatch.setenv("DATAGEN_ROLES_FILE", str(bad))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert any("권한 파일을 적용하지 못했습니다" in e.value and "알 수 없는 권한 wizard" in e.value for e in at.error)


def test_a_reversed_date_range_on_the_generate_page_is_an_error_not_a_crash(db):
    import datetime as dt

    at = AppTest.from_file(str(ROOT / "pages" / "1_Generate.py"), default_timeout=60).run()
    at.date_input(key="gen_date_to").set_value(dt.date(2025, 1, 1)).run()
    assert not at.exception
    assert any("대화 날짜 범위(date_range)의 시작이 끝보다 늦습니다" in e.value for e in at.error)
