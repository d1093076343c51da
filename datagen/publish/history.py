"""Earlier publishes: the one a release is compared with, the history, version numbers, the diff.

Every publish is recorded (``publishes``, ``publish_items``, by :mod:`datagen.publish.release`); the
row hashes kept in ``publishes.counts`` (:data:`ROW_HASH_CHARS` hex each) let the next release tell
added, removed and changed rows (:class:`Diff`). Hub versions are numbered per repo (``v{n}``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlite_utils

from ..store import loads

ROW_HASH_CHARS = 16
"""Hex characters of each row hash kept per publish (64 bits: enough to tell a changed row)."""


@dataclass
class Diff:
    """The difference between a release and a previous publish.

    Attributes:
        base: the previous publish (``{"id", "target", "repo_id", "tag", "revision", "created_at",
            "format", "total"}``) or ``None`` for a first version.
        added / removed / changed: uids (sorted); changed = shipped in both with a different row.
        removed_reasons: uid → why it no longer ships (a :data:`LEFT_OUT` key, ``not_selected`` or
            ``deleted``).
        exact: ``False`` when the base publish kept no row hashes (``changed`` then unknown).
    """

    base: dict | None = None
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed_reasons: dict[str, str] = field(default_factory=dict)
    exact: bool = True


def previous_publish(db: sqlite_utils.Database, repo_id: str = "") -> dict | None:
    """The publish a new one is compared with: the latest Hub publish to ``repo_id``, or with no
    repo id the latest publish of any kind; ``None`` if there is none.

    Returns:
        ``{"id", "target", "repo_id", "revision", "record_hash", "format", "created_at", "tag",
        "version", "total", "row_hashes" (uid → hash, may be empty)}``.
    """
    if repo_id:
        rows = list(db.query("SELECT * FROM publishes WHERE target = 'hub' AND repo_id = ? ORDER BY id DESC LIMIT 1", [repo_id]))
    else:
        rows = list(db.query("SELECT * FROM publishes ORDER BY id DESC LIMIT 1"))
    return _publish_info(rows[0]) if rows else None


def _publish_info(row: dict, *, hashes: bool = True) -> dict:
    """A ``publishes`` row with its ``counts`` JSON unpacked (seed 001's rows held only ``{split: n}``)."""
    info = loads(row.get("counts"), {}) or {}
    splits = info.get("splits", {k: v for k, v in info.items() if isinstance(v, int)})  # seed 001 rows: {split: n}
    return {
        "id": row["id"],
        "target": row["target"],
        "repo_id": row["repo_id"],
        "revision": row["revision"],
        "record_hash": row["record_hash"],
        "format": row["format"],
        "created_at": row["created_at"],
        "tag": info.get("tag"),
        "version": info.get("version"),
        "splits": splits,
        "total": sum(splits.values()),
        **({"row_hashes": info.get("row_hashes") or {}} if hashes else {}),
    }


def publish_history(db: sqlite_utils.Database, repo_id: str | None = None) -> list[dict]:
    """Every recorded publish, newest first (only Hub publishes to ``repo_id`` when given):
    ``[{"id", "target", "repo_id", "tag", "revision", "format", "total", "splits", "record_hash",
    "created_at", "operator"}]``."""
    cols = "id, target, repo_id, revision, record_hash, format, created_at, operator, json_remove(counts, '$.row_hashes') AS counts"
    sql = f"SELECT {cols} FROM publishes" + (" WHERE target = 'hub' AND repo_id = ?" if repo_id else "") + " ORDER BY id DESC"
    return [{**_publish_info(r, hashes=False), "operator": r["operator"]} for r in db.query(sql, [repo_id] if repo_id else [])]


def _next_version(db: sqlite_utils.Database, repo_id: str) -> int | None:
    if not repo_id:
        return None
    return db.execute("SELECT COUNT(*) FROM publishes WHERE target = 'hub' AND repo_id = ?", [repo_id]).fetchone()[0] + 1


def _diff(
    db: sqlite_utils.Database, base: dict | None, splits: dict[str, list[str]], row_hashes: dict[str, str], status: dict[str, str], selected: set[str] | None
) -> Diff:
    now_uids = {u for us in splits.values() for u in us}
    if base is None:
        return Diff(added=sorted(now_uids))
    before = {u for (u,) in db.execute("SELECT uid FROM publish_items WHERE publish_id = ?", [base["id"]])}
    old = base.get("row_hashes") or {}
    removed = sorted(before - now_uids)
    reasons = {}
    for u in removed:
        if u in status:
            reasons[u] = status[u]
        elif selected is not None and u not in selected:
            reasons[u] = "not_selected"
        else:
            reasons[u] = "deleted"
    changed = sorted(u for u in now_uids & before if old and old.get(u) != row_hashes[u])
    info = {k: base[k] for k in ("id", "target", "repo_id", "tag", "revision", "created_at", "format", "total")}
    return Diff(
        base=info, added=sorted(now_uids - before), removed=removed, changed=changed, removed_reasons=reasons, exact=bool(old) or not (now_uids & before)
    )
