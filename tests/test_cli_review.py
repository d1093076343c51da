"""``python -m datagen.review``: a CLI-only run can decide and publish (issue 15 item 14)."""

import os
import subprocess
import sys
from pathlib import Path

from datagen import auth, generate_batch, preprocess, publish, retrieve_batch, review, review_cli, submit_batch
from datagen.cli import run
from datagen.store import get_db

ROOT = Path(__file__).resolve().parents[1]


def _generated(monkeypatch, count=16) -> str:
    monkeypatch.setenv("DATAGEN_OFFLINE_ERROR_RATE", "0")
    monkeypatch.setenv("DATAGEN_OFFLINE_TRUNCATION_RATE", "0")
    monkeypatch.setenv("DATAGEN_OFFLINE_DEFECT_RATE", "0.4")
    assert generate_batch.main(["--count", str(count), "--seed", "11"]) == 0
    assert submit_batch.main(["--wait", "--poll-interval", "0"]) == 0
    assert retrieve_batch.main([]) == 0
    assert preprocess.main([]) == 0
    return get_db().execute("SELECT id FROM jobs").fetchone()[0]


def test_accept_clean_accepts_exactly_the_unflagged_samples_per_sample_with_the_operator(isolated_env, monkeypatch, capsys):
    job = _generated(monkeypatch)
    db = get_db()
    flagged = {r[0] for r in db.execute("SELECT DISTINCT uid FROM findings")}
    everything = {r[0] for r in db.execute("SELECT uid FROM samples")}
    assert flagged and everything - flagged  # the offline defects give both kinds
    assert run(review_cli.main, ["accept-clean", "--job-id", job, "--operator", "민지", "--dry-run"]) == 0
    assert db["reviews"].count == 0  # a dry run records nothing
    capsys.readouterr()
    assert run(review_cli.main, ["accept-clean", "--job-id", job, "--operator", "민지"]) == 0
    out = capsys.readouterr()
    rows = list(db.query("SELECT uid, annotator, decision, note FROM reviews ORDER BY id"))
    assert {r["uid"] for r in rows} == everything - flagged
    assert all(r["annotator"] == "민지" and r["decision"] == "accept" and r["note"].startswith("CLI") for r in rows)
    assert f"검사 결과 없는 샘플 {len(rows)}건을" in out.out and f"사람이 볼 샘플 {len(flagged)}건 남음" in out.out
    assert "[offline]" in out.err
    # a second run finds nothing left in 민지's queue: nothing twice
    assert run(review_cli.main, ["accept-clean", "--job-id", job, "--operator", "민지"]) == 0
    assert db["reviews"].count == len(rows)
    shipping = publish.shipping_status(db)
    assert {u for u, s in shipping.items() if s == publish.SHIPS} == everything - flagged
    # the app's history shows each decision with its operator
    some = rows[0]["uid"]
    assert [(e["who"], e["what"]) for e in review.history(db, some)] == [("민지", "accept")]


def test_accept_and_reject_by_uid_or_custom_id_and_findings_are_not_waved_through(isolated_env, monkeypatch, capsys):
    _generated(monkeypatch)
    db = get_db()
    flagged = db.execute("SELECT f.uid FROM findings f WHERE f.severity = 'error' LIMIT 1").fetchone()[0]
    clean_uid, clean_cid = db.execute("SELECT uid, custom_id FROM samples WHERE uid NOT IN (SELECT uid FROM findings) ORDER BY rowid LIMIT 1").fetchone()
    other = db.execute("SELECT uid FROM samples WHERE uid NOT IN (?, ?) ORDER BY rowid LIMIT 1", [flagged, clean_uid]).fetchone()[0]
    assert run(review_cli.main, ["accept", clean_cid, flagged, "--operator", "준호"]) == 0
    out = capsys.readouterr().out
    assert "게시 보류" in out
    assert run(review_cli.main, ["reject", other, "--reason", "wrong_tool", "--reason", "other", "--note", "검색어 틀림", "--operator", "준호"]) == 0
    status = publish.shipping_status(db)
    assert status[clean_uid] == publish.SHIPS and status[flagged] == "unreviewed_error" and status[other] == "rejected"
    rej = review.latest_decision(db, other)
    assert rej["reasons"] == ["wrong_tool", "other"] and rej["note"] == "CLI: 검색어 틀림" and rej["annotator"] == "준호"
    assert run(review_cli.main, ["accept", flagged, "--override-findings", "--operator", "준호"]) == 0
    assert publish.shipping_status(db)[flagged] == publish.SHIPS


def test_unknown_sample_or_missing_role_records_nothing(isolated_env, monkeypatch, capsys):
    _generated(monkeypatch, count=4)
    db = get_db()
    uid = db.execute("SELECT uid FROM samples LIMIT 1").fetchone()[0]
    assert run(review_cli.main, ["accept", uid, "no-such-sample", "--operator", "민지"]) == 1
    assert "no-such-sample" in capsys.readouterr().err and db["reviews"].count == 0  # checked before anything is recorded
    monkeypatch.delenv("DATAGEN_OPERATOR", raising=False)
    assert run(review_cli.main, ["accept", uid]) == 1
    assert "--operator" in capsys.readouterr().err
    auth.grant(db, "lead", "admin", by="lead")
    assert run(review_cli.main, ["accept", uid, "--operator", "outsider"]) == 1
    assert db["reviews"].count == 0
    auth.grant(db, "민지", "annotator", by="lead")
    monkeypatch.setenv("DATAGEN_OPERATOR", "민지")
    assert run(review_cli.main, ["accept", uid]) == 0
    assert [r[0] for r in db.execute("SELECT annotator FROM reviews")] == ["민지"]


def test_python_m_datagen_review_runs_as_a_module(isolated_env, monkeypatch):
    _generated(monkeypatch, count=3)
    uid = get_db().execute("SELECT uid FROM samples LIMIT 1").fetchone()[0]
    env = dict(os.environ)
    proc = subprocess.run(
        [sys.executable, "-m", "datagen.review", "reject", uid, "--reason", "other", "--operator", "민지"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"reject {uid}" in proc.stdout and "[offline]" in proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "datagen.review", "accept", "nope", "--operator", "민지"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 1 and proc.stderr.strip().splitlines()[-1].startswith("오류: nope")
    assert review.latest_decision(get_db(), uid)["decision"] == "reject"
