"""import_file on datasets as other people publish them: repeated seed uids, JSON documents,
bare messages arrays, function-calling benchmark layouts (issue 13, "import as they are")."""

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datagen.dialogue import to_seed_record
from datagen.ingest import import_file
from datagen.review import get_dialogue

FIX = Path(__file__).parent / "fixtures"


def _seed_lines():
    return [json.loads(line) for line in (FIX / "seed001_dataset.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]


def _samples(db):
    return {
        r["line_no"]: get_dialogue(db, r["sample_uid"])
        for r in db.query("SELECT line_no, sample_uid FROM raw_results WHERE status = 'parsed' ORDER BY line_no")
    }


def test_seed_records_sharing_a_uid_are_different_dialogues(db, tmp_path):
    """The pipeline's own dataset.jsonl draws uid from a pool of customer ids: 53 dialogues, 10 uids."""
    recs = _seed_lines()
    same = "a1661d37-87bb-44e9-b2b3-ad951c237ba5"
    lines = []
    for k in range(6):
        rec = dict(recs[k % len(recs)], uid=same)
        rec["messages"] = [dict(rec["messages"][0], content=rec["messages"][0]["content"] + f" ({k})"), *rec["messages"][1:]]
        lines.append(json.dumps(rec, ensure_ascii=False))
    path = tmp_path / "dataset.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    s = import_file(db, path)
    assert (s["read"], s["imported"], s["failed"]) == (6, 6, 0)
    got = _samples(db)
    assert {d.user_id for d in got.values()} == {same}
    assert len({d.uid for d in got.values()}) == 6
    assert import_file(db, path)["imported"] == 0 and db["samples"].count == 6  # the line is the identity


def test_this_products_own_export_keeps_its_sample_uids(db, tmp_path):
    s = import_file(db, FIX / "seed001_dataset.jsonl")
    assert s["imported"] == 3
    exported = [to_seed_record(d) for d in _samples(db).values()]
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in exported) + "\n", encoding="utf-8")
    again = import_file(db, path)  # the same samples: refused as already stored, nothing doubled
    assert (again["imported"], again["failed"]) == (0, 3)
    assert all("이미 데이터베이스에 있습니다" in e["reason"] for e in again["errors"])
    assert db["samples"].count == 3


def test_pretty_printed_json_array_each_element_a_record_numbered_by_its_first_line(db, tmp_path):
    recs = _seed_lines()
    path = tmp_path / "dialogues.json"
    text = json.dumps(recs, ensure_ascii=False, indent=2)
    path.write_text(text, encoding="utf-8")
    s = import_file(db, path)
    assert (s["read"], s["imported"], s["failed"]) == (3, 3, 0)
    assert sorted(_samples(db)) == [1, 2, 3]  # raw line key: the element's number
    assert [d.user_id for _, d in sorted(_samples(db).items())] == [r["uid"] for r in recs]


def test_json_document_with_one_dialogue_and_a_bom(db, tmp_path):
    path = tmp_path / "one.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(_seed_lines()[0], ensure_ascii=False, indent=4).encode())
    s = import_file(db, path)
    assert (s["read"], s["imported"], s["failed"]) == (1, 1, 0)


def test_pretty_printed_file_named_jsonl_is_read_as_a_document(db, tmp_path):
    path = tmp_path / "pretty.jsonl"
    path.write_text(json.dumps(_seed_lines()[:2], ensure_ascii=False, indent=1), encoding="utf-8")
    assert import_file(db, path)["imported"] == 2


def test_broken_json_array_keeps_the_good_elements_and_fails_the_rest_at_its_line(db, tmp_path):
    recs = _seed_lines()
    good = json.dumps(recs[:2], ensure_ascii=False, indent=2)
    text = good[: good.rindex("]")].rstrip() + ',\n  {"messages": [,]}\n]'
    path = tmp_path / "broken.json"
    path.write_text(text, encoding="utf-8")
    s = import_file(db, path)
    assert (s["read"], s["imported"], s["failed"]) == (3, 2, 1)
    (err,) = s["errors"]
    assert err["element"] == 3 and err["line"] == len(text.splitlines()) - 1  # the file line it starts on
    assert err["reason"].startswith("올바른 JSON이 아닙니다")
    stored = db.execute("SELECT l.line FROM raw_results r JOIN raw_lines l ON l.id = r.id WHERE r.status = 'failed'").fetchone()[0]
    assert stored.startswith('{"messages": [,]}')  # the broken part is kept raw


def test_json_document_that_is_not_utf8_is_one_clear_error(db, tmp_path):
    text = '[{"messages": "caf\xe9"}]'
    path = tmp_path / "latin.json"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(ValueError) as err:
        import_file(db, path)
    assert "latin.json: UTF-8이 아닙니다" in str(err.value) and f"바이트 위치 {text.index(chr(0xE9))}" in str(err.value)


def test_one_messages_array_per_line(db, tmp_path):
    msgs = json.loads((FIX / "messages_dataset.jsonl").read_text(encoding="utf-8").splitlines()[0])["messages"]
    path = tmp_path / "arrays.jsonl"
    path.write_text(json.dumps(msgs, ensure_ascii=False) + "\n[1, 2]\n", encoding="utf-8")
    s = import_file(db, path)
    assert (s["read"], s["imported"], s["failed"]) == (2, 1, 1)
    assert "messages 배열" in s["errors"][0]["reason"]
    d = next(iter(_samples(db).values()))
    assert [t.role for t in d.turns][:2] == ["user", "assistant"] and d.turns[1].tool_calls[0].name == "get_cart"


def test_functionchat_bench_layouts(db):
    """Real lines of kakao/FunctionChat-Bench (Apache-2.0; tests/fixtures/README.md)."""
    src = [json.loads(line) for line in (FIX / "functionchat_bench_sample.jsonl").read_text(encoding="utf-8").splitlines()]
    s = import_file(db, FIX / "functionchat_bench_sample.jsonl")
    assert (s["read"], s["imported"], s["failed"]) == (4, 3, 1)
    assert s["errors"][0]["line"] == 4 and "query 변형 4개" in s["errors"][0]["reason"]  # Singlecall: 4 single-turn items
    got = _samples(db)
    dialog = got[1]
    last = src[0]["turns"][-1]
    assert len(dialog.turns) == len(last["query"]) + 1  # the whole conversation: last query + its ground truth
    assert dialog.turns[-1].role == "assistant" and dialog.turns[-1].content == (last["ground_truth"]["content"] or "")
    assert {t["function"]["name"] for t in dialog.tools} == {t["function"]["name"] for t in src[0]["tools"]}
    calls = [c for _, c in dialog.tool_calls()]
    assert calls and all(isinstance(c.arguments, dict) for c in calls)
    bill = got[2]
    tool_turns = [t for t in bill.turns if t.role == "tool"]
    assert tool_turns and tool_turns[0].name == "calculate_bill_split"
    decision = got[3]
    assert decision.system_prompt.startswith("AI assistant로서")
    assert decision.turns[-1].tool_calls[0].arguments == {"stock_name": "마이크로소프트"}
    assert len(decision.tools) == len(src[2]["input_tools"])


_record = st.fixed_dictionaries(
    {
        "uid": st.sampled_from(["u1", "u2"]),
        "messages": st.lists(st.fixed_dictionaries({"role": st.just("user"), "content": st.text(min_size=1, max_size=30)}), min_size=1, max_size=3),
    }
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(_record, min_size=1, max_size=8), indent=st.sampled_from([None, 0, 1, 2, 4, "\t"]))
def test_any_json_array_imports_every_element_at_its_starting_line(tmp_path_factory, records, indent):
    from datagen.store import connect

    folder = tmp_path_factory.mktemp("doc")
    db = connect(folder / "t.db")
    text = json.dumps(records, ensure_ascii=False, indent=indent)
    path = folder / "d.json"
    path.write_text(text, encoding="utf-8")
    s = import_file(db, path)
    distinct = len({json.dumps(r) for r in records})  # an element written the same way again is the same content: it fails as such
    assert (s["read"], s["imported"], s["failed"]) == (len(records), distinct, len(records) - distinct)
    assert all("같은 내용입니다" in e["reason"] for e in s["errors"])
    rows = list(db.query("SELECT r.line_no, l.line FROM raw_results r JOIN raw_lines l ON l.id = r.id ORDER BY r.id"))
    assert [r["line_no"] for r in rows] == list(range(1, len(records) + 1))
    for row, rec in zip(rows, records):
        assert json.loads(row["line"]) == rec  # the element's own text, stored raw
    got = _samples(db)
    assert len(got) == distinct and {d.user_id for d in got.values()} == {r["uid"] for r in records}


@pytest.mark.parametrize("data", [b"[\n", b"[\n\x80\n", b'{\n"messages": \n'])
def test_a_truncated_or_broken_pretty_printed_file_keeps_every_line(db, tmp_path, data):
    """Falsifying examples of the import fuzz test: a file that starts like a JSON document but is
    not one is read line by line, so each non-blank line is stored raw and fails with its reason."""
    path = tmp_path / "broken.jsonl"
    path.write_bytes(data)
    s = import_file(db, path)
    lines = [no for no, raw in enumerate(data.split(b"\n"), 1) if raw.strip()]
    assert s["read"] == s["failed"] == len(lines) and s["imported"] == 0
    assert sorted(r[0] for r in db.execute("SELECT line_no FROM raw_results")) == lines


def test_a_json_file_holding_only_an_opening_bracket_keeps_it(db, tmp_path):
    path = tmp_path / "cut.json"
    path.write_text("[\n", encoding="utf-8")
    s = import_file(db, path)
    assert (s["read"], s["failed"]) == (1, 1) and s["errors"][0]["reason"].startswith("올바른 JSON이 아닙니다")
