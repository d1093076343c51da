"""The quality gate in the database (datagen.quality): findings stored when results arrive and on
demand, the corpus-level closing-line check, duplicates, decontamination, and the validate CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from seed_fixture import seed_uid

from datagen import config, quality
from datagen.dialogue import Dialogue, to_seed_record
from datagen.ingest import import_file
from datagen.quality.decontam import _GoldIndex

FIX = Path(__file__).parent / "fixtures"
SEED = FIX / "seed001_dataset.jsonl"


def dialogue(uid, user_turns, answer="네, 알겠습니다. 더 필요한 게 있으면 말씀해 주세요!", kind="train", category="edge_case"):
    turns = []
    for u in user_turns:
        turns += [{"role": "user", "content": u}, {"role": "assistant", "content": "잠시만요, 확인해 볼게요."}]
    turns[-1] = {"role": "assistant", "content": answer}
    return Dialogue(uid=uid, kind=kind, category=category, turns=turns, tools=config.TOOLS)


def write(tmp_path, name, dialogues) -> Path:
    path = tmp_path / name
    path.write_text("".join(json.dumps(to_seed_record(d), ensure_ascii=False) + "\n" for d in dialogues), encoding="utf-8")
    return path


def checks_of(db, uid):
    return {f["check_id"] for f in quality.findings_for(db, uid)}


# ----------------------------------------------------------------------------- wiring and findings


def test_importing_a_seed001_dataset_stores_its_findings_as_results_arrive(db):
    summary = import_file(db, SEED)
    assert summary["imported"] == 3
    assert db.execute("SELECT COUNT(*) FROM sample_state WHERE checked_at IS NOT NULL").fetchone()[0] == 3
    found = quality.findings_for(db, seed_uid(db, 3))
    assert [f["check_id"] for f in found] == ["ungrounded_id", "handoff_promise"]  # ordered by turn
    assert found[0]["turn"] == 1 and found[0]["severity"] == "error" and "ORD-12345" in found[0]["message"]
    assert found[0]["title"] == "근거 없는 ID" and found[1]["reason"] == "unsupported_handling"
    assert quality.findings_for(db, seed_uid(db, 2)) == []  # only_open was asked for ("지금 영업하는")
    assert quality.uids_with_errors(db) == {seed_uid(db, 3)}
    assert quality.finding_counts(db) == {"ungrounded_id": 1, "handoff_promise": 1}
    assert quality.uids_with_findings(db, ["handoff_promise"]) == {seed_uid(db, 3)}
    assert quality.uids_with_findings(db, severity="warning") == {seed_uid(db, 3)}
    assert set(quality.latest_error_at(db)) == {seed_uid(db, 3)}


def test_rechecking_replaces_findings_but_keeps_when_an_unchanged_one_was_first_seen(db):
    import_file(db, SEED)
    first = {(f["check_id"], f["turn"]): f["created_at"] for f in quality.findings_for(db, seed_uid(db, 3))}
    stats = quality.check_samples(db)
    assert stats["checked"] == 3 and stats["with_errors"] == 1 and stats["by_check"] == {"ungrounded_id": 1, "handoff_promise": 1}
    again = {(f["check_id"], f["turn"]): f["created_at"] for f in quality.findings_for(db, seed_uid(db, 3))}
    assert again == first
    assert db["findings"].count == 2
    # the sample changes: the stale finding goes, only this sample is re-checked
    text = db.execute("SELECT dialogue FROM samples WHERE uid = ?", [seed_uid(db, 3)]).fetchone()[0]
    fixed = text.replace("ORD-12345", "O26030501").replace("제 주문 어디쯤", "주문 O26030501 어디쯤")
    db.execute("UPDATE samples SET dialogue = ? WHERE uid = ?", [fixed, seed_uid(db, 3)])
    db.conn.commit()
    stats = quality.check_samples(db, uids=[seed_uid(db, 3), "no-such-uid"])
    assert stats["checked"] == 1
    assert checks_of(db, seed_uid(db, 3)) == {"handoff_promise"}
    assert quality.uids_with_errors(db) == set()


def test_the_latest_edit_is_what_gets_checked(db):
    if "revisions" not in db.table_names():
        pytest.skip("no revisions table")
    import_file(db, SEED)
    text = db.execute("SELECT dialogue FROM samples WHERE uid = ?", [seed_uid(db, 3)]).fetchone()[0]
    edited = text.replace("궁금한 점이 있으면 상담원에게 연결해 드릴게요.", "")
    db["revisions"].insert(
        {"uid": seed_uid(db, 3), "annotator": "민지", "dialogue": edited, "note": "", "seconds": 1.0, "created_at": "2026-11-21T00:00:00+00:00"}
    )
    db.conn.commit()
    quality.check_samples(db, uids=[seed_uid(db, 3)])
    assert checks_of(db, seed_uid(db, 3)) == {"ungrounded_id"}


def test_workers_give_the_same_findings(db, tmp_path):
    dialogues = [
        dialogue(f"w{i}", ["주문번호 O26112101 어디쯤이에요?"], "라이더가 배달 중이에요. 상담원에게 연결해 드릴게요." if i % 2 else "네!") for i in range(40)
    ]
    import_file(db, write(tmp_path, "w.jsonl", dialogues))
    one = sorted(db.execute("SELECT uid, check_id, turn, message FROM findings").fetchall())
    stats = quality.check_samples(db, workers=2)
    assert stats["checked"] == 40
    assert sorted(db.execute("SELECT uid, check_id, turn, message FROM findings").fetchall()) == one


def test_one_closing_line_repeated_across_many_samples_is_flagged(db, tmp_path):
    canned = "더 궁금한 점은 고객센터 앱 메뉴에서 문의해 주시면 빠르게 답변드리겠습니다."
    varied = ["맛있게 드세요!", "즐거운 식사 되세요.", "오늘도 좋은 하루 보내세요.", "필요하시면 또 불러 주세요.", "감사합니다!"]
    dialogues = [dialogue(f"c{i}", [f"{i}번 질문이에요"], f"답변 {i}입니다. {canned}") for i in range(8)]
    dialogues += [dialogue(f"v{i}", [f"{i}번째 다른 질문"], f"다른 답변이에요. {v}") for i, v in enumerate(varied)]
    import_file(db, write(tmp_path, "closing.jsonl", dialogues))
    flagged = quality.uids_with_findings(db, ["repeated_closing"])
    assert flagged == {f"c{i}" for i in range(8)}
    f = next(x for x in quality.findings_for(db, "c0") if x["check_id"] == "repeated_closing")
    assert f["turn"] == 1 and canned[:10] in f["message"] and "20%" in f["message"] and f["severity"] == "warning"
    # re-checking one sample keeps the corpus-level findings of the others (counted over the database)
    created = {r["uid"]: r["created_at"] for r in db.query("SELECT uid, created_at FROM findings WHERE check_id = 'repeated_closing'")}
    quality.check_samples(db, uids=["c3"])
    assert quality.uids_with_findings(db, ["repeated_closing"]) == flagged
    assert {r["uid"]: r["created_at"] for r in db.query("SELECT uid, created_at FROM findings WHERE check_id = 'repeated_closing'")} == created
    # more varied samples arrive: the line falls below 20% and the findings go; a full re-check agrees
    more = [dialogue(f"m{i}", [f"추가 질문 {i}"], f"추가 답변이에요. 다른 마무리 {i}번입니다.") for i in range(40)]
    import_file(db, write(tmp_path, "more.jsonl", more))
    assert quality.uids_with_findings(db, ["repeated_closing"]) == set()
    assert quality.check_samples(db)["repeated_closing"] == 0


# ----------------------------------------------------------------------------- duplicates


def test_exact_and_near_duplicates_form_clusters_named_in_the_findings(db, tmp_path):
    a = [
        "안녕하세요, 오늘 저녁에 먹을 양념치킨 한 마리 주문하고 싶어요. 근처에 맛있는 치킨집 있을까요?",
        "그럼 첫 번째 가게 메뉴 좀 보여주세요. 순살로 바꿀 수 있는지도 궁금해요.",
    ]
    near = [a[0], a[1].replace("궁금해요", "알고 싶어요")]
    dialogues = [
        dialogue("a1", a),
        dialogue("a2", [s.replace(",", "").replace(" 오늘", "  오늘") for s in a]),  # same after normalising
        dialogue("a3", near),
        dialogue("b1", ["비 오는 날 먹기 좋은 짬뽕 잘하는 중국집 찾아 주세요", "배달비 무료인 곳이면 더 좋아요"]),
        dialogue("g1", a, kind="gold"),  # gold samples are not deduplicated against training ones
    ]
    import_file(db, write(tmp_path, "dups.jsonl", dialogues))
    stats = quality.find_duplicates(db)
    assert stats["samples"] == 4 and stats["clusters"] == 1
    rows = {r["uid"]: r for r in db.query("SELECT * FROM duplicates")}
    assert set(rows) == {"a1", "a2", "a3"} and {r["cluster"] for r in rows.values()} == {"a1"}
    assert rows["a2"]["kind"] == "exact" and rows["a2"]["similarity"] == 1.0
    assert rows["a3"]["kind"] == "near" and 0.8 <= rows["a3"]["similarity"] < 1.0
    assert checks_of(db, "a2") == {"duplicate_exact"} and checks_of(db, "a3") == {"duplicate_near"}
    msg = next(f["message"] for f in quality.findings_for(db, "a3") if f["check_id"] == "duplicate_near")
    assert "a1" in msg and "3개" in msg
    assert [m["uid"] for m in quality.duplicate_cluster(db, "a3")] == ["a1", "a2", "a3"]
    assert quality.duplicate_cluster(db, "b1") == []
    # idempotent, and other findings are untouched
    before = db["findings"].count
    quality.find_duplicates(db)
    assert db["findings"].count == before and db["duplicates"].count == 3


def test_find_duplicates_rejects_bad_parameters(db):
    with pytest.raises(ValueError):
        quality.find_duplicates(db, threshold=0)


# ----------------------------------------------------------------------------- decontamination


GOLD_TURNS = [
    "안녕하세요 오늘 저녁에 친구들이랑 먹을 양념치킨 두 마리를 배달로 시키고 싶은데 근처에 괜찮은 곳 있을까요",
    "첫 번째 가게에서 양념치킨 두 마리 담아 주시고 하나는 순살로 바꿔 주세요",
]


def test_tulu3_rule_and_korean_variant_exclude_and_flag_with_a_report(db, tmp_path):
    dialogues = [
        dialogue("gold-1", GOLD_TURNS, kind="gold"),
        dialogue("copy", GOLD_TURNS),  # the gold item's user turns verbatim
        dialogue("spaced", [t.replace(" ", "") for t in GOLD_TURNS]),  # same text, Korean spacing dropped
        dialogue("partial", [GOLD_TURNS[1], "배달비는 얼마인가요"]),  # a third of the gold item's text
        dialogue("other", ["비 오는 날 먹기 좋은 짬뽕 잘하는 중국집 찾아 주세요", "배달비 무료인 곳이면 더 좋아요"]),
    ]
    import_file(db, write(tmp_path, "gold.jsonl", dialogues))
    stats = quality.decontaminate(db)
    assert stats["train"] == 4 and stats["gold"] == 1
    rows = {(r["uid"], r["method"]): r for r in quality.contamination_report(db)}
    assert rows[("copy", "tulu3_word8")]["overlap"] == 1.0 and rows[("copy", "tulu3_word8")]["band"] == "excluded"
    assert rows[("copy", "char8_ko")]["band"] == "excluded"
    assert ("spaced", "tulu3_word8") not in rows and rows[("spaced", "char8_ko")]["band"] == "excluded"  # only the Korean-aware variant sees it
    assert rows[("partial", "char8_ko")]["band"] == "flagged" and 0.2 < rows[("partial", "char8_ko")]["overlap"] <= 0.5
    assert not any(uid == "other" for uid, _ in rows)
    assert quality.excluded_uids(db) == {"copy", "spaced"}
    assert checks_of(db, "copy") >= {"contamination"} and checks_of(db, "partial") >= {"contamination_suspect"}
    f = next(f for f in quality.findings_for(db, "copy") if f["check_id"] == "contamination")
    assert f["severity"] == "error" and "gold-1" in f["message"] and "100%" in f["message"]
    report = quality.contamination_report(db)
    assert report[0]["overlap"] >= report[-1]["overlap"] and set(report[0]) >= {"uid", "gold_uid", "method", "overlap", "band"}
    assert {r["uid"] for r in quality.contamination_report(db, band="flagged")} == {"partial"}
    assert "copy" in quality.uids_with_errors(db)
    # incremental: one sample re-compared, the others' rows and findings stay
    created = {(r["uid"], r["method"]): r["created_at"] for r in report}
    assert quality.decontaminate(db, uids=["partial", "gold-1"])["train"] == 1
    assert {(r["uid"], r["method"]): r["created_at"] for r in quality.contamination_report(db)} == created


def test_tulu3_overlap_counts_gold_tokens_covered_by_shared_8grams():
    index = _GoldIndex("tulu3_word8", [["a b c d e f g h i j"]])  # 10 tokens
    assert index.overlaps(["a b c d e f g h"]) == {0: 0.8}  # one shared 8-gram covers 8 of 10 tokens
    assert index.overlaps(["a b c d e f g"]) == {}  # seven tokens: no 8-gram
    assert quality.word_tokens("치킨, 두 마리!") == ["치킨", ",", "두", "마리", "!"]


def test_decontaminate_rejects_bad_thresholds(db):
    with pytest.raises(ValueError):
        quality.decontaminate(db, exclude_above=0.2, flag_above=0.5)
    with pytest.raises(ValueError):
        quality.decontaminate(db, methods=["bm25"])


def test_run_gate_runs_checks_duplicates_and_decontamination_in_one_call(db, tmp_path):
    dialogues = [
        dialogue("gold-1", GOLD_TURNS, kind="gold"),
        dialogue("copy", GOLD_TURNS),
        dialogue("copy2", GOLD_TURNS),  # an exact duplicate of "copy" as well
        dialogue("other", ["비 오는 날 먹기 좋은 짬뽕 잘하는 중국집 찾아 주세요", "배달비 무료인 곳이면 더 좋아요"]),
    ]
    import_file(db, write(tmp_path, "gate.jsonl", dialogues))
    db.execute("DELETE FROM findings")  # as if the import had stored none
    summary = quality.run_gate(db)
    assert set(summary) == {"checks", "duplicates", "decontamination", "errors"}
    assert summary["checks"]["checked"] == 4 and summary["duplicates"]["clusters"] == 1
    assert checks_of(db, "copy2") >= {"duplicate_exact", "contamination"}
    assert summary["errors"] == len(quality.uids_with_errors(db)) >= 2
    db.execute("DELETE FROM findings")
    only_checks = quality.run_gate(db, duplicates=False, decontamination=False)
    assert set(only_checks) == {"checks", "errors"}
    assert not checks_of(db, "copy2") & {"duplicate_exact", "contamination"}
    with pytest.raises(ValueError):
        quality.run_gate(db, workers=0)


# ----------------------------------------------------------------------------- the CLI


def test_validate_prints_counts_per_check_and_json_lines(db, capsys):
    from datagen.validate import main

    import_file(db, SEED)
    assert main([]) == 0
    out = capsys.readouterr().out
    line = next(l for l in out.splitlines() if l.startswith("ungrounded_id "))
    assert line.split()[:4] == ["ungrounded_id", "error", "ungrounded_id", "1"]
    assert "샘플 3건을" in out
    assert main(["--json", "--workers", "2"]) == 0
    lines = [json.loads(l) for l in capsys.readouterr().out.splitlines()]
    assert [r["uid"] for r in lines][-1] == seed_uid(db, 3) and len(lines) == 3
    rec = lines[-1]
    assert rec["findings"][0] == {"check": "ungrounded_id", "severity": "error", "turn": 1, "reason": "ungrounded_id", "message": rec["findings"][0]["message"]}
    assert lines[0]["findings"] == []


def test_validate_with_a_bad_option_value_is_a_clean_error(db, capsys):
    from datagen.cli import run
    from datagen.validate import main

    assert run(main, ["--workers", "0"]) == 1
    assert capsys.readouterr().err.startswith("오류: ")


def test_decontamination_names_the_same_gold_item_under_any_hash_seed(tmp_path):
    """Two gold items overlapping a training sample equally: the finding names the lowest gold uid
    whatever the process's hash seed (the overlaps come out of a set; a rerun used to name the other
    one, rewriting the finding and its created_at). Separate processes, two seeds each way."""
    import os
    import subprocess
    import sys

    from datagen.store import connect

    folder = tmp_path / "out"
    db = connect(folder / "datagen.db")
    import_file(
        db,
        write(tmp_path, "tie.jsonl", [dialogue("gold-b", GOLD_TURNS, kind="gold"), dialogue("gold-a", GOLD_TURNS, kind="gold"), dialogue("copy", GOLD_TURNS)]),
    )
    db.close()
    script = (
        "from datagen.store import connect; from datagen import quality; db = connect(); quality.decontaminate(db); "
        "print(sorted(db.execute(\"SELECT gold_uid, method FROM contamination WHERE uid = 'copy'\").fetchall())[0][0], "
        "db.execute(\"SELECT message FROM findings WHERE uid = 'copy' AND check_id LIKE 'contamination%'\").fetchone()[0])"
    )
    outs = set()
    for seed in ("1", "2", "3", "4"):
        env = dict(os.environ, PYTHONHASHSEED=seed, DATAGEN_OUTPUT_DIR=str(folder), DATAGEN_DB=str(folder / "datagen.db"))
        proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        outs.add(proc.stdout.split(" ", 1)[1].strip())
    assert len(outs) == 1 and "gold-a" in outs.pop()
