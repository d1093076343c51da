"""Review decisions: validation, append-only history, latest decision wins, queue order."""

from pathlib import Path

import pytest

from datagen import review
from datagen.ingest import import_file

FIX = Path(__file__).parent / "fixtures"


@pytest.fixture
def loaded(db):
    import_file(db, FIX / "seed001_dataset.jsonl")
    return db


def test_decision_needs_annotator_known_uid_and_reasons(loaded):
    uid = review.queue(loaded)[0]
    with pytest.raises(review.ReviewError, match="annotator"):
        review.record_decision(loaded, uid, annotator="  ", decision="accept")
    with pytest.raises(review.ReviewError, match="decision"):
        review.record_decision(loaded, uid, annotator="민지", decision="maybe")
    with pytest.raises(review.ReviewError, match="reason"):
        review.record_decision(loaded, uid, annotator="민지", decision="reject", reasons=["ugly"])
    with pytest.raises(review.ReviewError, match="no sample"):
        review.record_decision(loaded, "nope", annotator="민지", decision="accept")
    assert loaded["reviews"].count == 0


def test_latest_decision_wins_and_history_is_kept(loaded):
    uid = review.queue(loaded)[0]
    review.record_decision(loaded, uid, annotator="민지", decision="reject", reasons=["ungrounded_id", "unsaid_value"], note="ID 근거 없음", seconds=3.5)
    review.record_decision(loaded, uid, annotator="준호", decision="accept")
    assert review.latest_decision(loaded, uid)["decision"] == "accept"
    hist = review.history(loaded, uid)
    assert [h["decision"] for h in hist] == ["reject", "accept"]
    assert hist[0]["seconds"] == 3.5 and hist[0]["annotator"] == "민지"
    assert review.decision_counts(loaded) == {"accept": 1, "reject": 0, "skip": 0, "pending": 2}


def test_queue_puts_undecided_first_and_filters(loaded):
    first, second, third = review.queue(loaded)
    review.record_decision(loaded, first, annotator="a", decision="accept")
    review.record_decision(loaded, second, annotator="a", decision="skip")
    assert review.queue(loaded) == [third, second, first]
    assert review.queue(loaded, review.QueueFilter(decision="pending")) == [third]
    assert review.queue(loaded, review.QueueFilter(decision="accept")) == [first]
    assert review.progress(loaded) == (1, 3)
    assert review.queue(loaded, review.QueueFilter(kind="gold")) == []
