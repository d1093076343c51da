"""The seed 001 CLI chain on the offline backend, and the batch steps' guarantees."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from datagen import batches, generate_batch, generate_gold_batch, preprocess, render_txt, retrieve_batch, stats, submit_batch
from datagen.store import get_db

ROOT = Path(__file__).resolve().parents[1]


def _out(env_tmp) -> Path:
    return env_tmp / "output"


def test_cli_chain_offline_writes_seed_outputs_and_counts_every_line(isolated_env, monkeypatch, capsys):
    monkeypatch.setenv("DATAGEN_OFFLINE_ERROR_RATE", "0.15")
    monkeypatch.setenv("DATAGEN_OFFLINE_TRUNCATION_RATE", "0.1")
    out = _out(isolated_env)
    assert generate_batch.main(["--count", "20", "--seed", "3"]) == 0
    lines = (out / "batch_input.jsonl").read_text().splitlines()
    assert len(lines) == 20
    first = json.loads(lines[0])
    assert first["url"] == "/v1/chat/completions"
    assert first["body"]["response_format"]["json_schema"]["strict"] is True
    assert first["body"]["messages"][0]["role"] == "system"  # static part first (prompt caching)
    assert submit_batch.main(["--wait", "--poll-interval", "0"]) == 0
    status = json.loads((out / "batch_input_status.json").read_text())
    assert status["status"] == "completed" and status["request_counts"]["total"] == 20
    assert retrieve_batch.main([]) == 0
    assert preprocess.main([]) == 0
    printed = capsys.readouterr().out
    db = get_db()
    n_raw = db["raw_results"].count
    n_samples = db["samples"].count
    n_failed = db["raw_results"].count_where("status = 'failed'")
    assert n_raw == 20  # every request came back as an output or error line, and was stored
    assert n_samples + n_failed == 20
    assert n_failed >= 1  # the injected HTTP errors and truncations are counted, not dropped
    assert all(r["reason"] for r in db.query("SELECT reason FROM raw_results WHERE status = 'failed'"))
    assert f"파싱 {n_samples}건, 실패 {n_failed}건" in printed
    assert len((out / "dataset.jsonl").read_text().splitlines()) == n_samples
    assert len(json.loads((out / "result_lst.json").read_text())) == db["raw_results"].count_where("origin LIKE '%:output'")
    assert render_txt.main([]) == 0
    txts = sorted((out / "samples").glob("sample_*.txt"))
    assert len(txts) == n_samples and txts[0].name == "sample_0001.txt"
    assert txts[0].read_text().startswith("<|im_start|>system\n")
    f = stats.funnel(db)
    tot = stats.totals(f)
    assert tot["requested"] == 20 and tot["returned"] == 20 and tot["parsed"] == n_samples and tot["pending"] == n_samples


def test_gold_batch_is_8_by_10_with_custom_ids(isolated_env):
    assert generate_gold_batch.main([]) == 0
    ids = [json.loads(l)["custom_id"] for l in (_out(isolated_env) / "gold_batch_input.jsonl").read_text().splitlines()]
    assert len(ids) == 80 and "gold-checkout-00007" in ids and len(set(ids)) == 80
    # a second job continues the numbering instead of reusing custom_ids
    assert generate_gold_batch.main(["--per-category", "1", "--output", str(_out(isolated_env) / "g2.jsonl")]) == 0
    ids2 = [json.loads(l)["custom_id"] for l in (_out(isolated_env) / "g2.jsonl").read_text().splitlines()]
    assert "gold-search-00011" in ids2


def test_submitting_the_same_file_twice_creates_one_batch(isolated_env):
    generate_batch.main(["--count", "5"])
    db = get_db()
    a = batches.submit(db, _out(isolated_env) / "batch_input.jsonl")
    b = batches.submit(db, _out(isolated_env) / "batch_input.jsonl")
    assert a["id"] == b["id"] and db["batches"].count == 1


def test_cancel_keeps_finished_lines_and_records_the_rest(isolated_env, monkeypatch):
    monkeypatch.setenv("DATAGEN_OFFLINE_SECONDS_PER_REQUEST", "1000")
    generate_batch.main(["--count", "6"])
    db = get_db()
    row = batches.submit(db, _out(isolated_env) / "batch_input.jsonl")
    batches.cancel(db, row["id"])
    row = batches.refresh(db, row["id"])
    assert row["status"] == "cancelled"
    got = batches.retrieve(db, row["id"])
    assert got["error_lines"] == 6
    from datagen.ingest import preprocess as run_preprocess

    summary = run_preprocess(db)
    assert summary["failed"] == 6 and all("batch_cancelled" in e["reason"] for e in summary["errors"])
    # retrieving again adds nothing
    assert batches.retrieve(db, row["id"])["new_lines"] == 0
    assert db["raw_results"].count == 6


def test_batch_in_progress_cannot_be_retrieved(isolated_env, monkeypatch):
    monkeypatch.setenv("DATAGEN_OFFLINE_SECONDS_PER_REQUEST", "1000")
    generate_batch.main(["--count", "3"])
    db = get_db()
    row = batches.submit(db, _out(isolated_env) / "batch_input.jsonl")
    with pytest.raises(batches.BatchError, match="아직 받을 결과가 없습니다"):
        batches.retrieve(db, row["id"])
    from datagen.cli import run

    assert run(retrieve_batch.main, ["--batch-id", row["id"]]) == 1


def test_invalid_input_file_fails_the_batch_with_line_errors(isolated_env):
    path = _out(isolated_env) / "bad.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "m"}})
        + "\n"
        + json.dumps({"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "m"}})
        + "\n"
    )
    db = get_db()
    row = batches.wait(db, batches.submit(db, path)["id"], poll_interval=0)
    assert row["status"] == "failed"
    assert json.loads(row["errors"])["data"][0]["code"] == "duplicate_custom_id"


def test_missing_status_file_is_a_one_line_error(isolated_env, capsys):
    from datagen.cli import run

    assert run(retrieve_batch.main, ["--status-file", str(isolated_env / "nope.json")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and err[-1].startswith("오류: ") and "nope.json" in err[-1]


def test_run_generate_sh_runs_steps_1_to_5(isolated_env):
    env = {**os.environ, "COUNT": "20", "POLL_INTERVAL": "0", "PYTHON": sys.executable}
    proc = subprocess.run(["bash", str(ROOT / "datagen" / "run_generate.sh")], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = _out(isolated_env)
    n = len((out / "dataset.jsonl").read_text().splitlines())
    assert n > 0 and len(list((out / "samples").glob("sample_*.txt"))) == n
    assert "[offline]" in proc.stderr  # the offline backend says so plainly


def test_stats_json_is_one_object(isolated_env, capsys):
    generate_batch.main(["--mix", "search=2,no_call=1"])
    capsys.readouterr()
    assert stats.main(["--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["by_kind"]["train"]["search"]["requested"] == 2
    assert data["total"]["requested"] == 3


def test_bad_mix_is_rejected():
    with pytest.raises(ValueError, match="알 수 없는 카테고리 'pizza'"):
        generate_batch.parse_mix("pizza=3")


def test_bare_steps_after_generate_gold_batch_handle_the_gold_set(isolated_env, capsys):
    """Item 13: the README's steps as written (no flags) work for the gold set: submit finds the
    latest job's request file, retrieve the batch submitted last, render the gold dataset file."""
    out = _out(isolated_env)
    assert generate_gold_batch.main(["--per-category", "2"]) == 0
    assert submit_batch.main(["--wait", "--poll-interval", "0"]) == 0
    assert json.loads((out / "gold_batch_input_status.json").read_text())["request_counts"]["total"] == 16
    assert not (out / "batch_input_status.json").exists()
    assert retrieve_batch.main([]) == 0
    assert preprocess.main([]) == 0
    n_gold = len((out / "gold_dataset.jsonl").read_text().splitlines())
    assert n_gold > 0
    assert render_txt.main([]) == 0
    assert len(list((out / "samples").glob("sample_*.txt"))) == n_gold
    # a training job afterwards: the bare steps follow it
    assert generate_batch.main(["--count", "3"]) == 0
    assert submit_batch.main(["--wait", "--poll-interval", "0"]) == 0
    assert json.loads((out / "batch_input_status.json").read_text())["request_counts"]["total"] == 3


def test_submit_wait_polls_sooner_at_first(isolated_env, monkeypatch):
    """Item 13: --wait checks after 1 s, then 2, 4 … up to --poll-interval (an offline batch that
    finishes in a second is seen after about a second, not 30)."""
    monkeypatch.setenv("DATAGEN_OFFLINE_VALIDATE_S", "0")
    monkeypatch.setenv("DATAGEN_OFFLINE_SECONDS_PER_REQUEST", "1000")  # never finishes by itself
    generate_batch.main(["--count", "2"])
    sleeps = []

    def fake_sleep(s):
        sleeps.append(s)
        if len(sleeps) == 8:
            db = get_db()
            batches.cancel(db, db.execute("SELECT id FROM batches").fetchone()[0])

    monkeypatch.setattr(batches.time, "sleep", fake_sleep)
    assert submit_batch.main(["--wait"]) == 0
    assert sleeps[:7] == [1, 2, 4, 8, 16, 30, 30]


def test_every_step_says_when_the_offline_backend_is_in_use(isolated_env, capsys, monkeypatch):
    """Item 15: every CLI step that reads or makes batch data prints the offline notice on stderr
    (import_file reads files made elsewhere and keeps its one-line error contract)."""
    from datagen import push_to_hub, retry_failed, review_cli, validate
    from datagen.cli import run

    monkeypatch.setenv("DATAGEN_OFFLINE_ERROR_RATE", "0.3")
    steps = [
        (generate_batch.main, ["--count", "4"]),
        (generate_gold_batch.main, ["--per-category", "1", "--output", str(_out(isolated_env) / "g.jsonl")]),
        (generate_batch.main, ["--count", "4"]),
        (submit_batch.main, ["--wait", "--poll-interval", "0"]),
        (retrieve_batch.main, []),
        (preprocess.main, []),
        (render_txt.main, []),
        (stats.main, ["--json"]),
        (validate.main, []),
        (retry_failed.main, ["--job-id", "JOB"]),
        (review_cli.main, ["accept-clean", "--job-id", "JOB", "--operator", "민지"]),
        (push_to_hub.main, ["--repo-id", "me/delivery", "--dry-run"]),
    ]
    for main, argv in steps:
        if "JOB" in argv:
            job = get_db().execute("SELECT job_id FROM batches ORDER BY created_at DESC LIMIT 1").fetchone()[0]
            argv = [job if a == "JOB" else a for a in argv]
        run(main, argv)
        err = capsys.readouterr().err
        assert "[offline]" in err and "스크립트로 만든 예시" in err, f"{main.__module__}: {err!r}"


def test_bare_submit_never_resubmits_a_job_the_app_split_into_parts(isolated_env):
    """A job made and submitted by the app (parts) is not what a bare submit_batch picks: the CLI
    job before it is, and nothing is paid twice."""
    from datagen import jobs

    assert generate_batch.main(["--count", "3"]) == 0
    assert submit_batch.main(["--wait", "--poll-interval", "0"]) == 0
    db = get_db()
    app_job = jobs.create_job(db, kind="train", counts={"search": 2}, seed=9, max_requests=1)
    assert len(batches.submit_job(db, app_job["id"], max_requests=1)) == 2  # two parts: the whole file is neither
    n = db["batches"].count
    assert submit_batch.main([]) == 0
    assert db["batches"].count == n
