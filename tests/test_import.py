"""import_file: batch output from elsewhere, seed 001 records, messages records, broken lines."""

import json
import subprocess
import sys
from pathlib import Path

from seed_fixture import seed_uid

from datagen.ingest import import_file
from datagen.review import get_dialogue

FIX = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[1]


def _cli(path, env_tmp):
    import os

    env = {**os.environ}
    return subprocess.run([sys.executable, "-m", "datagen.import_file", str(path)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_public_openai_batch_output_plain_answers_are_failures_with_reasons(db):
    s = import_file(db, FIX / "openai_batch_output_docs.jsonl")
    assert (s["read"], s["imported"], s["failed"]) == (4, 0, 4)
    reasons = [e["reason"] for e in s["errors"]]
    assert reasons[0].startswith("대화가 아닌 일반 채팅 응답입니다: 'Hello.'")
    assert "object='list'" in reasons[3]
    assert db["raw_results"].count == 4  # raw lines kept


def test_seed001_records_import_with_calls_and_results(db):
    s = import_file(db, FIX / "seed001_dataset.jsonl")
    assert (s["read"], s["imported"], s["failed"]) == (3, 3, 0)
    d = get_dialogue(db, seed_uid(db, 2))
    assert d.user_id == "5b0e2a4c-1111-4c1e-9d3a-2f1b7a9c0001"  # the seed uid is the customer's id
    assert d.uid != d.user_id
    assert [t.role for t in d.turns] == ["user", "assistant", "tool", "assistant", "tool", "tool", "assistant"]
    assert [c.arguments["restaurant_id"] for c in d.turns[3].tool_calls] == ["R1001", "R1002"]
    assert {t["function"]["name"] for t in d.tools} == {"search_restaurants", "get_restaurant_detail"}  # flat shape accepted
    assert get_dialogue(db, seed_uid(db, 3)).turns[1].tool_calls[0].arguments == {"order_id": "ORD-12345"}
    again = import_file(db, FIX / "seed001_dataset.jsonl")
    assert again["imported"] == 0 and db["samples"].count == 3  # importing twice adds nothing


def test_messages_records_import(db):
    s = import_file(db, FIX / "messages_dataset.jsonl")
    assert (s["imported"], s["failed"]) == (2, 0)


def test_broken_lines_each_fail_with_a_reason_and_nothing_crashes(db):
    s = import_file(db, FIX / "broken_lines.jsonl")
    assert s["read"] == 10 and s["imported"] == 0 and s["failed"] == 10
    by_line = {e["line"]: e["reason"] for e in s["errors"]}
    assert by_line[1].startswith("올바른 JSON이 아닙니다")
    assert by_line[2].startswith("HTTP 500 오류: The server had an error")
    assert by_line[3].startswith("배치 오류 batch_expired")
    assert "/v1/responses" in by_line[4]
    assert "배치 요청 줄(입력)" in by_line[5]
    assert "finish_reason=length" in by_line[6]
    assert by_line[7].startswith("알 수 없는 레코드 모양 (키: conversations)")
    assert "JSON 목록" in by_line[8]
    assert "<tool_call>이 올바른 JSON이 아닙니다" in by_line[9]
    assert by_line[10].startswith("모델이 거부했습니다")


def test_cli_last_line_is_the_json_summary(isolated_env):
    proc = _cli(FIX / "broken_lines.jsonl", isolated_env)
    assert proc.returncode == 0
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(summary) == {"read", "imported", "failed", "errors"} and summary["failed"] == 10
    assert "broken_lines.jsonl:1: 올바른 JSON이 아닙니다" in proc.stderr


def test_cli_unreadable_file_exits_nonzero_with_one_line(isolated_env):
    proc = _cli(isolated_env / "missing.jsonl", isolated_env)
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and "missing.jsonl" in proc.stderr


def test_vllm_run_batch_output_goes_through_the_same_path(db):
    """vLLM's run_batch writes OpenAI-shaped lines (ids vllm-…, tool_calls: [], stop_reason)."""
    s = import_file(db, FIX / "vllm_run_batch_output.jsonl")
    assert (s["imported"], s["failed"]) == (1, 0)
    (row,) = list(db.query("SELECT kind, category, model, usage FROM samples"))
    assert (row["kind"], row["category"], row["model"]) == ("train", "search", "Qwen/Qwen2.5-72B-Instruct")
    assert '"completion_tokens": 1181' in row["usage"]
