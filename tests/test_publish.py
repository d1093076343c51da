"""Publishing: what ships and why not, both formats round-trip through datasets, the card, versions
on a faked Hub, the token never written anywhere."""

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from publish_data import FakeHub, add_finding, as_gold, fixture_dialogues, insert

from datagen import publish, review
from datagen.dialogue import Dialogue, ToolCall, Turn, _template, from_seed_record, render_qwen_text, to_seed_record


def _uids(folder) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in sorted(Path(folder, "data").glob("*.parquet")):
        out.setdefault(f.name.split("-")[0], []).extend(pq.read_table(f, columns=["uid"]).column("uid").to_pylist())
    return out


@pytest.fixture
def decided(db):
    """5 samples: accepted, rejected, accepted, accepted then rejected by someone else, skipped."""
    uids = insert(db, fixture_dialogues())
    review.record_decision(db, uids[0], annotator="a", decision="accept")
    review.record_decision(db, uids[1], annotator="a", decision="reject", reasons=["other"])
    review.record_decision(db, uids[2], annotator="a", decision="accept")
    review.record_decision(db, uids[3], annotator="a", decision="accept")
    review.record_decision(db, uids[3], annotator="b", decision="reject", reasons=["incomplete"])  # changed mind
    review.record_decision(db, uids[4], annotator="a", decision="skip")
    return db, uids


# ----------------------------------------------------------------------------- what ships


def test_export_holds_exactly_the_accepted_records_and_round_trips(decided, tmp_path):
    import datasets

    db, uids = decided
    release = publish.export_and_record(db, tmp_path / "ds")
    assert release.counts == {"train": 2} and release.shards == ["data/train-00000-of-00001.parquet"]
    ds = datasets.load_dataset(str(tmp_path / "ds"), cache_dir=str(tmp_path / "hf"))
    assert set(ds["train"]["uid"]) == {uids[0], uids[2]}
    published = {d.uid: d for d in publish.publishable_dialogues(db)}
    for row in ds["train"]:
        # seed 001 records carry no call ids: the originals were numbered call_1… the same way
        assert publish.from_row(row) == published[row["uid"]] == review.get_dialogue(db, row["uid"])
        assert json.loads(row["tools"]) == published[row["uid"]].tools
    assert {r["uid"]: r["job_id"] for r in ds["train"]} == {uids[0]: None, uids[2]: None}
    card = (tmp_path / "ds" / "README.md").read_text()
    assert card == release.card and card.startswith("---\nlanguage:\n- ko\n") and "path: data/train-*" in card
    assert db["publish_items"].count == 2 and db["publishes"].count == 1
    assert publish.shipping_status(db) == {uids[0]: "ships", uids[1]: "rejected", uids[2]: "ships", uids[3]: "rejected", uids[4]: "skipped"}


def test_openai_format_is_chat_template_ready_and_round_trips_exactly(db, tmp_path):
    import datasets

    dialogues = fixture_dialogues()
    dialogues[0].turns[1].tool_calls[0].arguments = {"query": "짜장면", "min_rating": 0.6, "page": 2, "filters": {"open": True, "tags": ["중식", None]}}
    dialogues[1].model = "gpt-x"
    uids = insert(db, dialogues)
    for u in uids:
        review.record_decision(db, u, annotator="a", decision="accept")
    release = publish.export_local(db, tmp_path / "oa", fmt="openai")
    assert release.float_drift == [uids[0]]  # 0.6: datasets' Json decoder gives 0.6000000000000001
    published = {d.uid: d for d in publish.publishable_dialogues(db)}
    assert published["msg-1"].turns[1].tool_calls[0].id == "call_a"
    back = publish.load_export(tmp_path / "oa")
    assert [d.uid for d in back["train"]] == [d.uid for d in publish.publishable_dialogues(db)]
    for d in back["train"]:
        assert d == published[d.uid]  # exact, call ids and float values included
    ds = datasets.load_dataset(str(tmp_path / "oa"), cache_dir=str(tmp_path / "hf"))["train"]
    for row in ds:
        d = published[row["uid"]]
        call = next((m for m in row["messages"] if m["tool_calls"]), None)
        if call:
            assert isinstance(call["tool_calls"][0]["function"]["arguments"], dict)
        assert all(isinstance(t, dict) for t in row["tools"])
        # what a Hugging Face chat template renders from the loaded row is the Qwen text of the dialogue
        if row["uid"] != uids[0]:  # (that one carries the float datasets decodes inexactly)
            text = _template().render(messages=row["messages"], tools=row["tools"] or None, add_generation_prompt=False)
            assert text == render_qwen_text(d)
    first_call = next(m for m in ds[0]["messages"] if m["tool_calls"])["tool_calls"][0]
    assert first_call["function"]["arguments"]["min_rating"] == 0.6000000000000001  # the documented drift
    assert "0.6000000000000001" in release.card


def test_every_exclusion_rule_names_its_reason(db):
    base = fixture_dialogues()[0]
    ds = [base.model_copy(update={"uid": f"s{i}"}, deep=True) for i in range(12)]
    insert(db, ds)
    acc = lambda u, who="a", seen=None: review.record_decision(db, u, annotator=who, decision="accept", findings_seen=seen)  # noqa: E731
    review.record_decision(db, "s0", annotator="a", decision="reject", reasons=["other"])
    # s1 pending; s2 skipped
    review.record_decision(db, "s2", annotator="a", decision="skip")
    as_gold(db, ["s3", "s11"])
    acc("s3", "a")
    review.record_decision(db, "s3", annotator="b", decision="reject", reasons=["other"])  # disputed
    acc("s11", "a")  # gold with one vote: still pending
    for u in ("s4", "s5", "s6", "s7", "s8", "s9", "s10"):
        acc(u)
    with db.conn:
        db.execute("INSERT INTO contamination (uid, gold_uid, method, overlap, band, created_at) VALUES ('s4', 'g', 'tulu3_word8', 0.9, 'excluded', 'x')")
        db.execute("INSERT INTO contamination (uid, gold_uid, method, overlap, band, created_at) VALUES ('s10', 'g', 'tulu3_word8', 0.3, 'flagged', 'x')")
        db.execute("INSERT INTO duplicates (uid, cluster, kind, similarity) VALUES ('s5', 's5', 'exact', 1.0), ('s6', 's5', 'exact', 1.0)")
    add_finding(db, "s7", "ungrounded_id")  # after the accept: nobody saw it
    add_finding(db, "s8", "unsaid_value")
    acc("s8", "b", seen=["unsaid_value"])  # accepted with the finding on screen
    add_finding(db, "s9", "repeated_closing", severity="warning")
    assert publish.shipping_status(db) == {
        "s0": "rejected",
        "s1": "pending",
        "s2": "skipped",
        "s3": "disputed",
        "s4": "decontaminated",
        "s5": "ships",
        "s6": "duplicate",
        "s7": "unreviewed_error",
        "s8": "ships",
        "s9": "ships",
        "s10": "ships",
        "s11": "pending",
    }
    release = publish.prepare(db)
    assert release.counts == {"train": 4} and dict(release.left_out()) == {
        "rejected": 1,
        "pending": 2,
        "skipped": 1,
        "disputed": 1,
        "decontaminated": 1,
        "duplicate": 1,
        "unreviewed_error": 1,
    }
    for reason, n in release.left_out().items():
        assert f"| {publish.LEFT_OUT[reason]} (`{reason}`) | {n} |" in release.card
    # the person who accepted s7 now sees the finding and accepts again: it ships
    acc("s7", "a", seen=["ungrounded_id"])
    assert publish.shipping_status(db, {"s7"}) == {"s7": "ships"}


def test_deciding_review_is_the_accept_that_decided(db):
    uids = insert(db, [d.model_copy(update={"uid": f"d{i}"}) for i, d in enumerate(fixture_dialogues()[:4])])
    review.record_decision(db, "d0", annotator="a", decision="reject", reasons=["other"])
    r = review.record_decision(db, "d0", annotator="b", decision="accept", findings_seen=["x"])
    as_gold(db, ["d1", "d2"])
    review.record_decision(db, "d1", annotator="a", decision="accept", findings_seen=["x"])
    g = review.record_decision(db, "d1", annotator="b", decision="accept")
    review.record_decision(db, "d2", annotator="a", decision="accept")
    review.record_decision(db, "d2", annotator="b", decision="reject", reasons=["other"])
    adj = review.record_decision(db, "d2", annotator="c", decision="accept", adjudication=True, findings_seen=["y"])
    review.record_decision(db, "d3", annotator="a", decision="accept")
    undone = review.record_decision(db, "d3", annotator="a", decision="accept", findings_seen=["z"])
    review.undo(db, annotator="a", uid="d3")
    got = publish.deciding_reviews(db)
    assert {u: v["review_id"] for u, v in got.items()} == {"d0": r, "d1": g, "d2": adj, "d3": undone - 1}
    assert got["d0"]["findings_seen"] == ["x"] and got["d2"]["adjudication"] and got["d1"]["annotator"] == "b"
    assert set(uids) == set(got)


def test_edited_version_ships_and_changes_show_in_the_diff(decided, tmp_path):
    db, uids = decided
    first = publish.export_and_record(db, tmp_path / "v1")
    edited = review.get_dialogue(db, uids[0]).model_copy(deep=True)
    edited.turns[0].content = "짬뽕 맛있는 집 찾아주세요"
    review.save_revision(db, uids[0], edited, annotator="a")
    review.record_decision(db, uids[0], annotator="a", decision="accept")
    review.record_decision(db, uids[4], annotator="a", decision="accept")
    review.record_decision(db, uids[2], annotator="b", decision="reject", reasons=["other"])
    release = publish.prepare(db)
    d = release.diff
    assert d.base["id"] == first.publish_id and (d.added, d.removed, d.changed) == ([uids[4]], [uids[2]], [uids[0]])
    assert d.removed_reasons == {uids[2]: "rejected"} and release.edited == 1
    assert "추가 1, 제거 1 (거절됨 1), 변경 1" in release.card
    (shipped,) = [x for x in publish.publishable_dialogues(db) if x.uid == uids[0]]
    assert shipped.turns[0].content == "짬뽕 맛있는 집 찾아주세요"


def test_the_card_has_what_the_issue_asks_for(decided):
    db, uids = decided
    add_finding(db, uids[1], "ungrounded_id")
    with db.conn:
        db.execute("UPDATE sample_state SET checked_at = 'x'")
        db.execute("INSERT INTO contamination (uid, gold_uid, method, overlap, band, created_at) VALUES (?, 'g', 'char8_ko', 0.3, 'flagged', 'x')", [uids[0]])
        db.execute(
            "INSERT INTO jobs (id, kind, created_at, counts, seed, model, temperature, params, input_file, operator, backend) "
            "VALUES ('job_1', 'train', '2026-11-20T00:00:00', '{}', 7, 'gpt-4.1-mini', 0.8, '{\"tools_version\": \"v3\"}', 'f', 'pm', 'offline')"
        )
        db.execute("UPDATE sample_state SET job_id = 'job_1' WHERE uid = ?", [uids[0]])
    card = publish.prepare(db, repo_id="me/delivery").card
    yaml, body = card.split("\n---\n", 1)
    for line in (
        "language:\n- ko",
        "license: other",
        "task_categories:\n- text-generation",
        "size_categories:\n- n<1K",
        "configs:\n- config_name: default\n  data_files:\n  - split: train\n    path: data/train-*",
    ):
        assert line in yaml
    assert "# me/delivery" in body and "- 버전: v1" in body and "| train | imported | 2 |" in body
    assert "| job_1 | train | gpt-4.1-mini | 0.8 | 7 | offline | v3 | 2026-11-20 | 1 |" in body
    assert "오프라인 배치 백엔드" in body
    assert "검토자 2명" in body and "승인율 50.0%" in body  # decided: 2 accepted, 2 rejected (1 skipped)
    assert "| ungrounded_id |" in body and "오류 없는 샘플 4건 (80.0%)" in body
    assert "| char8_ko | flagged | 1 | 1 |" in body and "Tülu 3" in body
    assert "첫 버전, 레코드 2건" in body
    assert "| 거절됨 (`rejected`) | 2 |" in body


# ----------------------------------------------------------------------------- the Hub


def test_same_set_twice_is_one_commit_and_each_version_is_tagged(decided, monkeypatch):
    db, uids = decided
    hub = FakeHub()
    monkeypatch.setenv("HF_TOKEN", "hf_fake_token")
    r1 = publish.publish_to_hub(db, "me/delivery", hub=hub)
    r2 = publish.publish_to_hub(db, "me/delivery", hub=hub)
    assert (r1.revision, r1.tag, r1.skipped) == ("commit1", "v1", False)
    assert (r2.revision, r2.tag, r2.skipped, r2.publish_id) == ("commit1", "v1", True, r1.publish_id)
    assert len(hub.uploads) == 1 and len(hub.commits) == 1 and hub.tags == {"v1": "commit1"}
    up = hub.uploads[0]
    assert up["private"] is True and up["token"] == "hf_fake_token" and "v1" in up["message"]
    assert set(up["files"]) == {"README.md", "data/train-00000-of-00001.parquet"}
    assert up["files"]["README.md"].decode() == r1.card
    review.record_decision(db, uids[4], annotator="a", decision="accept")
    r3 = publish.publish_to_hub(db, "me/delivery", hub=hub, private=False)
    assert (r3.revision, r3.tag) == ("commit2", "v2") and hub.tags == {"v1": "commit1", "v2": "commit2"}
    assert hub.uploads[-1]["private"] is False and r3.diff.added == [uids[4]] and r3.diff.base["tag"] == "v1"
    assert [h["tag"] for h in publish.publish_history(db, "me/delivery")] == ["v2", "v1"]
    row = db["publishes"].get(r3.publish_id)
    assert (row["repo_id"], row["revision"], row["record_hash"], row["card"]) == ("me/delivery", "commit2", r3.record_hash, r3.card)
    # another repo starts at v1; a different format is a different record set
    r4 = publish.publish_to_hub(db, "me/other", hub=hub, fmt="openai")
    assert r4.tag == "v1" and not r4.skipped and r4.record_hash != r3.record_hash


def test_a_failed_tag_keeps_the_commit_recorded(decided):
    db, _ = decided

    class NoTags(FakeHub):
        def tag(self, repo_id, **kw):
            raise PermissionError("403 Forbidden")

    r = publish.publish_to_hub(db, "me/delivery", hub=NoTags(), token="t")
    assert r.revision == "commit1" and "v1" in r.tag_error and "403" in r.tag_error
    assert db["publishes"].count == 1


def test_pushes_and_a_failed_tag_are_logged_without_the_token(decided, caplog):
    db, _ = decided

    class NoTags(FakeHub):
        def tag(self, repo_id, **kw):
            raise PermissionError("403 Forbidden for hf_secret_in_message")

    with caplog.at_level("INFO", logger="datagen.publish"):
        publish.publish_to_hub(db, "me/delivery", hub=NoTags(), token="hf_secret_in_message")
        publish.publish_to_hub(db, "me/delivery", hub=NoTags(), token="hf_secret_in_message")
    lines = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "datagen.publish"]
    assert [lv for lv, _ in lines] == ["WARNING", "INFO", "INFO"]
    assert "tag v1 failed" in lines[0][1] and "as v1, commit commit1" in lines[1][1] and "no new commit" in lines[2][1]
    assert not any("hf_secret_in_message" in m for _, m in lines)


def test_the_token_is_never_written_anywhere(decided, tmp_path, monkeypatch):
    db, _ = decided
    token = "hf_FAKE_token_4f9c2a7e"
    monkeypatch.setenv("HF_TOKEN", token)
    hub = FakeHub()
    release = publish.publish_to_hub(db, "me/delivery", hub=hub, folder=tmp_path / "hub")

    class Leaky:
        def upload(self, folder, **kw):
            raise ConnectionError(f"401 for token {kw['token']} at https://huggingface.co")

    review.record_decision(db, review.queue(db, review.QueueFilter(decision=None))[4], annotator="a", decision="accept")
    with pytest.raises(publish.PublishError) as err:
        publish.publish_to_hub(db, "me/delivery", hub=Leaky(), folder=tmp_path / "hub2")
    assert token not in str(err.value) and "***" in str(err.value)
    db.conn.commit()
    leaks = [p for p in [*tmp_path.rglob("*")] if p.is_file() and token.encode() in p.read_bytes()]
    assert leaks == []  # the database (and its WAL), both folders
    assert all(token not in json.dumps(r, ensure_ascii=False) for r in db["publishes"].rows)
    assert token not in release.card


def test_no_token_gives_a_clear_message_and_keeps_the_local_export(decided):
    db, _ = decided
    with pytest.raises(publish.PublishError, match="HF_TOKEN") as err:
        publish.publish_to_hub(db, "me/delivery", hub=FakeHub())
    assert "hub" in str(err.value) and db["publishes"].count == 0


def test_unreachable_hub_is_a_clear_message(decided):
    db, _ = decided

    class DownHub(FakeHub):
        def upload(self, folder, **kw):
            raise ConnectionError(f"cannot reach huggingface.co with {kw['token']}")

    with pytest.raises(publish.PublishError, match="허브에 올리지 못했습니다") as err:
        publish.publish_to_hub(db, "me/delivery", hub=DownHub(), token="hf_secret")
    assert "hf_secret" not in str(err.value)


def test_a_changed_record_set_is_refused_when_a_hash_is_expected(decided):
    db, uids = decided
    shown = publish.prepare(db, repo_id="me/delivery")
    review.record_decision(db, uids[4], annotator="a", decision="accept")
    with pytest.raises(publish.PublishError, match="바뀌었습니다"):
        publish.publish_to_hub(db, "me/delivery", hub=FakeHub(), token="t", expect_hash=shown.record_hash)
    with pytest.raises(publish.PublishError, match="바뀌었습니다"):
        publish.publish_to_hub(db, "me/delivery", hub=FakeHub(), token="t", release=shown)


def test_nothing_accepted_nothing_ships(db):
    insert(db, fixture_dialogues())
    with pytest.raises(publish.PublishError, match="승인된 레코드가 없습니다"):
        publish.export_local(db)


def test_bad_repo_id_is_rejected(decided):
    for bad in ("no-slash", "a/b/c", "/name", "owner/", "own er/name"):
        with pytest.raises(publish.PublishError, match="owner/name"):
            publish.publish_to_hub(decided[0], bad, hub=FakeHub(), token="t")


# ----------------------------------------------------------------------------- shards and speed paths


def test_shards_are_named_and_sized(db, tmp_path, monkeypatch):
    import datasets

    uids = insert(db, [d.model_copy(update={"uid": f"u{i}"}) for i, d in enumerate(fixture_dialogues() * 2)])
    as_gold(db, uids[:2])
    for u in uids:
        review.record_decision(db, u, annotator="a", decision="accept")
        if u in uids[:2]:
            review.record_decision(db, u, annotator="b", decision="accept")
    monkeypatch.setattr(publish.shards, "SHARD_ROWS", 3)
    release = publish.export_local(db, tmp_path / "s")
    assert release.shards == [
        "data/test-00000-of-00001.parquet",
        "data/train-00000-of-00003.parquet",
        "data/train-00001-of-00003.parquet",
        "data/train-00002-of-00003.parquet",
    ]
    assert release.counts == {"train": 8, "test": 2}
    ds = datasets.load_dataset(str(tmp_path / "s"), cache_dir=str(tmp_path / "hf"))
    assert list(ds["train"]["uid"]) == release.splits["train"] and list(ds["test"]["uid"]) == release.splits["test"]
    # worker processes write the same files (and hash the same set) as this process
    monkeypatch.setattr(publish.shards, "PARALLEL_MIN_ROWS", 0)
    monkeypatch.setattr(publish.shards.os, "cpu_count", lambda: 2)
    calls = []
    run_workers = publish.shards._run_workers
    monkeypatch.setattr(publish.shards, "_run_workers", lambda tasks, n: calls.append(n) or run_workers(tasks, n))
    parallel = publish.export_local(db, tmp_path / "p")
    assert calls == [2]
    assert parallel.record_hash == release.record_hash and parallel.shards == release.shards
    for name in release.shards:
        assert pq.read_table(tmp_path / "p" / name).equals(pq.read_table(tmp_path / "s" / name))


def test_split_tools_takes_the_fast_path_only_when_safe():
    d = fixture_dialogues()[1]
    text = d.model_dump_json().encode()
    cache: dict = {}
    rest, tools, key = publish.rules._split_tools(text, cache)
    assert tools == d.tools and key is not None and json.loads(rest) == {k: v for k, v in json.loads(text).items() if k != "tools"}
    assert publish.rules._split_tools(text, cache)[1] is tools  # parsed once
    # a "tools" key nested in a call's arguments, no top-level one: the whole text is parsed
    data = json.loads(text)
    data.pop("tools")
    data["turns"][1]["tool_calls"][0]["arguments"] = {"a": 1, "tools": [1, 2]}
    weird = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    assert publish.rules._split_tools(weird, {}) == (weird, None, None)
    # a system prompt that mentions ,"tools": in text is escaped, so not a cut either
    d2 = d.model_copy(update={"system_prompt": 'x,"tools":[1]'})
    rest, tools, _ = publish.rules._split_tools(d2.model_dump_json().encode(), {})
    assert tools == d.tools and json.loads(rest)["system_prompt"] == 'x,"tools":[1]'


def test_qwen_rows_are_seed_001_records(decided):
    db, uids = decided
    (d,) = [x for x in publish.publishable_dialogues(db) if x.uid == uids[2]]
    row = publish.to_row(d, "qwen", job_id="job_9")
    rec = to_seed_record(d)
    assert {k: row[k] for k in ("uid", "dates", "system_prompt", "messages")} == {k: rec[k] for k in ("uid", "dates", "system_prompt", "messages")}
    assert json.loads(row["tools"]) == rec["tools"] and row["job_id"] == "job_9" and row["category"] == d.category
    assert from_seed_record({**row, "tools": json.loads(row["tools"])}).turns == d.turns
    with pytest.raises(publish.PublishError, match="형식"):
        publish.to_row(d, "sharegpt")


def test_openai_rows_keep_every_turn_field():
    d = Dialogue(
        uid="x",
        system_prompt="",
        turns=[
            Turn(role="user", content="주문 상태", name="고객"),
            Turn(role="assistant", tool_calls=[ToolCall(id=None, name="get_order_status", arguments={})]),
            Turn(role="tool", content="{}", tool_call_id=None, name=None),
            Turn(role="assistant", content="확인했어요"),
        ],
    )
    row = publish.to_row(d, "openai")
    assert row["messages"][0]["role"] == "user"  # no system prompt, no system message
    assert publish.from_row(json.loads(json.dumps(row))) == d


def test_pushing_needs_the_publisher_role_once_roles_are_in_force(decided):
    from datagen import auth

    db, _ = decided
    auth.grant(db, "관리자", "admin", by=None)
    auth.grant(db, "게시", "publisher", by="관리자")
    auth.grant(db, "민지", "annotator", by="관리자")
    with pytest.raises(auth.PermissionDenied, match="publisher"):
        publish.publish_to_hub(db, "me/delivery", hub=FakeHub(), token="t", operator="민지")
    assert db["publishes"].count == 0
    r = publish.publish_to_hub(db, "me/delivery", hub=FakeHub(), token="t", operator="게시")
    assert db["publishes"].get(r.publish_id)["operator"] == "게시"
    assert publish.export_and_record(db, operator="민지").counts == {"train": 2}  # a local export is not publishing


def test_hugging_face_boundary_calls(monkeypatch, tmp_path):
    import huggingface_hub

    calls = []

    class FakeApi:
        def __init__(self, token):
            calls.append(("init", token))

        def create_repo(self, repo_id, **kw):
            calls.append(("create_repo", repo_id, kw))

        def upload_folder(self, **kw):
            calls.append(("upload_folder", kw))
            return type("CommitInfo", (), {"oid": "abc123"})()

        def create_tag(self, repo_id, **kw):
            calls.append(("create_tag", repo_id, kw))

    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    hub = publish.HuggingFaceHub()
    assert hub.upload(tmp_path, repo_id="me/ds", token="t", private=True, commit_message="m") == "abc123"
    hub.tag("me/ds", tag="v1", revision="abc123", token="t", message="m")
    assert calls[1] == ("create_repo", "me/ds", {"repo_type": "dataset", "private": True, "exist_ok": True})
    assert calls[2][1] == {
        "folder_path": str(tmp_path),
        "repo_id": "me/ds",
        "repo_type": "dataset",
        "commit_message": "m",
        "delete_patterns": ["data/*"],
    }  # stale shards of a bigger earlier version go
    assert calls[4] == ("create_tag", "me/ds", {"tag": "v1", "tag_message": "m", "revision": "abc123", "repo_type": "dataset"})


def test_the_gate_judges_the_version_that_ships_when_a_sample_is_edited_after_its_accept(db):
    """Rule 4 reads findings, and findings describe the latest edit; a sample edited after its accept
    ships the accepted version, so that version is what the gate checks: a defect added by a later
    edit does not hold back the clean accepted version, and a defect in the accepted version that
    nobody saw is not waved through because a later edit removed it."""
    from datagen import quality

    uids = insert(db, fixture_dialogues())
    quality.check_samples(db)
    errors = {u for (u,) in db.execute("SELECT DISTINCT uid FROM findings WHERE severity = 'error'")}
    clean = [u for u in uids if u not in errors and review.get_dialogue(db, u).tool_calls()]
    assert len(clean) >= 2
    a, b = clean[:2]

    def with_unknown_tool(uid):
        d = review.current_revision(db, uid)[1].model_copy(deep=True)
        d.tool_calls()[0][1].name = "no_such_tool"
        return d

    # a: accepted clean, then an edit adds an error → the accepted (clean) version still ships
    review.record_decision(db, a, annotator="a", decision="accept", findings_seen=[])
    review.save_revision(db, a, with_unknown_tool(a), annotator="a")
    assert db.execute("SELECT COUNT(*) FROM findings WHERE uid = ? AND check_id = 'unknown_tool'", [a]).fetchone()[0] == 1
    # b: an edit adds an error, that version is accepted unseen, a later edit removes the error
    review.save_revision(db, b, with_unknown_tool(b), annotator="a")
    review.record_decision(db, b, annotator="a", decision="accept", findings_seen=[])
    assert publish.shipping_status(db, {b}) == {b: "unreviewed_error"}
    review.save_revision(db, b, review.get_dialogue(db, b), annotator="a")
    assert not db.execute("SELECT COUNT(*) FROM findings WHERE uid = ? AND severity = 'error'", [b]).fetchone()[0]

    assert publish.shipping_status(db, {a, b}) == {a: "ships", b: "unreviewed_error"}
    assert [d.uid for d in publish.publishable_dialogues(db)] == [a]
    # b accepted again: the accepted version is now the latest, clean one, and it ships
    review.record_decision(db, b, annotator="a", decision="accept", findings_seen=["unknown_tool"])
    assert publish.shipping_status(db, {b}) == {b: "ships"}
