"""The corpus-level ``repeated_closing`` check: one closing line repeated across many samples of a kind.

The rule and its numbers are :mod:`datagen.checks.corpus`'s (``CLOSING_MIN_CHARS``,
``CLOSING_MIN_SAMPLES``, ``CLOSING_MIN_SHARE``: this project's choice, see there; read when the
check runs). Over the database it runs incrementally: one :class:`_ClosingIndex` per (database file,
kind) in this process, kept in :data:`_CLOSING_INDEXES` under :data:`_CLOSING_LOCK` (Streamlit runs
sessions in threads), so while results arrive the check costs O(new samples) per chunk.
:func:`closing_check` is what ingest calls after a run, ``per_sample.check_samples`` calls ``_closing_check``;
:func:`repeated_closings` applies the same rule to dialogues held in memory (:mod:`datagen.calibration`).
Only ``repeated_closing`` findings (:data:`CLOSING`) are written here.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Iterable

import sqlite_utils

from ..checks import text as ctext
from ..checks.core import CHECKS
from ..checks.corpus import CLOSING_MIN_SHARE, final_closing
from ..store import write_transaction
from .findings import _replace_findings
from .samples import _chunks

CLOSING_SHARE_TEXT = f"{CLOSING_MIN_SHARE:.0%}"
"""How the closing-line threshold (``checks.corpus.CLOSING_MIN_SHARE``) reads in a message; messages
carry no counts, so a flagged sample's finding stays unchanged while results arrive."""

CLOSING = ("repeated_closing",)
"""The check ids this module replaces."""


_NEW_ROWS_SQL = "SELECT uid, seq FROM sample_state WHERE kind = ? AND seq > ? ORDER BY seq"
"""Samples of a kind stored after rowid ``seq`` (``sample_state.seq`` is the samples rowid, its
``kind`` the sample's): read from the small state rows, not the samples table, whose ~5 KB rows a
scan by kind would read whole (570 MB for 100,000 samples, after the ingest's last chunk)."""
_LAST_TURN_SQL = "SELECT uid, json_extract(dialogue, '$.turns[#-1]'), json_array_length(dialogue, '$.turns') FROM samples WHERE uid IN ({})"


class _ClosingIndex:
    """Closing lines of the samples of one kind in one database, kept up to date incrementally, so
    the corpus-level check costs O(new samples) per chunk while results arrive, not O(all samples).

    Samples added by anyone are picked up by rowid; samples re-checked in this process update their
    entry (an edit changes its closing line). A full :func:`check_samples` rebuilds it.
    """

    def __init__(self) -> None:
        self.rowid = 0
        self.entry: dict[str, tuple[str, str, int]] = {}  # uid → (key, line, turn)
        self.members: dict[str, set[str]] = defaultdict(set)  # key → uids

    def put(self, uid: str, line: str, turn: int) -> None:
        old = self.entry.get(uid)
        if old is not None:
            self.members[old[0]].discard(uid)
        key = ctext.squash(line)
        self.entry[uid] = (key, line, turn)
        self.members[key].add(uid)

    def catch_up(self, db: sqlite_utils.Database, kind: str, skip: set[str]) -> None:
        """Add samples stored after the last one seen (their last turn read in SQL; edits applied)."""
        new = []
        for uid, rowid in db.execute(_NEW_ROWS_SQL, [kind, self.rowid]):
            self.rowid = rowid
            if uid not in skip:
                new.append(uid)
        for part in _chunks(new, 500):  # only these are read: the samples just checked are skipped in SQL too
            for uid, last, n in db.execute(_LAST_TURN_SQL.format(",".join("?" * len(part))), part):
                self.put(uid, final_closing([json.loads(last)]) if last else "", (n or 0) - 1)
        if new:
            for part in _chunks(new, 500):
                for uid, text in db.execute(
                    f"SELECT r.uid, r.dialogue FROM revisions r JOIN (SELECT uid, MAX(id) AS id FROM revisions "
                    f"WHERE uid IN ({','.join('?' * len(part))}) GROUP BY uid) m ON m.id = r.id",
                    part,
                ):
                    turns = json.loads(text).get("turns") or []
                    self.put(uid, final_closing(turns), len(turns) - 1)

    def flagged(self) -> dict[str, tuple[str, int, int]]:
        """uid → (line, samples with it, samples in total), by :data:`checks.corpus.CLOSING_MIN_SHARE`."""
        from ..checks import corpus as cc

        total = len(self.entry)
        out = {}
        for key, uids in self.members.items():
            n = len(uids)
            if len(key) >= cc.CLOSING_MIN_CHARS and n >= cc.CLOSING_MIN_SAMPLES and n >= cc.CLOSING_MIN_SHARE * total:
                for uid in uids:
                    out[uid] = (self.entry[uid][1], n, total)
        return out


def repeated_closings(last_turns: dict[str, list[dict]]) -> dict[str, tuple[str, int, int]]:
    """The ``repeated_closing`` rule over one set of dialogues held in memory (no database): uid →
    ``(closing line, dialogues ending with it, dialogues in the set)`` for the flagged ones.

    Args:
        last_turns: uid → the dialogue's turns (its last turn is enough), ``Dialogue.model_dump()`` shape.
    """
    index = _ClosingIndex()
    for uid, turns in last_turns.items():
        index.put(uid, final_closing(turns), len(turns) - 1)
    return index.flagged()


_CLOSING_INDEXES: dict[tuple, _ClosingIndex] = {}
_CLOSING_LOCK = threading.Lock()  # Streamlit runs sessions in threads


def _db_key(db: sqlite_utils.Database, kind: str) -> tuple:
    path = db.execute("PRAGMA database_list").fetchone()[2]
    return (path or id(db.conn), kind)


def closing_check(db: sqlite_utils.Database, kinds: Iterable[str], closings: dict[str, dict[str, tuple[str, int]]]) -> int:
    """The corpus-level ``repeated_closing`` check after new samples of ``kinds`` were checked
    (``closings``: their closing lines, kind → uid → (line, turn)); returns samples flagged."""
    return _closing_check(db, kinds, closings, full=False)


def _closing_check(db: sqlite_utils.Database, kinds: Iterable[str], checked: dict[str, dict[str, tuple[str, int]]], full: bool) -> int:
    """Recompute ``repeated_closing`` for the samples of ``kinds``; returns samples flagged.

    ``checked``: closing lines just computed (kind → uid → (line, turn)); with ``full`` they are all
    the samples of their kind and the index is rebuilt from them. Only findings that change are written.
    """
    with _CLOSING_LOCK:
        return _closing_check_locked(db, kinds, checked, full)


def _closing_check_locked(db: sqlite_utils.Database, kinds: Iterable[str], checked: dict[str, dict[str, tuple[str, int]]], full: bool) -> int:
    flagged_total = 0
    spec = CHECKS["repeated_closing"]
    for kind in sorted(kinds):
        key = _db_key(db, kind)
        index = _CLOSING_INDEXES.get(key)
        if full or index is None:
            index = _CLOSING_INDEXES[key] = _ClosingIndex()
        mine = checked.get(kind, {})
        if full:
            for uid, (line, turn) in mine.items():
                index.put(uid, line, turn)
            index.rowid = db.execute("SELECT COALESCE(MAX(rowid), 0) FROM samples WHERE kind = ?", [kind]).fetchone()[0]
        else:
            index.catch_up(db, kind, set(mine))
            for uid, (line, turn) in mine.items():
                index.put(uid, line, turn)
            if len(index.entry) != db.execute("SELECT COUNT(*) FROM samples WHERE kind = ?", [kind]).fetchone()[0]:
                index = _CLOSING_INDEXES[key] = _ClosingIndex()  # samples deleted or the file replaced: start over
                index.catch_up(db, kind, set())
        hot = index.flagged()
        existing = {
            (u, t, m)
            for u, t, m in db.execute(
                "SELECT f.uid, f.turn, f.message FROM findings f JOIN samples s ON s.uid = f.uid WHERE f.check_id = 'repeated_closing' AND s.kind = ?",
                [kind],
            )
        }
        wanted = {
            (uid, index.entry[uid][2], f"마무리 문장 {line!r}이(가) {kind} 샘플의 {CLOSING_SHARE_TEXT} 이상에서 똑같이 반복됩니다.")
            for uid, (line, n, total) in hot.items()
        }
        stale = {u for u, _, _ in existing - wanted}
        fresh = [(u, spec.id, spec.severity, t, spec.reason, m) for u, t, m in wanted - existing]
        if stale or fresh:
            with write_transaction(db):
                for part in _chunks(sorted(stale), 500):
                    db.execute(f"DELETE FROM findings WHERE check_id = 'repeated_closing' AND uid IN ({','.join('?' * len(part))})", part)
                _replace_findings(db, [r[0] for r in fresh], CLOSING, fresh)
        flagged_total += len(hot)
    return flagged_total
