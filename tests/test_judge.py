"""The model judge (issue 17, part 1): strict schema, request lines, offline verdicts, ingest routing,
findings by source, agreement with people's decisions, the CLI."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from datagen import batches, config, ingest, jobs, judge, offline, quality, review, stats, yields
from datagen.dialogue import Dialogue, FormatError, Turn, from_generator_output
from datagen.generator_schema import GENERATOR_SCHEMA, strict_problems
from datagen.offline_dialogues import DEFECTS, planted_defect, scripted_dialogue
from datagen.scenarios import make_scenarios
from datagen.store import write_transaction

ROOT = Path(__file__).resolve().parents[1]
MODEL = "gpt-4.1"


# ----------------------------------------------------------------------------- helpers


def _generate(db, counts: dict[str, int], seed: int = 1) -> str:
    """A generation job on the offline backend, submitted, finished and ingested; returns its id."""
    job = jobs.create_job(db, kind="train", counts=counts, seed=seed)
    for row in batches.submit_job(db, job["id"]):
        batches.wait(db, row["id"], poll_interval=0.01, timeout=60)
        batches.retrieve(db, row["id"], ingest=True)
    return job["id"]


def _run_judge(db, job_id: str, model: str = MODEL, **plan_kw) -> tuple[dict, list[dict]]:
    """Plan, submit, wait for and retrieve a judge job; returns (plan result, retrieve summaries)."""
    got = judge.plan(db, model=model, job_id=job_id, **plan_kw)
    summaries = []
    for row in batches.submit_job(db, got["job"]["id"]):
        batches.wait(db, row["id"], poll_interval=0.01, timeout=60)
        summaries.append(batches.retrieve(db, row["id"], ingest=True))
    return got, summaries


@pytest.fixture
def no_faults(monkeypatch):
    monkeypatch.setenv("DATAGEN_OFFLINE_ERROR_RATE", "0")
    monkeypatch.setenv("DATAGEN_OFFLINE_TRUNCATION_RATE", "0")


def _dialogue(custom_id: str, category: str, defect: str | None) -> Dialogue:
    sc = next(s for s in make_scenarios("train", {category: 1}, 3) if s["category"] == category)
    sc = {**sc, "custom_id": custom_id}
    return from_generator_output(
        scripted_dialogue(sc, defect), tools=config.TOOLS, custom_id=custom_id, kind="train", category=category, system_prompt=sc.get("system_prompt", "")
    )


# ----------------------------------------------------------------------------- the schema


def test_judge_schema_is_accepted_by_strict_structured_outputs():
    assert strict_problems(judge.JUDGE_SCHEMA) == []
    assert strict_problems(GENERATOR_SCHEMA) == []  # the same rules the generator's schema follows
    assert judge.RESPONSE_FORMAT["json_schema"]["strict"] is True
    assert judge.RESPONSE_FORMAT["json_schema"]["schema"] is judge.JUDGE_SCHEMA
    Draft202012Validator.check_schema(judge.JUDGE_SCHEMA)
    turn = judge.JUDGE_SCHEMA["properties"]["turns"]["items"]
    assert turn["properties"]["reason"]["enum"] == [*judge.JUDGE_REASONS, None]
    assert turn["properties"]["reason"]["type"] == ["string", "null"]  # nullable through a type array


def test_the_rubric_is_the_review_taxonomy_without_the_corpus_reasons():
    assert set(judge.JUDGE_REASONS) == set(review.REJECT_REASONS) - {"duplicate", "contamination"}
    assert list(judge.RUBRIC) == list(judge.JUDGE_REASONS)
    text = judge.instructions(config.TOOLS)
    for key, label in review.REJECT_REASONS.items():
        assert (f"- {key} ({label}):" in text) == (key in judge.JUDGE_REASONS)


def _object_paths(node, path=()):
    if isinstance(node, dict):
        if node.get("type") == "object" or (isinstance(node.get("type"), list) and "object" in node["type"]):
            yield path
        for k, v in node.items():
            if isinstance(v, dict):
                yield from _object_paths(v, path + (k,))


def _at(schema, path):
    for k in path:
        schema = schema[k]
    return schema


MUTATIONS = ("drop_required", "open_object", "no_additional", "unsupported_keyword", "two_types", "anyof_root")


@given(
    which=st.sampled_from(["judge", "generator"]),
    mutation=st.sampled_from(MUTATIONS),
    pick=st.integers(0, 50),
    keyword=st.sampled_from(["default", "minLength", "maxLength", "allOf", "not", "if", "patternProperties", "uniqueItems"]),
)
@hsettings(max_examples=120, deadline=None)
def test_the_strict_checker_refuses_what_strict_mode_refuses(which, mutation, pick, keyword):
    schema = copy.deepcopy(judge.JUDGE_SCHEMA if which == "judge" else GENERATOR_SCHEMA)
    paths = list(_object_paths(schema))
    node = _at(schema, paths[pick % len(paths)])
    if mutation == "drop_required":
        node["required"] = node["required"][1:]
    elif mutation == "open_object":
        node["additionalProperties"] = True
    elif mutation == "no_additional":
        del node["additionalProperties"]
    elif mutation == "unsupported_keyword":
        prop = sorted(node["properties"])[pick % len(node["properties"])]
        node["properties"][prop][keyword] = 1
    elif mutation == "two_types":
        prop = sorted(node["properties"])[pick % len(node["properties"])]
        node["properties"][prop]["type"] = ["string", "integer", "null"]
    else:
        schema = {"anyOf": [schema]}
    assert strict_problems(schema), (which, mutation)


# ----------------------------------------------------------------------------- request lines


def test_a_request_line_asks_for_the_strict_schema_and_carries_the_dialogue():
    d = _dialogue("train-cart-00001", "cart", None)
    cid = judge.judge_custom_id(MODEL, d.uid)
    line = judge.build_request_line(d, model=MODEL, custom_id=cid)
    assert line["custom_id"] == cid and line["method"] == "POST" and line["url"] == jobs.BATCH_ENDPOINT
    body = line["body"]
    assert body["model"] == MODEL and body["temperature"] == 0.0
    assert body["response_format"] == judge.RESPONSE_FORMAT
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert body["messages"][0]["content"] == judge.instructions(d.tools)  # the static prefix: cacheable
    ref, turns, tools, prompt = judge.request_dialogue(body)
    assert ref == "train-cart-00001" and tools == d.tools and prompt == d.system_prompt
    assert [(t["turn"], t["role"], t.get("content")) for t in turns] == [(i, t.role, t.content) for i, t in enumerate(d.turns)]
    assert f"판정할 상담사 턴: {', '.join(f'#{i}' for i in judge.assistant_turns(d))}" in body["messages"][1]["content"]
    # never a generation custom_id: the two cannot collide, and ingest can tell them apart
    assert jobs.parse_custom_id(cid) is None and judge.is_judge_custom_id(cid)
    assert not judge.is_judge_custom_id("train-cart-00001") and judge.parse_judge_custom_id("train-cart-00001") is None


def test_reasoning_models_get_no_temperature():
    d = _dialogue("train-search-00001", "search", None)
    assert "temperature" not in judge.build_request_line(d, model="gpt-5-mini", custom_id="judge:gpt-5-mini:x:1")["body"]


@given(
    model=st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40),
    uid=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,40}", fullmatch=True),
    n=st.integers(1, 10**6),
)
def test_judge_custom_ids_read_back_whatever_the_model_name(model, uid, n):
    assert judge.parse_judge_custom_id(judge.judge_custom_id(model, uid, n)) == (model, uid, n)


# ----------------------------------------------------------------------------- the offline judge


def _answers(n_per_category: int, defect_rate: float, **rates):
    out = []
    for sc in make_scenarios("train", {c: n_per_category for c in config.CATEGORIES}, 11):
        truth = planted_defect(sc["custom_id"], defect_rate)
        d = from_generator_output(
            scripted_dialogue(sc, truth),
            tools=config.TOOLS,
            custom_id=sc["custom_id"],
            kind="train",
            category=sc["category"],
            system_prompt=sc.get("system_prompt", ""),
        )
        d.uid = f"u-{sc['custom_id']}"  # fixed, so the judge custom_id is the same on a second run
        cid = judge.judge_custom_id(MODEL, d.uid)
        body = judge.build_request_line(d, model=MODEL, custom_id=cid)["body"]
        ans = judge.offline_answer(cid, body, defect_rate=defect_rate, **rates)
        out.append((d, truth, cid, ans))
    return out


def test_a_judge_that_is_never_wrong_names_exactly_the_planted_defects():
    seen = Counter()
    for d, truth, cid, ans in _answers(8, 0.6, miss_rate=0, false_flag_rate=0, wrong_reason_rate=0):
        assert ans["overall"]["verdict"] == ("defect" if truth else "ok"), (d.custom_id, truth)
        if truth:
            seen[truth] += 1
            assert ans["overall"]["reason"] == judge.DEFECT_REASON[truth]
        # every answer is what the strict schema allows, and what the parser accepts
        request = {"scenario": json.dumps({"uid": d.uid, "model": MODEL, "assistant_turns": judge.assistant_turns(d)})}
        v = judge.parse_verdict(json.dumps(ans, ensure_ascii=False), custom_id=cid, request=request)
        assert v["verdict"] == ans["overall"]["verdict"]
    assert set(seen) == set(DEFECTS)  # each kind of planted defect was met and named


def test_the_offline_judge_is_wrong_at_its_stated_rates_and_deterministic():
    rates = {"miss_rate": 0.3, "false_flag_rate": 0.2, "wrong_reason_rate": 0.25}
    answers = _answers(25, 0.5, **rates)
    planted = [(t, a) for _, t, _, a in answers if t]
    clean = [a for _, t, _, a in answers if not t]
    missed = sum(a["overall"]["verdict"] == "ok" for _, a in planted) / len(planted)
    flagged = sum(a["overall"]["verdict"] == "defect" for a in clean) / len(clean)
    caught = [(t, a) for t, a in planted if a["overall"]["verdict"] == "defect"]
    wrong = sum(a["overall"]["reason"] != judge.DEFECT_REASON[t] for t, a in caught) / len(caught)
    assert len(planted) > 60 and len(clean) > 60
    assert abs(missed - 0.3) < 0.12 and abs(flagged - 0.2) < 0.12 and abs(wrong - 0.25) < 0.13, (missed, flagged, wrong)
    again = _answers(25, 0.5, **rates)
    assert [a for *_, a in again] == [a for *_, a in answers]


# ----------------------------------------------------------------------------- through the Batch API


def test_a_judge_job_runs_like_a_generation_job_and_stores_findings_by_source(db, no_faults):
    job_id = _generate(db, {"search": 6, "cart": 6, "no_call": 4})
    n_samples = db["samples"].count
    funnel_before = stats.funnel(db)
    rule_before = db.execute("SELECT COUNT(*) FROM findings WHERE source = 'rule'").fetchone()[0]
    dry = judge.plan(db, model=MODEL, job_id=job_id, dry_run=True)
    assert dry["job"] is None and dry["n_requests"] == n_samples and db["jobs"].count == 1  # nothing written
    assert dry["estimate"]["total"]["requests"] == n_samples and dry["estimate"]["total"]["cost_usd"] > 0
    assert dry["estimate"]["output_source"] == "default"
    got, summaries = _run_judge(db, job_id)
    job = jobs.get_job(db, got["job"]["id"])
    assert job["kind"] == judge.JUDGE_KIND and job["model"] == MODEL
    assert json.loads(job["params"])["estimate"]["total"] == got["estimate"]["total"]  # the cost shown is kept with the job
    assert sum(s["parsed"].get("judged", 0) for s in summaries) == n_samples
    assert sum(s["parsed"]["imported"] for s in summaries) == 0
    assert db["samples"].count == n_samples  # a verdict is never a dialogue
    assert judge.judged_uids(db) == judge.judged_uids(db, MODEL) == {r[0] for r in db.execute("SELECT uid FROM samples")}
    assert judge.judged_uids(db, "another-model") == set()
    # raw lines first, as always: every judge answer's text is stored
    judge_raw = db.execute("SELECT COUNT(*) FROM raw_results r JOIN raw_lines l ON l.id = r.id WHERE r.custom_id LIKE 'judge:%'").fetchone()[0]
    assert judge_raw == n_samples
    assert {r[0] for r in db.execute("SELECT status FROM requests WHERE kind = 'judge'")} == {"parsed"}
    # findings: one warning per defect turn, source judge:<model>, beside the untouched rule findings
    verdicts = judge.latest_verdicts(db, MODEL)
    defect_turns = sum(t["verdict"] == "defect" for v in verdicts for t in v["turns"])
    defect_whole = sum(v["verdict"] == "defect" and not any(t["verdict"] == "defect" for t in v["turns"]) for v in verdicts)
    rows = list(db.query("SELECT * FROM findings WHERE source != 'rule'"))
    assert len(rows) == defect_turns + defect_whole
    assert all(
        r["source"] == f"judge:{MODEL}" and r["check_id"] == quality.JUDGE_CHECK and r["severity"] == "warning" and r["reason"] in judge.JUDGE_REASONS
        for r in rows
    )
    assert db.execute("SELECT COUNT(*) FROM findings WHERE source = 'rule'").fetchone()[0] == rule_before
    assert {r["uid"] for r in rows} <= quality.uids_with_findings(db)  # what the triage lanes read sees them
    # the funnel and the yield table stay about dialogues
    assert stats.funnel(db) == funnel_before
    assert {r["kind"] for r in yields.yield_table(db)} == {"train"}
    assert jobs.latest_job(db)["id"] == job_id  # the seed 001 steps follow the generation job
    # planning again pays nothing twice; --rejudge asks again with the next custom_id
    assert judge.plan(db, model=MODEL, job_id=job_id)["n_requests"] == 0
    again = judge.plan(db, model=MODEL, job_id=job_id, rejudge=True, dry_run=True)
    assert again["n_requests"] == n_samples
    assert judge.expected_output_tokens(db, MODEL)["*"] > 0 and again["estimate"]["output_source"] == "history"


def test_judge_requests_that_failed_are_retried_like_generation_requests(db, monkeypatch, no_faults):
    job_id = _generate(db, {"search": 8, "menu": 8})
    # some judge answers are HTTP errors: which ones follows the custom_ids (new each run), so the
    # rate is high enough that "none failed" is negligible (0.4**16 with 16 or more requests)
    monkeypatch.setenv("DATAGEN_OFFLINE_ERROR_RATE", "0.6")
    got, summaries = _run_judge(db, job_id)
    failed = batches.retry_candidates(db, got["job"]["id"])
    assert failed and len(failed) == sum(s["parsed"]["failed"] for s in summaries)
    assert all(judge.is_judge_custom_id(c) for c in failed)
    monkeypatch.setenv("DATAGEN_OFFLINE_ERROR_RATE", "0")
    row = batches.retry_failed(db, got["job"]["id"])
    lines = [json.loads(l) for l in Path(db["job_parts"].get((got["job"]["id"], 2))["path"]).read_text().splitlines()]
    assert sorted(l["custom_id"] for l in lines) == failed
    assert all(l["body"]["response_format"] == judge.RESPONSE_FORMAT for l in lines)
    batches.wait(db, row["id"], poll_interval=0.01, timeout=60)
    batches.retrieve(db, row["id"], ingest=True)
    assert batches.retry_candidates(db, got["job"]["id"]) == []
    assert judge.judged_uids(db, MODEL) == {r[0] for r in db.execute("SELECT uid FROM samples")}


def _output_line(custom_id: str, content: str) -> str:
    return json.dumps(
        {
            "id": "batch_req_x",
            "custom_id": custom_id,
            "response": {
                "status_code": 200,
                "request_id": "r",
                "body": {
                    "object": "chat.completion",
                    "model": MODEL,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 5},
                },
            },
            "error": None,
        },
        ensure_ascii=False,
    )


@pytest.mark.parametrize("workers", [1, 2])
def test_ingest_routes_judge_lines_and_a_malformed_answer_fails_alone(db, no_faults, workers):
    job_id = _generate(db, {"cart": 4})
    got = judge.plan(db, model=MODEL, job_id=job_id)
    reqs = [json.loads(l) for l in Path(got["job"]["input_file"]).read_text().splitlines()]
    scenarios = {r["custom_id"]: json.loads(r["scenario"]) for r in db.query("SELECT custom_id, scenario FROM requests WHERE kind = 'judge'")}
    good, not_assistant, no_json, off_schema = reqs
    opts = offline.OfflineOptions(error_rate=0, truncation_rate=0)
    user_turn = next(i for i in range(scenarios[not_assistant["custom_id"]]["n_turns"]) if i not in scenarios[not_assistant["custom_id"]]["assistant_turns"])
    bad_turn = {
        "turns": [{"turn": user_turn, "verdict": "ok", "reason": None, "evidence": None}],
        "overall": {"verdict": "ok", "reason": None, "evidence": None},
    }
    # a generation answer in the same chunk: it becomes a sample as before
    gen_sc = make_scenarios("train", {"menu": 1}, 99, start_seq={"menu": 500})[0]
    gen_line = offline.complete_request(gen_sc["custom_id"], jobs.build_request_line(gen_sc, model="gpt-4.1-mini", temperature=0.9)["body"], opts)
    lines = [
        json.dumps(offline.complete_request(good["custom_id"], good["body"], opts), ensure_ascii=False),
        _output_line(not_assistant["custom_id"], json.dumps(bad_turn)),
        _output_line(no_json["custom_id"], "이 대화는 괜찮아 보입니다."),
        _output_line(off_schema["custom_id"], json.dumps({"turns": []})),
        json.dumps(gen_line, ensure_ascii=False),
    ]
    n_samples = db["samples"].count
    if workers == 1:
        summary = ingest.ingest_lines(db, "batch:handmade:output", list(enumerate(lines, 1)))
    else:  # parsed in worker processes, as a large download is: the results come back pickled
        from datagen.store import insert_raw_lines

        insert_raw_lines(db, "batch:handmade:output", list(enumerate(lines, 1)))
        summary = ingest.process_raw(db, origins="batch:handmade:output", workers=2)
    assert summary["read"] == 5 and summary["judged"] == 1 and summary["imported"] == 1 and summary["failed"] == 3
    reasons = {e["line"]: e["reason"] for e in summary["errors"]}
    assert f"턴 #{user_turn}은(는) 대화의 어시스턴트 턴이 아닙니다" in reasons[2]
    assert reasons[3].startswith("판정 답변이 JSON이 아닙니다")
    assert reasons[4].startswith("판정 답변이 스키마를 따르지 않습니다") and "overall" in reasons[4]
    assert db["samples"].count == n_samples + 1
    assert judge.judged_uids(db) == {scenarios[good["custom_id"]]["uid"]}
    stored = dict(db.execute("SELECT r.line_no, l.line FROM raw_results r JOIN raw_lines l ON l.id = r.id WHERE r.origin = 'batch:handmade:output'"))
    assert stored == dict(enumerate(lines, 1))  # every line kept raw, the failed ones too
    status = dict(db.execute("SELECT custom_id, status FROM requests WHERE kind = 'judge'"))
    assert status[good["custom_id"]] == "parsed" and status[not_assistant["custom_id"]] == "failed"


@pytest.mark.parametrize(
    "answer, reason",
    [
        (
            {
                "turns": [{"turn": 1, "verdict": "defect", "reason": None, "evidence": "x"}],
                "overall": {"verdict": "defect", "reason": "other", "evidence": "x"},
            },
            r"turn #1이\(가\) 사유 키 없는 결함",
        ),
        (
            {
                "turns": [{"turn": 1, "verdict": "defect", "reason": "other", "evidence": " "}],
                "overall": {"verdict": "defect", "reason": "other", "evidence": "x"},
            },
            r"turn #1이\(가\) 근거 인용 없는 결함",
        ),
        (
            {"turns": [{"turn": 1, "verdict": "ok", "reason": "other", "evidence": None}], "overall": {"verdict": "ok", "reason": None, "evidence": None}},
            r"turn #1은\(는\) ok인데 사유",
        ),
        (
            {"turns": [{"turn": 1, "verdict": "defect", "reason": "other", "evidence": "x"}], "overall": {"verdict": "ok", "reason": None, "evidence": None}},
            r"전체 판정은 ok인데 턴 #1은\(는\) 결함",
        ),
        (
            {"turns": [{"turn": 1, "verdict": "ok", "reason": None, "evidence": None}] * 2, "overall": {"verdict": "ok", "reason": None, "evidence": None}},
            r"턴 #1을\(를\) 두 번 판정",
        ),
        ({"turns": [], "overall": {"verdict": "defect", "reason": "duplicate", "evidence": "x"}}, "스키마를 따르지 않습니다"),
    ],
)
def test_answers_that_contradict_themselves_are_refused(answer, reason):
    request = {"scenario": json.dumps({"uid": "u1", "model": MODEL, "assistant_turns": [1, 3]})}
    with pytest.raises(FormatError, match=reason):
        judge.parse_verdict(json.dumps(answer), custom_id="judge:m:u1:1", request=request)
    with pytest.raises(FormatError, match="보내지 않은 요청"):
        judge.parse_verdict(json.dumps(answer), custom_id="judge:m:u1:1", request=None)


def test_rule_gate_and_judge_each_replace_only_their_own_findings(db, no_faults):
    job_id = _generate(db, {"search": 5, "checkout": 5})
    _run_judge(db, job_id, model="gpt-4.1")
    uid = next(r[0] for r in db.execute("SELECT uid FROM samples ORDER BY rowid"))

    def by_source():
        return Counter(r[0] for r in db.execute("SELECT source FROM findings"))

    # a verdict for one sample from each model, with a defect (so there are findings to keep)
    def verdict(model, reason, turn):
        return {
            "uid": uid,
            "model": model,
            "custom_id": f"judge:{model}:{uid}:9",
            "revision_id": None,
            "verdict": "defect",
            "reason": reason,
            "evidence": "인용",
            "turns": [{"turn": turn, "verdict": "defect", "reason": reason, "evidence": "인용"}],
            "response_model": model,
            "usage": None,
        }

    a_turn = judge.assistant_turns(review.get_dialogue(db, uid))[0]
    with write_transaction(db):
        judge.store_verdicts(db, [(None, verdict("gpt-4.1", "wrong_tool", a_turn)), (None, verdict("gpt-4o-mini", "other", a_turn))])
    before = by_source()
    assert before["judge:gpt-4.1"] >= 1 and before["judge:gpt-4o-mini"] == 1
    quality.run_gate(db)  # re-running the whole rule gate keeps every judge finding
    after = by_source()
    assert {k: v for k, v in after.items() if k != "rule"} == {k: v for k, v in before.items() if k != "rule"}
    # a new verdict of one model replaces that model's findings of the sample, nothing else
    rule_rows = db.execute("SELECT COUNT(*) FROM findings WHERE source = 'rule'").fetchone()[0]
    other_uids_a = db.execute("SELECT COUNT(*) FROM findings WHERE source = 'judge:gpt-4.1' AND uid != ?", [uid]).fetchone()[0]
    ok = {**verdict("gpt-4.1", None, a_turn), "verdict": "ok", "turns": [{"turn": a_turn, "verdict": "ok", "reason": None, "evidence": None}]}
    with write_transaction(db):
        judge.store_verdicts(db, [(None, ok)])
    assert db.execute("SELECT COUNT(*) FROM findings WHERE source = 'judge:gpt-4.1' AND uid = ?", [uid]).fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM findings WHERE source = 'judge:gpt-4.1' AND uid != ?", [uid]).fetchone()[0] == other_uids_a
    assert db.execute("SELECT COUNT(*) FROM findings WHERE source = 'judge:gpt-4o-mini'").fetchone()[0] == 1
    assert db.execute("SELECT COUNT(*) FROM findings WHERE source = 'rule'").fetchone()[0] == rule_rows
    assert uid in judge.judged_uids(db, "gpt-4.1")  # judged ok is still judged
    # the rule writers' replacement is bound to their source, even for a check id a judge row might share
    with write_transaction(db):
        db.execute(
            "INSERT INTO findings (uid, check_id, severity, turn, reason, message, created_at, source) "
            "VALUES (?, 'contamination', 'warning', NULL, 'other', 'm', 't', 'judge:judge-c')",
            [uid],
        )
    quality.decontaminate(db)
    assert db.execute("SELECT COUNT(*) FROM findings WHERE source = 'judge:judge-c'").fetchone()[0] == 1


def test_findings_for_labels_the_judges_findings():
    # (a fresh db of its own: only the shape of findings_for matters here)
    import tempfile

    from datagen.store import connect

    with tempfile.TemporaryDirectory() as tmp:
        db = connect(Path(tmp) / "x.db")
        d = Dialogue(uid="u-1", turns=[Turn(role="user", content="안녕"), Turn(role="assistant", content="네")])
        with db.conn:
            db["samples"].insert(
                {
                    "uid": d.uid,
                    "custom_id": None,
                    "kind": "train",
                    "category": "search",
                    "source": "t",
                    "model": None,
                    "dialogue": d.model_dump_json(),
                    "usage": None,
                    "content_hash": "h",
                    "created_at": "t",
                }
            )
        payload = {
            "uid": "u-1",
            "model": MODEL,
            "custom_id": f"judge:{MODEL}:u-1:1",
            "revision_id": None,
            "verdict": "defect",
            "reason": "unnatural_korean",
            "evidence": "<b>네</b>",
            "response_model": MODEL,
            "usage": None,
            "turns": [{"turn": 1, "verdict": "defect", "reason": "unnatural_korean", "evidence": "<b>네</b>"}],
        }
        with write_transaction(db):
            judge.store_verdicts(db, [(None, payload)])
        (f,) = quality.findings_for(db, "u-1")
        assert f["source"] == f"judge:{MODEL}" and f["title"] == f"{quality.JUDGE_TITLE} {MODEL}" and f["turn"] == 1
        assert f["message"] == f'판정 모델 {MODEL}: 결함 · 부자연스러운 한국어 (unnatural_korean) · 근거: "<b>네</b>"'
        (v,) = judge.verdicts_for(db, "u-1")
        assert judge.verdict_summary(v) == f"판정 모델 {MODEL}: 결함 · 부자연스러운 한국어 · 턴 #1"
        two = {**v, "turns": [*v["turns"], {"turn": 3, "verdict": "defect", "reason": "wrong_tool", "evidence": "x"}]}
        assert judge.verdict_summary(two) == f"판정 모델 {MODEL}: 결함 · 부자연스러운 한국어 · 턴 #1 부자연스러운 한국어, #3 잘못된 도구"
        whole = {**v, "turns": [], "reason": "incomplete"}
        assert judge.verdict_summary(whole) == f"판정 모델 {MODEL}: 결함 · 미완성 대화 · 대화 전체"


# ----------------------------------------------------------------------------- agreement


def _store_case(db, cases):
    """cases: [(uid, category, human decision, human reasons, judge verdict, judge reasons)]."""
    with db.conn:
        for uid, category, *_ in cases:
            d = Dialogue(
                uid=uid,
                category=category,
                turns=[
                    Turn(role="user", content=f"{uid} 안녕"),
                    Turn(role="assistant", content="네"),
                    Turn(role="user", content="고마워"),
                    Turn(role="assistant", content="네"),
                ],
            )
            db["samples"].insert(
                {
                    "uid": uid,
                    "custom_id": None,
                    "kind": "train",
                    "category": category,
                    "source": "t",
                    "model": None,
                    "dialogue": d.model_dump_json(),
                    "usage": None,
                    "content_hash": uid,
                    "created_at": "t",
                }
            )
    for uid, category, decision, reasons, verdict, jreasons in cases:
        if decision:
            review.record_decision(db, uid, annotator="민지", decision=decision, reasons=reasons)
        if verdict:
            turns = [{"turn": 1 + 2 * i, "verdict": "defect", "reason": r, "evidence": "네"} for i, r in enumerate(jreasons)]
            with write_transaction(db):
                judge.store_verdicts(
                    db,
                    [
                        (
                            None,
                            {
                                "uid": uid,
                                "model": MODEL,
                                "custom_id": f"judge:{MODEL}:{uid}:1",
                                "revision_id": None,
                                "verdict": verdict,
                                "reason": jreasons[0] if jreasons else None,
                                "evidence": "네" if jreasons else None,
                                "turns": turns,
                                "response_model": MODEL,
                                "usage": None,
                            },
                        )
                    ],
                )


CASE = st.tuples(
    st.sampled_from(["search", "cart"]),
    st.sampled_from(["accept", "reject", "skip", None]),
    st.lists(st.sampled_from(["wrong_tool", "bad_arguments", "unnatural_korean", "duplicate"]), min_size=1, max_size=2, unique=True),
    st.sampled_from(["ok", "defect", None]),
    st.lists(st.sampled_from(["wrong_tool", "bad_arguments", "unnatural_korean"]), min_size=1, max_size=2, unique=True),
)


@given(rows=st.lists(CASE, min_size=1, max_size=10))
@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_agreement_counts_what_the_constructed_decisions_say(isolated_env, rows):
    from datagen.store import connect

    db = connect(isolated_env / "output" / f"agree_{os.urandom(4).hex()}.db")
    cases = [
        (f"u{i}", c, dec, reasons if dec == "reject" else [], verdict, jr if verdict == "defect" else [])
        for i, (c, dec, reasons, verdict, jr) in enumerate(rows)
    ]
    _store_case(db, cases)
    got = judge.agreement(db)
    counted = [c for c in cases if c[2] in ("accept", "reject") and c[4]]
    if not counted:
        assert got == {"overall": [], "by_category": [], "by_reason": []}
        return

    def cells(cs):
        return Counter("tp" if v == "defect" and d == "reject" else "fp" if v == "defect" else "fn" if d == "reject" else "tn" for _, _, d, _, v, _ in cs)

    (overall,) = got["overall"]
    want = cells(counted)
    assert {k: overall[k] for k in ("tp", "fp", "fn", "tn")} == {k: want[k] for k in ("tp", "fp", "fn", "tn")}
    assert overall["n"] == len(counted)
    assert overall["precision"] == (round(want["tp"] / (want["tp"] + want["fp"]), 4) if want["tp"] + want["fp"] else None)
    assert overall["recall"] == (round(want["tp"] / (want["tp"] + want["fn"]), 4) if want["tp"] + want["fn"] else None)
    for row in got["by_category"]:
        w = cells([c for c in counted if c[1] == row["category"]])
        assert (row["tp"], row["fp"], row["fn"], row["tn"]) == (w["tp"], w["fp"], w["fn"], w["tn"])
    for row in got["by_reason"]:
        r = row["reason"]
        flagged = [c for c in counted if r in c[5]]
        with_reason = [c for c in counted if c[2] == "reject" and r in c[3]]
        assert row["flagged"] == len(flagged) and row["flagged_rejected"] == sum(c[2] == "reject" for c in flagged)
        assert row["rejected_with_reason"] == len(with_reason) and row["caught"] == sum(r in c[5] for c in with_reason)


def test_agreement_on_a_small_known_table(db):
    cases = [
        ("a", "search", "reject", ["wrong_tool"], "defect", ["wrong_tool"]),  # caught, right reason
        ("b", "search", "reject", ["unnatural_korean"], "defect", ["wrong_tool"]),  # caught, other reason
        ("c", "search", "reject", ["bad_arguments"], "ok", []),  # missed
        ("d", "search", "accept", [], "defect", ["unnatural_korean"]),  # false alarm
        ("e", "cart", "accept", [], "ok", []),  # right: clean
        ("f", "cart", "reject", ["duplicate"], "ok", []),  # a reason no judge can see: missed
        ("g", "cart", None, [], "defect", ["wrong_tool"]),  # undecided: not counted
        ("h", "cart", "accept", [], None, []),  # not judged: not counted
    ]
    _store_case(db, cases)
    got = judge.agreement(db, MODEL)
    (o,) = got["overall"]
    assert (o["n"], o["tp"], o["fp"], o["fn"], o["tn"]) == (6, 2, 1, 2, 1)
    assert o["precision"] == round(2 / 3, 4) and o["recall"] == 0.5
    cat = {r["category"]: r for r in got["by_category"]}
    assert (cat["search"]["tp"], cat["search"]["fp"], cat["search"]["fn"]) == (2, 1, 1) and cat["cart"]["fn"] == 1 and cat["cart"]["tn"] == 1
    reason = {r["reason"]: r for r in got["by_reason"]}
    assert (reason["wrong_tool"]["flagged"], reason["wrong_tool"]["flagged_rejected"], reason["wrong_tool"]["precision"]) == (2, 2, 1.0)
    assert (reason["wrong_tool"]["rejected_with_reason"], reason["wrong_tool"]["caught"], reason["wrong_tool"]["recall"]) == (1, 1, 1.0)
    assert (reason["unnatural_korean"]["flagged"], reason["unnatural_korean"]["precision"], reason["unnatural_korean"]["recall"]) == (1, 0.0, 0.0)
    assert reason["bad_arguments"]["flagged"] == 0 and reason["bad_arguments"]["precision"] is None and reason["bad_arguments"]["recall"] == 0.0
    assert "duplicate" not in reason
    assert judge.agreement(db, "another-model") == {"overall": [], "by_category": [], "by_reason": []}


# ----------------------------------------------------------------------------- CLI


def test_cli_plan_submit_status_retrieve_agreement(db, capsys, no_faults, monkeypatch):
    job_id = _generate(db, {"search": 4, "cart": 4})
    n = db["samples"].count
    assert judge.main(["plan", "--job-id", job_id, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"시험 실행: 요청 {n}건, 아무것도 쓰지 않았습니다" in out and "합계" in out and db["jobs"].count == 1
    assert judge.main(["plan", "--job-id", job_id]) == 0
    out = capsys.readouterr().out
    judge_job = db.execute("SELECT id FROM jobs WHERE kind = 'judge'").fetchone()[0]
    assert f"판정 작업 {judge_job}: 요청 {n}건" in out
    assert judge.main(["submit", "--wait", "--poll-interval", "0.01"]) == 0
    out = capsys.readouterr().out
    assert f"판정 {n}건 저장, 실패 0건" in out
    assert judge.main(["status"]) == 0
    assert f"판정 {n}건" in capsys.readouterr().out
    assert judge.main(["agreement"]) == 0
    assert "함께 가진 샘플이 아직 없습니다" in capsys.readouterr().out
    for uid in list(judge.judged_uids(db))[:3]:
        review.record_decision(db, uid, annotator="민지", decision="accept")
    assert judge.main(["agreement", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["overall"][0]["n"] == 3 and data["overall"][0]["model"] == judge.DEFAULT_MODEL
    assert judge.main(["plan", "--job-id", job_id]) == 0
    assert f"이미 판정한 샘플 {n}건" in capsys.readouterr().out
    from datagen.cli import run

    assert run(judge.main, ["plan", "--job-id", judge_job]) == 1  # a judge job is not what a judge judges
    assert "판정 작업입니다" in capsys.readouterr().err


def test_python_m_datagen_judge_runs(isolated_env):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "datagen.judge", "plan", "--dry-run"], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "[offline]" in done.stderr and "판정할 샘플이 없습니다" in done.stdout
