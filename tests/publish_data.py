"""Shared data for the publishing tests: fixture dialogues stored directly (no checks run, so the
findings are exactly what a test inserts), decisions, and the Hub boundary faked."""

from __future__ import annotations

import json
from pathlib import Path

from datagen.dialogue import Dialogue, from_messages, from_seed_record
from datagen.store import now

FIX = Path(__file__).parent / "fixtures"


def fixture_dialogues() -> list[Dialogue]:
    """The 3 seed 001 records and the 2 messages records (uids ``msg-1``, ``msg-2``; call ids kept)."""
    out = [
        from_seed_record(json.loads(line), source="import:seed001_dataset.jsonl")
        for line in (FIX / "seed001_dataset.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    for i, line in enumerate((FIX / "messages_dataset.jsonl").read_text(encoding="utf-8").splitlines(), 1):
        rec = json.loads(line)
        out.append(from_messages(rec["messages"], tools=rec.get("tools"), uid=f"msg-{i}", source="import:messages_dataset.jsonl"))
    return out


def insert(db, dialogues: list[Dialogue], *, model: str | None = None) -> list[str]:
    """Store dialogues as samples (the insert trigger creates their review state); returns uids."""
    with db.conn:
        for d in dialogues:
            db["samples"].insert(
                {
                    "uid": d.uid,
                    "custom_id": d.custom_id,
                    "kind": d.kind,
                    "category": d.category,
                    "source": d.source,
                    "model": model or d.model,
                    "dialogue": d.model_dump_json(),
                    "usage": None,
                    "content_hash": d.content_hash(),
                    "created_at": now(),
                }
            )
    return [d.uid for d in dialogues]


def as_gold(db, uids) -> None:
    with db.conn:
        for u in uids:
            db.execute("UPDATE samples SET kind = 'gold' WHERE uid = ?", [u])
            db.execute("UPDATE sample_state SET kind = 'gold' WHERE uid = ?", [u])


def add_finding(db, uid: str, check_id: str, severity: str = "error") -> None:
    with db.conn:
        db.execute(
            "INSERT INTO findings (uid, check_id, severity, turn, reason, message, created_at) VALUES (?, ?, ?, 1, 'other', ?, ?)",
            [uid, check_id, severity, f"{check_id} 발견", now()],
        )


class FakeHub:
    """The Hub boundary, faked: records uploads and tags; a new commit id per distinct file set
    (like the Hub, an upload that changes no file makes no commit)."""

    def __init__(self):
        self.uploads: list[dict] = []
        self.commits: list[tuple[str, dict]] = []
        self.tags: dict[str, str] = {}

    def upload(self, folder, *, repo_id, token, private, commit_message):
        files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(Path(folder).rglob("*")) if p.is_file()}
        self.uploads.append({"repo_id": repo_id, "token": token, "private": private, "files": files, "message": commit_message})
        if not self.commits or self.commits[-1][1] != files:
            self.commits.append((f"commit{len(self.commits) + 1}", files))
        return self.commits[-1][0]

    def tag(self, repo_id, *, tag, revision, token, message):
        if tag in self.tags:
            raise ValueError(f"tag {tag} exists")
        self.tags[tag] = revision
