"""Batches at scale: splitting, idempotent submission under injected faults, resumable retrieval,
retry of failed requests, cost estimate and yield — all on the offline backend."""

import json

import httpx2
import openai
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from datagen import batches, jobs, pricing, scenarios, yields
from datagen import config as dconfig
from datagen.backend import get_client
from datagen.ingest import preprocess
from datagen.offline import OfflineOptions
from datagen.review import record_decision


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch):
    monkeypatch.setattr(batches, "RETRY_BACKOFF_S", (0.0, 0.0, 0.0))


def _client(**opts):
    """An offline client: instant, no random HTTP errors, plus the given options (faults…)."""
    return get_client(options=OfflineOptions(**{"validate_s": 0, "seconds_per_request": 0, "error_rate": 0, "truncation_rate": 0, **opts}))


def _job(db, n=12, **kw):
    per = {"search": n // 2, "menu": n - n // 2}
    return jobs.create_job(db, kind="train", counts=per, seed=1, **kw)


def _n_batches(client):
    return len(client.batches.list(limit=100).data)


def test_split_respects_request_and_byte_limits(db):
    job = _job(db, n=12)
    assert jobs.part_paths(db, job["id"]) == [] and jobs.get_job(db, job["id"])["seed"] == 1
    with pytest.raises(ValueError, match="작업 job_nope이\\(가\\) 없습니다"):
        jobs.get_job(db, "job_nope")
    parts = jobs.split_job(db, job["id"], max_requests=5)
    assert [p["n_requests"] for p in parts] == [5, 5, 2]
    assert jobs.part_paths(db, job["id"]) == [p["path"] for p in parts]
    assert jobs.latest_job(db)["id"] == job["id"] and jobs.latest_job(db, single_file=True) is None  # split into parts
    whole = _job(db, n=2)
    assert jobs.latest_job(db)["id"] == jobs.latest_job(db, single_file=True)["id"] == whole["id"]
    assert jobs.split_job(db, job["id"], max_requests=2) == parts  # idempotent
    job2 = _job(db, n=6)
    size = max(len(l) for l in open(job2["input_file"], "rb"))
    parts2 = jobs.split_job(db, job2["id"], max_bytes=size * 2 + 1)
    assert all(p["bytes"] <= size * 2 + 1 for p in parts2) and sum(p["n_requests"] for p in parts2) == 6


@pytest.mark.parametrize(
    "fault",
    [
        {"method": "POST", "path": "/files", "status": 429, "times": 2},
        {"method": "POST", "path": "/files", "status": "timeout", "times": 1},
        {"method": "POST", "path": "/batches", "status": 500, "times": 2},
        {"method": "POST", "path": "/batches", "status": 429, "times": 1},
        {"method": "POST", "path": "/batches", "status": "timeout", "times": 1, "after": True},
        {"method": "POST", "path": "/batches", "status": 500, "times": 1, "after": True},
    ],
    ids=["upload-429", "upload-timeout", "create-500", "create-429", "create-timeout-after-success", "create-500-after-success"],
)
def test_faults_on_submit_are_retried_and_never_duplicate_a_batch(db, fault):
    client = _client(faults=[fault])
    job = _job(db)
    rows = batches.submit_job(db, job["id"], client=client, max_requests=5)
    assert len(rows) == 3 and len({r["id"] for r in rows}) == 3
    assert _n_batches(client) == 3  # the provider holds exactly one batch per part
    assert fault["times"] == 0  # the fault really happened
    assert batches.submit_job(db, job["id"], client=client) == rows  # again: nothing new
    assert _n_batches(client) == 3


def test_a_create_retried_after_a_fault_is_logged_not_silent(db, caplog):
    client = _client(faults=[{"method": "POST", "path": "/batches", "status": 500, "times": 1, "after": True}])
    job = _job(db, n=2)
    with caplog.at_level("INFO", logger="datagen.batches"):
        (row,) = batches.submit_job(db, job["id"], client=client)
    messages = [r.getMessage() for r in caplog.records if r.name == "datagen.batches"]
    assert any("failed in transit" in m and f"{job['id']}:1" in m and "retry 1 of" in m for m in messages), messages
    assert any(f"had succeeded (batch {row['id']})" in m for m in messages), messages  # found by its key: no second batch
    assert _n_batches(client) == 1


def test_crash_after_create_before_recording_resumes_without_a_second_batch(db, monkeypatch):
    client = _client()
    job = _job(db, n=4)
    real = batches._create_idempotent

    def crash(*a, **kw):
        real(*a, **kw)  # the provider created the batch...
        raise KeyboardInterrupt  # ...and the process died before writing its id

    monkeypatch.setattr(batches, "_create_idempotent", crash)
    with pytest.raises(KeyboardInterrupt):
        batches.submit_job(db, job["id"], client=client)
    monkeypatch.setattr(batches, "_create_idempotent", real)
    monkeypatch.setattr(batches, "STALE_CLAIM_S", 0.0)
    rows = batches.submit_job(db, job["id"], client=client)
    assert len(rows) == 1 and _n_batches(client) == 1


def test_double_click_makes_one_job_and_one_batch(db):
    client = _client()
    a = _job(db, idempotency_key="form-123")
    b = _job(db, idempotency_key="form-123")
    assert a["id"] == b["id"] and db["jobs"].count == 1
    batches.submit_job(db, a["id"], client=client)
    batches.submit_job(db, b["id"], client=client)
    assert _n_batches(client) == 1


def test_faults_on_status_and_download_are_retried(db):
    client = _client(
        faults=[
            {"method": "GET", "path": "/batches/", "status": 500, "times": 1},
            {"method": "GET", "path": "/files/", "status": 429, "times": 1},
        ]
    )
    job = _job(db, n=6)
    (row,) = batches.submit_job(db, job["id"], client=client)
    row = batches.wait(db, row["id"], poll_interval=0, client=client)
    got = batches.retrieve(db, row["id"], client=client)
    assert got["output_lines"] == 6


def test_crash_between_download_and_ingest_resumes_with_no_duplicates(db):
    client = _client()
    job = _job(db, n=6)
    (row,) = batches.submit_job(db, job["id"], client=client)
    batches.wait(db, row["id"], poll_interval=0, client=client)
    batches.retrieve(db, row["id"], client=client)  # downloaded; the process dies before preprocess
    again = batches.retrieve(db, row["id"], client=client)  # resumed: nothing new stored
    assert again["new_lines"] == 0
    first = preprocess(db)
    second = preprocess(db)
    assert first["imported"] == 6 and second["read"] == 0
    assert db["samples"].count == 6 and db["raw_results"].count == 6


def test_expired_batch_keeps_finished_lines_and_the_rest_is_retried(db):
    slow = _client(seconds_per_request=1.0, expire_after_s=3.5)
    job = _job(db, n=8)
    (row,) = batches.submit_job(db, job["id"], client=slow)
    import time

    time.sleep(3.6)
    row = batches.refresh(db, row["id"], client=slow)
    assert row["status"] == "expired"
    got = batches.retrieve(db, row["id"], client=slow)
    assert got["output_lines"] == 3 and got["error_lines"] == 5
    summary = preprocess(db)
    assert summary["imported"] == 3 and summary["failed"] == 5
    assert len(batches.retry_candidates(db, job["id"])) == 5
    fast = _client()
    retry = batches.retry_failed(db, job["id"], client=fast)
    part = next(db.query("SELECT * FROM job_parts WHERE batch_id = ?", [retry["id"]]))
    assert part["retry_of"] == row["id"] and part["n_requests"] == 5
    batches.wait(db, retry["id"], poll_interval=0, client=fast)
    batches.retrieve(db, retry["id"], client=fast)
    preprocess(db)
    assert db["samples"].count == 8 and batches.retry_candidates(db, job["id"]) == []
    assert batches.retry_failed(db, job["id"], client=fast) is None
    assert {r[0] for r in db.execute("SELECT attempt FROM requests WHERE status = 'parsed'")} == {1, 2}


def test_cost_estimate_counts_tokens_and_applies_discounts(db):
    job = _job(db, n=4)
    lines = [json.loads(l) for l in open(job["input_file"], encoding="utf-8")]
    est = pricing.estimate(lines, "gpt-4.1-mini")
    total = est["total"]
    assert total["requests"] == 4 and total["input_tokens"] > 4 * 1000  # the static prefix is long
    assert 0 < total["cached_tokens"] < total["input_tokens"]
    p = pricing.PRICES["gpt-4.1-mini"]
    expected = (
        ((total["input_tokens"] - total["cached_tokens"]) * p["input"] + total["cached_tokens"] * p["cached_input"] + total["output_tokens"] * p["output"])
        / 1e6
        * pricing.BATCH_DISCOUNT
    )
    assert total["cost_usd"] == pytest.approx(expected, rel=1e-3)
    assert est["output_source"] == "default" and total["output_tokens"] == 4 * pricing.DEFAULT_OUTPUT_TOKENS
    with pytest.raises(pricing.PricingError, match="가격을 모릅니다"):
        pricing.estimate(lines, "mystery-model")


def test_yield_and_top_up(db):
    client = _client()
    job = _job(db, n=4)  # search 2, menu 2
    (row,) = batches.submit_job(db, job["id"], client=client)
    batches.wait(db, row["id"], poll_interval=0, client=client)
    batches.retrieve(db, row["id"], client=client)
    preprocess(db)
    uids = {c: [r[0] for r in db.execute("SELECT uid FROM samples WHERE category = ? ORDER BY rowid", [c])] for c in ("search", "menu")}
    record_decision(db, uids["search"][0], annotator="a", decision="accept")
    record_decision(db, uids["search"][1], annotator="a", decision="reject", reasons=["other"])
    record_decision(db, uids["menu"][0], annotator="a", decision="accept")
    record_decision(db, uids["menu"][1], annotator="a", decision="accept")
    rows = {r["category"]: r for r in yields.yield_table(db)}
    assert rows["search"]["requested"] == 2 and rows["search"]["accepted"] == 1 and rows["search"]["yield"] == 0.5
    assert rows["menu"]["accept_rate"] == 1.0 and rows["menu"]["cost_usd"] > 0
    assert rows["menu"]["cost_per_accepted"] == pytest.approx(rows["menu"]["cost_usd"] / 2, rel=1e-3)
    # target 5 accepted each: search needs (5 - 1) / 0.5 = 8, menu (5 - 2) / 1.0 = 3
    assert yields.top_up_counts(db, "train", {"search": 5, "menu": 5, "cart": 2}) == {"search": 8, "menu": 3, "cart": 2}


def test_top_up_creates_and_submits_once_per_screen_with_a_clock_seed(db, monkeypatch):
    client = _client()
    monkeypatch.setattr(batches.time, "time", lambda: 1_700_012_345.9)
    assert batches.top_up_seed() == 12_345 and batches.top_up_seed(100_007.5) == 7
    job = batches.top_up(db, kind="train", counts={"search": 3, "menu": 1}, jobs_seen=2, operator="pm", client=client)
    assert job["seed"] == 12_345 and job["n_requests"] == 4 and len(job["parts"]) == 1
    assert job["idempotency_key"] == "topup:train:[('menu', 1), ('search', 3)]:2"
    # the same click again (rerun, double click): the first job, no second batch
    again = batches.top_up(db, kind="train", counts={"search": 3, "menu": 1}, jobs_seen=2, operator="pm", client=client)
    assert again["id"] == job["id"] and db["jobs"].count == 1 and _n_batches(client) == 1
    # a later screen (one more job on it) is a new top-up, with the seed given
    other = batches.top_up(db, kind="train", counts={"search": 3, "menu": 1}, jobs_seen=3, operator="pm", seed=5, client=client)
    assert other["id"] != job["id"] and other["seed"] == 5 and _n_batches(client) == 2
    with pytest.raises(ValueError):
        batches.top_up(db, kind="train", counts={}, jobs_seen=4, operator="pm", client=client)


def test_fast_line_encoder_is_byte_identical_to_the_reference(db):
    from datagen import scenarios

    for sc in scenarios.make_scenarios("train", {"search": 3, "no_call": 2}, 9):
        fast = jobs.line_encoder(model="gpt-4.1-mini", temperature=0.7)(sc)
        reference = json.dumps(jobs.build_request_line(sc, model="gpt-4.1-mini", temperature=0.7), ensure_ascii=False)
        assert fast == reference
        assert jobs.line_encoder(model="gpt-4.1-mini", temperature=0.7, as_bytes=True)(sc) == (reference + "\n").encode()


def test_a_job_that_fits_one_batch_is_not_copied(db):
    job = _job(db, n=4)
    (part,) = jobs.split_job(db, job["id"])
    assert part["path"] == job["input_file"] and part["n_requests"] == 4


def test_a_big_job_is_written_straight_into_parts(db):
    job = jobs.create_job(db, kind="train", counts={"search": 7}, seed=2, max_requests=3)
    parts = jobs.split_job(db, job["id"])
    assert [p["n_requests"] for p in parts] == [3, 3, 1]
    assert all(p["sha256"] == jobs.file_sha256(__import__("pathlib").Path(p["path"])) for p in parts)
    rows = batches.submit_job(db, job["id"], client=_client())
    assert len(rows) == 3


def test_eta_from_the_rate_so_far():
    row = {"status": "in_progress", "created_at": "2026-11-21T12:00:00+00:00", "request_counts": {"total": 100, "completed": 20, "failed": 5}}
    from datetime import datetime

    t0 = datetime.fromisoformat("2026-11-21T12:00:00+00:00").timestamp()
    assert batches.eta_seconds(row, now_ts=t0 + 50) == pytest.approx(150.0)  # 25 done in 50 s → 75 left at 0.5/s
    assert batches.eta_seconds({**row, "status": "completed"}, now_ts=t0 + 50) is None


def test_split_total_is_exact_and_proportional():
    from datagen import scenarios

    assert scenarios.split_total(10, {"search": 1, "menu": 1, "cart": 1}) == {"search": 4, "menu": 3, "cart": 3}
    assert sum(scenarios.split_total(1001, {"search": 33.3, "menu": 66.7}).values()) == 1001
    with pytest.raises(ValueError):
        scenarios.split_total(5, {"search": 0})


def _decided_job(db, client, n=6):
    job = _job(db, n=n)
    (row,) = batches.submit_job(db, job["id"], client=client)
    batches.wait(db, row["id"], poll_interval=0, client=client)
    batches.retrieve(db, row["id"], client=client)
    preprocess(db)
    return job


def test_rejected_samples_are_regenerated_with_a_new_seed_and_linked(db):
    client = _client()
    job = _decided_job(db, client)  # search 3, menu 3
    rows = list(db.query("SELECT s.uid, s.category, q.scenario FROM samples s JOIN requests q USING (custom_id) ORDER BY s.rowid"))
    rejected = [r for r in rows if r["category"] == "search"][:2] + [r for r in rows if r["category"] == "menu"][:1]
    for r in rejected:
        record_decision(db, r["uid"], annotator="a", decision="reject", reasons=["other"])
    record_decision(db, rows[-1]["uid"], annotator="a", decision="accept")
    assert jobs.rejected_to_regenerate(db, kind="train", job_id=job["id"]) == {"search": [rejected[0]["uid"], rejected[1]["uid"]], "menu": [rejected[2]["uid"]]}

    new = jobs.regenerate_rejected(db, kind="train", seed=1001, job_id=job["id"])
    assert new["regenerates"] == 3 and new["n_requests"] == 3 and new["seed"] == 1001
    links = {r["regenerates"]: r for r in db.query("SELECT * FROM requests WHERE job_id = ?", [new["id"]])}
    assert set(links) == {r["uid"] for r in rejected}
    for r in rejected:
        q = links[r["uid"]]
        assert q["category"] == r["category"] and q["kind"] == "train"
        assert json.loads(q["scenario"]) != json.loads(r["scenario"])  # a fresh draw, not the same request again
    assert [r["custom_id"] for r in db.query("SELECT custom_id FROM requests")] == sorted(
        {r["custom_id"] for r in db.query("SELECT custom_id FROM requests")}
    )  # custom_ids never repeat
    # nothing left to regenerate: a second click makes nothing; the summary shows the link both ways
    assert jobs.regenerate_rejected(db, kind="train", seed=1001, job_id=job["id"]) is None
    summary = {j["id"]: j for j in batches.job_summary(db)}
    assert summary[job["id"]]["to_regenerate"] == 0 and summary[new["id"]]["regenerates"] == 3
    # the new job goes through the same path
    (row,) = batches.submit_job(db, new["id"], client=client)
    batches.wait(db, row["id"], poll_interval=0, client=client)
    batches.retrieve(db, row["id"], client=client)
    assert preprocess(db)["imported"] == 3


def test_regenerating_after_a_crash_before_linking_returns_the_same_job(db, monkeypatch):
    client = _client()
    job = _decided_job(db, client, n=2)
    uid = db.execute("SELECT uid FROM samples ORDER BY rowid LIMIT 1").fetchone()[0]
    record_decision(db, uid, annotator="a", decision="reject", reasons=["other"])
    real = jobs.create_job

    def create_then_crash(*a, **kw):
        real(*a, **kw)
        raise KeyboardInterrupt  # the process dies after the job is stored, before the links

    monkeypatch.setattr(jobs, "create_job", create_then_crash)
    with pytest.raises(KeyboardInterrupt):
        jobs.regenerate_rejected(db, kind="train", seed=5, job_id=job["id"])
    monkeypatch.setattr(jobs, "create_job", real)
    new = jobs.regenerate_rejected(db, kind="train", seed=5, job_id=job["id"])
    assert db["jobs"].count == 2 and new["regenerates"] == 1
    assert db.execute("SELECT COUNT(*) FROM requests WHERE regenerates = ?", [uid]).fetchone()[0] == 1


def test_retry_failed_cli_regenerates_rejected_samples(db, capsys):
    from datagen import retry_failed as cli

    job = _decided_job(db, _client(), n=2)
    uid = db.execute("SELECT uid FROM samples ORDER BY rowid LIMIT 1").fetchone()[0]
    record_decision(db, uid, annotator="a", decision="reject", reasons=["other"])
    assert cli.main(["--job-id", job["id"], "--rejected", "--seed", "77"]) == 0
    out = capsys.readouterr().out
    assert "재시도할 요청이 없습니다" in out and "반려된 샘플 1건을" in out and "시드 77" in out
    new_job = db.execute("SELECT job_id FROM requests WHERE regenerates = ?", [uid]).fetchone()[0]
    assert db.execute("SELECT seed FROM jobs WHERE id = ?", [new_job]).fetchone()[0] == 77
    assert db["batches"].count == 2


def test_retrieving_again_keeps_failed_requests_retryable(db):
    """A second retrieve (a rerun, a double click) leaves parsed and failed requests as they are:
    the failed ones stay retry candidates instead of turning back into 'returned'."""
    client = _client(error_rate=0.5)
    job = _job(db, n=10)
    (row,) = batches.submit_job(db, job["id"], client=client)
    batches.wait(db, row["id"], poll_interval=0, client=client)
    batches.retrieve(db, row["id"], client=client)
    summary = preprocess(db)
    before = batches.retry_candidates(db, job["id"])
    statuses = dict(db.execute("SELECT custom_id, status FROM requests").fetchall())
    assert summary["failed"] and len(before) == summary["failed"] and summary["imported"] == 10 - summary["failed"]
    again = batches.retrieve(db, row["id"], client=client)
    assert again["new_lines"] == 0
    assert batches.retry_candidates(db, job["id"]) == before
    assert dict(db.execute("SELECT custom_id, status FROM requests").fetchall()) == statuses


def test_a_late_failed_line_does_not_make_a_parsed_request_retryable(db):
    """A request whose answer was parsed is not resubmitted (paid twice) because a failed line for
    the same custom_id is ingested after it."""
    from datagen.store import insert_raw_lines

    client = _client()
    job = _job(db, n=4)
    (row,) = batches.submit_job(db, job["id"], client=client)
    batches.wait(db, row["id"], poll_interval=0, client=client)
    batches.retrieve(db, row["id"], client=client)
    assert preprocess(db)["imported"] == 4
    cid = db.execute("SELECT custom_id FROM requests ORDER BY custom_id LIMIT 1").fetchone()[0]
    late = {
        "id": "batch_req_late",
        "custom_id": cid,
        "response": None,
        "error": {"code": "batch_expired", "message": "This request could not be executed before the completion window expired."},
    }
    insert_raw_lines(db, "batch:batch_older:error", [(1, json.dumps(late))])
    assert preprocess(db)["failed"] == 1
    assert db.execute("SELECT status FROM requests WHERE custom_id = ?", [cid]).fetchone()[0] == "parsed"
    assert batches.retry_candidates(db, job["id"]) == []


def test_retrieve_with_ingest_parses_while_downloading_and_resumes(db, monkeypatch):
    """``retrieve(ingest=True)`` (the Batches page) stores every line raw and parses it in the same
    pass; a crash midway resumes without duplicates and a second retrieve adds nothing."""
    from datagen import ingest

    client = _client(error_rate=0.3)
    job = _job(db, n=12)
    (row,) = batches.submit_job(db, job["id"], client=client)
    batches.wait(db, row["id"], poll_interval=0, client=client)
    monkeypatch.setattr(ingest, "CHUNK", 5)
    real_write = ingest._write_chunk
    calls = {"n": 0}

    def crash_on_second_chunk(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("killed")
        return real_write(*args, **kwargs)

    monkeypatch.setattr(ingest, "_write_chunk", crash_on_second_chunk)
    with pytest.raises(KeyboardInterrupt):
        batches.retrieve(db, row["id"], client=client, ingest=True)
    assert db["samples"].count == 5 - db.execute("SELECT COUNT(*) FROM raw_results WHERE status = 'failed'").fetchone()[0]
    monkeypatch.setattr(ingest, "_write_chunk", real_write)
    got = batches.retrieve(db, row["id"], client=client, ingest=True)
    assert got["output_lines"] + got["error_lines"] == 12 and got["error_lines"]  # HTTP errors come in the error file
    assert got["parsed"]["read"] == 7  # all but the 5 lines of the chunk written before the crash
    statuses = dict(db.execute("SELECT status, COUNT(*) FROM raw_results GROUP BY 1").fetchall())
    assert statuses.get("new") is None and statuses["parsed"] == db["samples"].count
    assert statuses["parsed"] + statuses["failed"] == 12 and db["samples"].count < 12
    assert sorted(batches.retry_candidates(db, job["id"])) == sorted(r[0] for r in db.execute("SELECT custom_id FROM raw_results WHERE status = 'failed'"))
    again = batches.retrieve(db, row["id"], client=client, ingest=True)
    assert again["new_lines"] == 0 and again["parsed"]["read"] == 0 and db["raw_results"].count == 12


def test_cli_submit_after_a_lost_create_answer_and_a_failed_lookup_makes_no_second_batch(db, monkeypatch):
    """Issue 14: the create succeeded on the server, its answer was lost, and the batch-list lookup
    failed too, so the first run ends with an error; a plain rerun of the CLI step must find that
    batch (lookup before every create) instead of paying for a second one."""
    from datagen import submit_batch
    from datagen.cli import run

    job = _job(db, n=4)
    monkeypatch.setenv(
        "DATAGEN_OFFLINE_FAULTS",
        json.dumps(
            [
                {"method": "POST", "path": "/batches", "status": "timeout", "times": 1, "after": True},
            ]
        ),
    )
    real_find, lookups = batches.find_submitted, []

    def lookup_fails_after_the_create(client, key, **kw):
        lookups.append(key)
        if _n_batches(_client()) == 0:
            return real_find(client, key, **kw)  # nothing created yet: the list answers
        raise openai.APIConnectionError(request=httpx2.Request("GET", "https://offline/v1/batches"))

    monkeypatch.setattr(batches, "find_submitted", lookup_fails_after_the_create)
    assert run(submit_batch.main, ["--input", job["input_file"]]) == 1
    assert _n_batches(_client()) == 1  # the server did create it; its answer and the lookup were lost
    assert db["batches"].count == 0
    monkeypatch.delenv("DATAGEN_OFFLINE_FAULTS")
    monkeypatch.setattr(batches, "find_submitted", real_find)
    assert run(submit_batch.main, ["--input", job["input_file"]]) == 0
    assert _n_batches(_client()) == 1  # found by its submission key, not created again
    (row,) = db.execute("SELECT id FROM batches").fetchall()
    assert row[0] == _client().batches.list(limit=100).data[0].id


def test_retrieve_with_ingest_of_a_batch_with_poison_lines_parses_the_rest(db, monkeypatch):
    """Issue 14: one answer holding a lone surrogate (or a >4300-digit integer) made the Batches
    page's retrieve raise PydanticSerializationError with nothing imported, and every retry the same."""
    client = _client()
    job = _job(db, n=6)
    (row,) = batches.submit_job(db, job["id"], client=client)
    batches.wait(db, row["id"], poll_interval=0, client=client)
    real = batches._download_lines

    def poisoned(client_, file_id):
        for no, line in real(client_, file_id):
            if no == 2:
                obj = json.loads(line)
                msg = obj["response"]["body"]["choices"][0]["message"]
                msg["content"] = msg["content"].replace('"content": "', '"content": "\\ud800', 1)
                line = json.dumps(obj)
            elif no == 4:
                line = line.replace('"status_code": 200', '"status_code": 200, "n": ' + "9" * 5000, 1)
            yield no, line

    monkeypatch.setattr(batches, "_download_lines", poisoned)
    got = batches.retrieve(db, row["id"], client=client, ingest=True)
    assert (got["parsed"]["read"], got["parsed"]["imported"], got["parsed"]["failed"]) == (6, 4, 2)
    reasons = {e["line"]: e["reason"] for e in got["parsed"]["errors"]}
    assert "서로게이트" in reasons[2] and "4300자리" in reasons[4]
    assert db["raw_results"].count == 6 and db["samples"].count == 4


@hsettings(max_examples=60, deadline=None)
@given(
    kind=st.sampled_from(["train", "gold"]),
    counts=st.dictionaries(st.sampled_from(dconfig.CATEGORIES), st.integers(0, 10_000)),
    seed=st.integers(0, 2**31 - 1),
    temperature=st.floats(0, 2),
    personas=st.lists(st.sampled_from(dconfig.PERSONAS), unique=True, max_size=3),
    turns=st.tuples(st.integers(1, 10), st.integers(1, 10)).map(sorted),
    dates=st.tuples(st.dates(), st.dates()).map(sorted),
)
def test_a_scenario_mix_survives_a_preset_round_trip(kind, counts, seed, temperature, personas, turns, dates):
    mix = scenarios.ScenarioMix(
        kind=kind,
        counts=counts,
        seed=seed,
        temperature=temperature,
        personas=tuple(personas) or None,
        turn_range=tuple(turns),
        date_range=tuple(d.isoformat() for d in dates),
    )
    stored = json.loads(json.dumps(mix.to_preset()))  # what the presets table holds
    assert scenarios.ScenarioMix.from_preset(stored) == mix
    assert stored["date_range"] == [d.isoformat() for d in dates]


def test_presets_keep_the_date_range_and_create_job_takes_a_mix(db):
    mix = scenarios.ScenarioMix(
        kind="train", counts={"search": 3, "menu": 0}, seed=9, personas=(dconfig.PERSONAS[0],), turn_range=(2, 3), date_range=("2026-03-01", "2026-03-05")
    )
    jobs.save_preset(db, "3월", mix)
    loaded = scenarios.ScenarioMix.from_preset(jobs.presets(db)["3월"]["config"])
    assert loaded == mix and loaded.date_range == ("2026-03-01", "2026-03-05")
    # an older preset (no date range, no personas key) loads with the defaults
    assert scenarios.ScenarioMix.from_preset({"kind": "gold", "counts": {"cart": 2}}) == scenarios.ScenarioMix(kind="gold", counts={"cart": 2})
    by_mix = jobs.create_job(db, mix=loaded)
    by_keywords = jobs.create_job(
        db, kind="train", counts={"search": 3}, seed=9, personas=[dconfig.PERSONAS[0]], turn_range=(2, 3), date_range=("2026-03-01", "2026-03-05")
    )
    assert by_mix["params"] == by_keywords["params"] and by_mix["seed"] == 9 and by_mix["n_requests"] == 3
    scen = [json.loads(s) for (s,) in db.execute("SELECT scenario FROM requests WHERE job_id = ?", [by_mix["id"]])]
    assert all("2026-03-01" <= s["date"] <= "2026-03-05" and 2 <= s["user_turns"] <= 3 and s["persona"] == dconfig.PERSONAS[0] for s in scen)
    with pytest.raises(TypeError, match="seed"):
        jobs.create_job(db, mix=mix, seed=3)
    with pytest.raises(TypeError):
        jobs.create_job(db, kind="train")
