"""The dataset card, byte for byte: a golden test (issue 16, point 4).

A small database built the same way every run (fixture dialogues with fixed uids, decisions by fixed
annotators, an edit, gold votes with an adjudication, rule and judge findings, contamination and
duplicate rows, a job on the offline backend with an audited lot, a local export and two Hub
versions on a faked Hub) gives two cards: a local ``qwen`` export and the next Hub version in
``openai`` format. Only what is truly not reproducible is normalised: the dates of the recorded
publishes (``publishes.created_at`` is the clock), in the change log. Everything else, hashes included, is compared
as is with ``tests/fixtures/cards/*.md``.

Regenerate the stored cards (after a deliberate change to the card) with
``UPDATE_GOLDEN=1 python -m pytest tests/test_publish_card.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from audit_data import job_samples
from publish_data import FakeHub, add_finding, as_gold, fixture_dialogues, insert

from datagen import audit, publish, quality, review

CARDS = Path(__file__).parent / "fixtures" / "cards"
JOB_DATE = "2026-11-20T09:30:00"


def _build(db, tmp_path: Path) -> None:
    """The deterministic history the cards describe."""
    uids = insert(db, fixture_dialogues())  # 3 seed 001 records, msg-1, msg-2
    as_gold(db, uids[3:5])
    # a job on the offline backend, with fixed settings and date, and an audited lot over it
    lot_uids = job_samples(db, 12)
    with db.conn:
        db.execute(
            "UPDATE jobs SET created_at = ?, model = 'gpt-4.1-mini', temperature = 0.8, seed = 7, backend = 'offline', "
            "params = '{\"tools_version\": \"v3\"}', operator = 'pm' WHERE id = 'job_t'",
            [JOB_DATE],
        )
    audit.set_params(db, actor=None, p0=0.3, confidence=0.9)  # a sample of 7
    lot_id = audit.start(db, "job_t", "search", actor="민지", seed=11)
    drawn = [r[0] for r in db.execute("SELECT uid FROM lot_items WHERE lot_id = ? AND draw IS NOT NULL ORDER BY draw", [lot_id])]
    for uid in drawn:
        review.record_decision(db, uid, annotator="민지", decision="accept")
    audit.approve(db, lot_id, actor="boss")
    # people's decisions on the imported records
    review.record_decision(db, uids[0], annotator="민지", decision="accept")
    review.record_decision(db, uids[1], annotator="민지", decision="reject", reasons=["other"])
    review.record_decision(db, uids[2], annotator="준호", decision="skip")
    review.record_decision(db, uids[3], annotator="민지", decision="accept")  # gold: two agreeing votes
    review.record_decision(db, uids[3], annotator="준호", decision="accept")
    review.record_decision(db, uids[4], annotator="민지", decision="accept")  # gold: disagreement, then adjudicated
    review.record_decision(db, uids[4], annotator="준호", decision="reject", reasons=["incomplete"])
    review.record_decision(db, uids[4], annotator="서연", decision="accept", adjudication=True)
    # checks: a rule error seen at accept, an unseen one, a warning, a judge finding; overlaps
    add_finding(db, uids[1], "ungrounded_id")
    add_finding(db, lot_uids[0], "repeated_closing", severity="warning")
    add_finding(db, uids[0], quality.JUDGE_CHECK, severity="warning")
    with db.conn:
        db.execute("UPDATE sample_state SET checked_at = '2026-11-21T00:00:00'")
        db.execute(
            "INSERT INTO contamination (uid, gold_uid, method, overlap, band, created_at) VALUES (?, ?, 'char8_ko', 0.3, 'flagged', 'x')", [uids[0], uids[3]]
        )
        db.execute(
            "INSERT INTO contamination (uid, gold_uid, method, overlap, band, created_at) VALUES (?, ?, 'tulu3_word8', 0.9, 'excluded', 'x')",
            [lot_uids[1], uids[4]],
        )
        db.execute(
            "INSERT INTO duplicates (uid, cluster, kind, similarity) VALUES (?, ?, 'exact', 1.0), (?, ?, 'exact', 1.0)",
            [lot_uids[2], lot_uids[2], lot_uids[3], lot_uids[2]],
        )
    # a local export, then two Hub versions, with changes between them
    publish.export_and_record(db, tmp_path / "v0", operator="민지")
    edited = review.get_dialogue(db, uids[0]).model_copy(deep=True)
    edited.turns[0].content = "짬뽕 맛있는 집 찾아주세요"
    review.save_revision(db, uids[0], edited, annotator="민지")
    review.record_decision(db, uids[0], annotator="민지", decision="accept")
    hub = FakeHub()
    publish.publish_to_hub(db, "me/delivery", hub=hub, token="t", folder=tmp_path / "hub", operator="민지")
    review.record_decision(db, uids[2], annotator="준호", decision="accept")
    add_finding(db, uids[2], "unsaid_value")  # after the accept: nobody saw it
    review.record_decision(db, uids[1], annotator="준호", decision="accept", findings_seen=["ungrounded_id"])
    publish.publish_to_hub(db, "me/delivery", hub=hub, token="t", folder=tmp_path / "hub", operator="민지")
    review.record_decision(db, lot_uids[4], annotator="준호", decision="reject", reasons=["other"])  # wins over the lot


def _normalised(db, card: str) -> str:
    """The card with the dates of recorded publishes (the clock) replaced by ``YYYY-MM-DD``, only in
    the change log, where they are shown (other dates in the card are data and stay)."""
    head, sep, rest = card.partition("\n## 변경 기록\n")
    log, sep2, tail = rest.partition("\n## 형식과 사용법\n")
    assert sep and sep2
    for (day,) in db.execute("SELECT DISTINCT substr(created_at, 1, 10) FROM publishes"):
        log = log.replace(day, "YYYY-MM-DD")
    return head + sep + log + sep2 + tail


def _check(name: str, card: str) -> None:
    path = CARDS / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(card.encode("utf-8"))
    assert path.exists(), f"{path} is missing: run with UPDATE_GOLDEN=1 to write it"
    assert card == path.read_bytes().decode("utf-8")


def _build_minimal(db, tmp_path: Path) -> None:
    """Every imported record accepted by one person: a first version, no checks, nothing left out."""
    for uid in insert(db, fixture_dialogues()):
        review.record_decision(db, uid, annotator="민지", decision="accept")


def _build_reselected(db, tmp_path: Path) -> None:
    """A local export that kept no row hashes, then a release of a selection (rows not selected)."""
    _build_minimal(db, tmp_path)
    publish.export_and_record(db, tmp_path / "v0", operator="민지")
    with db.conn:
        db.execute("UPDATE publishes SET counts = json_remove(counts, '$.row_hashes')")


@pytest.mark.parametrize(
    "name, build, kwargs",
    [
        ("local_qwen.md", _build, {}),
        ("hub_openai.md", _build, {"fmt": "openai", "repo_id": "me/delivery"}),
        ("first_version.md", _build_minimal, {"repo_id": "me/first"}),
        ("selection_after_local.md", _build_reselected, {"fmt": "openai", "uids": {"msg-1", "msg-2"}}),
    ],
)
def test_the_card_is_the_stored_card(db, tmp_path, name, build, kwargs):
    build(db, tmp_path)
    release = publish.prepare(db, **kwargs)
    card = publish.dataset_card(db, release)
    assert card == release.card  # deterministic: the card shown is the card written
    _check(name, _normalised(db, card))


def test_model_text_is_data_in_the_card(db):
    """The card is Markdown rendered without autoescape: text from the records (here a category) is
    written as it is, not HTML-escaped and not evaluated as a template; only ``|`` is escaped in cells."""
    odd = "<b>중식|한식</b> {{ x }} & {% if %}"
    uids = insert(db, [d.model_copy(update={"uid": f"odd{i}", "category": odd}) for i, d in enumerate(fixture_dialogues()[:2])])
    for uid in uids:
        review.record_decision(db, uid, annotator="민지", decision="accept")
    card = publish.prepare(db).card
    assert "| train | <b>중식\\|한식</b> {{ x }} & {% if %} | 2 |" in card
    assert "&lt;" not in card and "&amp;" not in card


def test_the_card_template_ships_with_the_package():
    from datagen.publish import card

    assert (card.TEMPLATES / "card.md.j2").is_file()
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    assert 'datagen = ["publish/templates/*.j2"]' in pyproject
