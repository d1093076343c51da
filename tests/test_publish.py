"""Publishing ships accepted records only; the export loads with datasets and round-trips."""

import json
from pathlib import Path

import pytest

from datagen import publish, review
from datagen.dialogue import from_seed_record
from datagen.ingest import import_file

FIX = Path(__file__).parent / "fixtures"


class FakeHub:
    """The Hub boundary, faked: records uploads, answers a commit id per distinct content."""

    def __init__(self):
        self.uploads = []
        self.commits = []

    def upload(self, folder, *, repo_id, token, private, commit_message):
        files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(Path(folder).rglob("*")) if p.is_file()}
        self.uploads.append({"repo_id": repo_id, "token": token, "private": private, "files": files})
        if not self.commits or self.commits[-1][1] != files:
            self.commits.append((f"commit{len(self.commits) + 1}", files))
        return self.commits[-1][0]


@pytest.fixture
def decided(db):
    import_file(db, FIX / "seed001_dataset.jsonl")
    import_file(db, FIX / "messages_dataset.jsonl")
    uids = review.queue(db)
    review.record_decision(db, uids[0], annotator="a", decision="accept")
    review.record_decision(db, uids[1], annotator="a", decision="reject", reasons=["other"])
    review.record_decision(db, uids[2], annotator="a", decision="accept")
    review.record_decision(db, uids[3], annotator="a", decision="accept")
    review.record_decision(db, uids[3], annotator="b", decision="reject", reasons=["incomplete"])  # changed mind
    review.record_decision(db, uids[4], annotator="a", decision="skip")
    return db, {uids[0], uids[2]}


def test_export_holds_exactly_the_accepted_records_and_round_trips(decided, tmp_path):
    import datasets

    db, accepted = decided
    result = publish.export_and_record(db, tmp_path / "ds")
    assert result["counts"] == {"train": 2}
    ds = datasets.load_dataset(str(tmp_path / "ds"))
    assert set(ds["train"]["uid"]) == accepted
    for row in ds["train"]:
        rec = dict(row, tools=json.loads(row["tools"]))
        back = from_seed_record(rec)
        orig = review.get_dialogue(db, row["uid"])
        # seed 001 records carry no call ids; both sides number them the same way
        assert back.turns == orig.turns
        assert (back.tools, back.system_prompt, back.dates, back.category) == (orig.tools, orig.system_prompt, orig.dates, orig.category)
    card = (tmp_path / "ds" / "README.md").read_text()
    assert card.startswith("---\nlanguage:\n- ko") and "path: data/train-*.parquet" in card
    assert db["publish_items"].count == 2


def test_push_sends_accepted_records_through_the_boundary(decided, monkeypatch):
    db, accepted = decided
    hub = FakeHub()
    monkeypatch.setenv("HF_TOKEN", "hf_fake_token")
    r1 = publish.publish_to_hub(db, "me/delivery", hub=hub)
    r2 = publish.publish_to_hub(db, "me/delivery", hub=hub)
    assert r1["revision"] == r2["revision"] == "commit1" and len(hub.commits) == 1
    up = hub.uploads[0]
    assert up["private"] is True and up["token"] == "hf_fake_token"
    assert "README.md" in up["files"] and "data/train-00000-of-00001.parquet" in up["files"]
    assert set(publish.plan(db)["train"][i]["uid"] for i in range(2)) == accepted
    row = db["publishes"].get(r1["publish_id"])
    assert row["repo_id"] == "me/delivery" and "hf_fake_token" not in json.dumps(row, ensure_ascii=False)


def test_no_token_gives_a_clear_message_and_keeps_the_local_export(decided):
    db, _ = decided
    with pytest.raises(publish.PublishError, match="HF_TOKEN") as err:
        publish.publish_to_hub(db, "me/delivery", hub=FakeHub())
    assert "export" in str(err.value)


def test_unreachable_hub_is_a_clear_message(decided, monkeypatch):
    db, _ = decided

    class DownHub:
        def upload(self, folder, **kw):
            raise ConnectionError(f"cannot reach huggingface.co with {kw['token']}")

    with pytest.raises(publish.PublishError, match="허브에 올리지 못했습니다") as err:
        publish.publish_to_hub(db, "me/delivery", hub=DownHub(), token="hf_secret")
    assert "hf_secret" not in str(err.value)


def test_nothing_accepted_nothing_ships(db):
    import_file(db, FIX / "seed001_dataset.jsonl")
    with pytest.raises(publish.PublishError, match="승인된 레코드가 없습니다"):
        publish.export_local(db)


def test_bad_repo_id_is_rejected(decided):
    with pytest.raises(publish.PublishError, match="owner/name"):
        publish.publish_to_hub(decided[0], "no-slash", hub=FakeHub(), token="t")
