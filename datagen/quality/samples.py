"""Reading stored samples for the quality gate: which dialogue of a sample is checked, in chunks.

Which dialogue is checked: the latest saved edit of a sample (``revisions``, when that table exists),
else the sample as stored (the ``sample_dialogues`` view: the tool list joined back in). Samples are
read, checked and written :data:`CHUNK` at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice

import sqlite_utils

CHUNK = 1000
"""Samples per read / check / write transaction."""


def _chunks(it: Iterable, size: int) -> Iterator[list]:
    it = iter(it)
    while chunk := list(islice(it, size)):
        yield chunk


def _current(db: sqlite_utils.Database, rows: list[tuple]) -> list[tuple]:
    """Replace each ``(uid, kind, dialogue, …)`` row's dialogue by its latest revision, if any."""
    if not rows:
        return rows
    uids = [r[0] for r in rows]
    edited = dict(
        db.execute(
            f"SELECT r.uid, r.dialogue FROM revisions r JOIN (SELECT uid, MAX(id) AS id FROM revisions "
            f"WHERE uid IN ({','.join('?' * len(uids))}) GROUP BY uid) m ON m.id = r.id",
            uids,
        ).fetchall()
    )
    if not edited:
        return rows
    return [(r[0], r[1], edited.get(r[0], r[2]), *r[3:]) for r in rows]


def _sample_rows(db: sqlite_utils.Database, uids: Sequence[str] | None, kind: str | None = None) -> Iterator[list[tuple]]:
    """Chunks of ``(uid, kind, dialogue JSON)``: the given uids (in that order) or all samples (of a kind) in insertion order."""
    if uids is None:
        sql = "SELECT uid, kind, dialogue FROM sample_dialogues" + (" WHERE kind = ?" if kind else "") + " ORDER BY seq"
        cur = db.execute(sql, [kind] if kind else [])
        while rows := cur.fetchmany(CHUNK):
            yield _current(db, rows)
        return
    for chunk in _chunks(dict.fromkeys(uids), CHUNK):
        found = {r[0]: r for r in db.execute(f"SELECT uid, kind, dialogue FROM sample_dialogues WHERE uid IN ({','.join('?' * len(chunk))})", chunk)}
        rows = [found[u] for u in chunk if u in found]
        if rows:
            yield _current(db, rows)
