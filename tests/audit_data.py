"""Shared data for the triage and audit tests: one job's training samples stored directly (no checks
run, so a sample's findings are exactly the ones a test inserts), linked to the job through
``requests`` rows as generation does."""

from __future__ import annotations

from publish_data import fixture_dialogues

from datagen.store import now


def job_samples(db, n: int, *, job_id: str = "job_t", category: str = "search", start: int = 0, kind: str = "train") -> list[str]:
    """Store ``n`` training samples of ``job_id`` / ``category`` (copies of a fixture dialogue with
    their own uid and custom_id); returns their uids in arrival order."""
    base = fixture_dialogues()[0]
    uids = []
    with db.conn:
        for i in range(start, start + n):
            cid = f"{kind}-{category}-{i:05d}"
            uid = f"{job_id}-{category}-{i:05d}"
            d = base.model_copy(update={"uid": uid, "custom_id": cid, "category": category, "kind": kind})
            db.execute("INSERT OR IGNORE INTO jobs (id, kind, created_at) VALUES (?, ?, ?)", [job_id, kind, now()])
            db.execute("INSERT INTO requests (custom_id, job_id, kind, category, status) VALUES (?, ?, ?, ?, 'parsed')", [cid, job_id, kind, category])
            db["samples"].insert(
                {
                    "uid": uid,
                    "custom_id": cid,
                    "kind": kind,
                    "category": category,
                    "source": "test",
                    "model": "m",
                    "dialogue": d.model_dump_json(),
                    "usage": None,
                    "content_hash": uid,
                    "created_at": now(),
                }
            )
            uids.append(uid)
    return uids


def finding(db, uid: str, check_id: str = "unknown_tool", severity: str = "error") -> None:
    """One findings row (any check id: the rule checks, or what a model judge would write)."""
    with db.conn:
        db.execute(
            "INSERT INTO findings (uid, check_id, severity, turn, reason, message, created_at) VALUES (?, ?, ?, 1, 'other', ?, ?)",
            [uid, check_id, severity, f"{check_id} 발견", now()],
        )
