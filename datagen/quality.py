"""The quality gate in the database: findings per sample, duplicates, decontamination.

Everything a person should know before looking at a sample, stored next to it (tables from
migration ``002_quality_gate``):

- :func:`check_samples` runs the per-dialogue checks (:mod:`datagen.checks`) and the corpus-level
  "one closing line repeated across many samples" check, and replaces those findings;
- :func:`find_duplicates`: exact (normalised) and near duplicates (MinHash LSH over character
  n-grams) within the training set, as ``duplicates`` rows and ``duplicate_*`` findings;
- :func:`decontaminate`: every training sample against the gold set, by the Tülu 3 rule and a
  Korean-aware character variant, as ``contamination`` rows and ``contamination*`` findings.

Each function owns its check ids and replaces only those, so re-running one never drops another's
findings. A finding that is found again unchanged (same check, turn and message) keeps its first
``created_at``: "a person accepted it after the finding was shown" can be decided by comparing a
review's time with the finding's (:func:`latest_error_at`).

Which dialogue is checked: the latest saved edit of a sample (``revisions``, when that table exists),
else the sample as stored.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import unicodedata
from collections import Counter, defaultdict
from itertools import islice
from typing import Any, Iterable, Iterator, Sequence

import sqlite_utils

from . import checks
from .checks import text as ctext
from .checks.core import CHECKS, run_view
from .checks.corpus import CLOSING_MIN_SHARE, final_closing
from .errors import InputError
from .store import now, write_transaction

CHUNK = 1000
"""Samples per read / check / write transaction."""

CLOSING_SHARE_TEXT = f"{CLOSING_MIN_SHARE:.0%}"
"""How the closing-line threshold (``checks.corpus.CLOSING_MIN_SHARE``) reads in a message; messages
carry no counts, so a flagged sample's finding stays unchanged while results arrive."""

RULE_SOURCE = "rule"
"""``findings.source`` of everything this module and the checks write (migration 012: the default)."""
JUDGE_CHECK = "judge"
"""``findings.check_id`` of a judge model's finding (source ``judge:<model>``, :mod:`datagen.judge`);
its reject reason key is in ``findings.reason``."""
JUDGE_TITLE = "판정 모델"
"""The Korean title of :data:`JUDGE_CHECK` findings (not a registered check: a model, not a rule)."""

PER_SAMPLE = checks.PER_DIALOGUE
CLOSING = ("repeated_closing",)
DUPLICATE = ("duplicate_exact", "duplicate_near")
CONTAMINATION = ("contamination", "contamination_suspect")

# ----------------------------------------------------------------------------- reading samples


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
        found = {
            r[0]: r
            for r in db.execute(f"SELECT uid, kind, dialogue FROM sample_dialogues WHERE uid IN ({','.join('?' * len(chunk))})", chunk)
        }
        rows = [found[u] for u in chunk if u in found]
        if rows:
            yield _current(db, rows)


# ----------------------------------------------------------------------------- writing findings


def _replace_findings(db: sqlite_utils.Database, uids: Sequence[str], check_ids: Sequence[str], rows: list[tuple]) -> None:
    """Within the caller's transaction: delete ``check_ids`` findings of ``uids`` whose source is
    :data:`RULE_SOURCE` (a judge model's findings are never touched: :mod:`datagen.judge` replaces
    its own), insert ``rows`` ``(uid, check_id, severity, turn, reason, message)`` as rule findings,
    keeping ``created_at`` of unchanged ones."""
    ids_sql = ",".join("?" * len(check_ids))
    old: dict[tuple, str] = {}
    for part in _chunks(uids, 500):
        marks = ",".join("?" * len(part))
        for uid, cid, turn, message, created in db.execute(
            f"SELECT uid, check_id, turn, message, created_at FROM findings WHERE uid IN ({marks}) AND check_id IN ({ids_sql}) "
            "AND source = 'rule'",
            [*part, *check_ids],
        ):
            old.setdefault((uid, cid, turn, message), created)
        db.execute(f"DELETE FROM findings WHERE uid IN ({marks}) AND check_id IN ({ids_sql}) AND source = 'rule'", [*part, *check_ids])
    ts = now()
    db.conn.executemany(
        "INSERT INTO findings (uid, check_id, severity, turn, reason, message, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(u, c, s, t, r, m, old.get((u, c, t, m), ts)) for u, c, s, t, r, m in rows],
    )


def _rows(uid: str, findings: Iterable[checks.Finding]) -> list[tuple]:
    return [(uid, f.check, f.severity, f.turn, f.reason, f.message) for f in findings]


# ----------------------------------------------------------------------------- per-sample checks


def check_record(data: dict | str) -> tuple[list[checks.Finding], tuple[str, int]]:
    """Findings, and closing line with its turn, of one dialogue in its stored shape
    (``Dialogue.model_dump_json()`` text, or decoded: then filled in place by :func:`checks.load_view`).
    What :func:`check_samples` computes per sample (module level: picklable for workers); ingest
    calls it on the dialogue it holds already.

    Raises:
        ValueError: ``data`` is text that is not JSON.
    """
    view = checks.load_view(data)
    return run_view(view), (final_closing(view.turns), view.n - 1)


def store_check_results(
    db: sqlite_utils.Database,
    results: list[tuple[str, str, list[checks.Finding], tuple[str, int]]],
    stats: dict[str, Any],
    kinds: set[str],
    closings: dict[str, dict[str, tuple[str, int]]],
    *,
    fresh: bool = False,
) -> None:
    """Within the caller's write transaction: store ``(uid, kind, findings, closing)`` results of
    the per-dialogue checks, replacing those samples' earlier per-dialogue findings, and set
    ``sample_state.checked_at``. With ``fresh`` the samples were stored in this same transaction
    with their state rows' ``checked_at`` set (ingest): the findings are only inserted. Adds to
    ``stats`` (``checked``, ``findings``, ``with_errors``, ``by_check``), ``kinds`` and
    ``closings`` (kind → uid → closing) for :func:`closing_check`."""
    rows: list[tuple] = []
    for uid, kind, findings, closing in results:
        kinds.add(kind)
        closings[kind][uid] = closing
        rows.extend(_rows(uid, findings))
        stats["checked"] += 1
        stats["findings"] += len(findings)
        stats["with_errors"] += any(f.severity == "error" for f in findings)
        stats["by_check"].update({f.check for f in findings})
    uids = [r[0] for r in results]
    if fresh:
        ts = now()
        db.conn.executemany(
            "INSERT INTO findings (uid, check_id, severity, turn, reason, message, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(*r, ts) for r in rows],
        )
        return
    _replace_findings(db, uids, PER_SAMPLE, rows)
    ts = now()
    for part in _chunks(uids, 500):
        db.execute(f"UPDATE sample_state SET checked_at = ? WHERE uid IN ({','.join('?' * len(part))})", [ts, *part])


def closing_check(db: sqlite_utils.Database, kinds: Iterable[str], closings: dict[str, dict[str, tuple[str, int]]]) -> int:
    """The corpus-level ``repeated_closing`` check after new samples of ``kinds`` were checked
    (``closings``: their closing lines, kind → uid → (line, turn)); returns samples flagged."""
    return _closing_check(db, kinds, closings, full=False)


def new_check_stats() -> dict[str, Any]:
    """The counters :func:`store_check_results` adds to."""
    return {"checked": 0, "findings": 0, "with_errors": 0, "by_check": Counter()}


def check_samples(
    db: sqlite_utils.Database,
    uids: Iterable[str] | None = None,
    *,
    corpus: bool = True,
    workers: int = 1,
) -> dict:
    """Run every per-dialogue check on the given samples (default: all) and store the findings.

    For each chunk of :data:`CHUNK` samples, in one transaction: their findings of the per-dialogue
    checks are replaced and ``sample_state.checked_at`` is set. Then, when ``corpus`` is true, the
    corpus-level check ``repeated_closing`` is recomputed over all samples of the kinds involved
    (a line can cross the threshold because of new samples, flagging older ones).

    Args:
        db: the database.
        uids: sample uids to check; unknown ones are ignored. ``None``: every sample.
        corpus: also recompute ``repeated_closing`` (:mod:`datagen.checks.corpus`).
        workers: processes to check with (``> 1`` uses a ``multiprocessing`` pool; reading and
            writing stay in this process).

    Returns:
        ``{"checked": samples checked, "findings": findings stored for them, "with_errors": samples
        among them with an error-level finding, "by_check": {check_id: samples flagged}, "repeated_closing":
        samples flagged by the corpus check (or None when not run), "seconds": wall time}``.

    Raises:
        ValueError: a stored dialogue is not JSON (the sample row is corrupt).
    """
    started = time.perf_counter()
    uid_list = None if uids is None else list(uids)
    stats = new_check_stats()
    kinds: set[str] = set()
    closings: dict[str, dict[str, tuple[str, int]]] = defaultdict(dict)
    pool = None
    if workers > 1:
        from .pools import worker_pool

        pool = worker_pool(workers)

    def store(chunk: list[tuple], results: list) -> None:
        with write_transaction(db):
            store_check_results(db, [(uid, kind, *res) for (uid, kind, _), res in zip(chunk, results)], stats, kinds, closings)

    try:
        pending = None  # with workers: chunk k+1 is checked while chunk k is written
        for chunk in _sample_rows(db, uid_list):
            texts = [r[2] for r in chunk]
            if pool is None:
                store(chunk, [check_record(t) for t in texts])
                continue
            job = pool.map_async(check_record, texts, chunksize=max(1, len(texts) // (4 * workers)))
            if pending is not None:
                store(pending[0], pending[1].get())
            pending = (chunk, job)
        if pending is not None:
            store(pending[0], pending[1].get())
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    stats["repeated_closing"] = None
    if corpus and kinds:
        stats["repeated_closing"] = _closing_check(db, kinds, closings, full=uid_list is None)
    stats["by_check"] = dict(stats["by_check"])
    stats["seconds"] = round(time.perf_counter() - started, 3)
    return stats


_NEW_ROWS_SQL = "SELECT uid, rowid FROM samples WHERE kind = ? AND rowid > ? ORDER BY rowid"
_LAST_TURN_SQL = (
    "SELECT uid, json_extract(dialogue, '$.turns[#-1]'), json_array_length(dialogue, '$.turns') FROM samples WHERE uid IN ({})"
)


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

    def set(self, uid: str, line: str, turn: int) -> None:
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
                self.set(uid, final_closing([json.loads(last)]) if last else "", (n or 0) - 1)
        if new:
            for part in _chunks(new, 500):
                for uid, text in db.execute(
                    f"SELECT r.uid, r.dialogue FROM revisions r JOIN (SELECT uid, MAX(id) AS id FROM revisions "
                    f"WHERE uid IN ({','.join('?' * len(part))}) GROUP BY uid) m ON m.id = r.id",
                    part,
                ):
                    turns = json.loads(text).get("turns") or []
                    self.set(uid, final_closing(turns), len(turns) - 1)

    def flagged(self) -> dict[str, tuple[str, int, int]]:
        """uid → (line, samples with it, samples in total), by :data:`checks.corpus.CLOSING_MIN_SHARE`."""
        from .checks import corpus as cc

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
        index.set(uid, final_closing(turns), len(turns) - 1)
    return index.flagged()


_CLOSING_INDEXES: dict[tuple, _ClosingIndex] = {}
_CLOSING_LOCK = threading.Lock()  # Streamlit runs sessions in threads


def _db_key(db: sqlite_utils.Database, kind: str) -> tuple:
    path = db.execute("PRAGMA database_list").fetchone()[2]
    return (path or id(db.conn), kind)


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
                index.set(uid, line, turn)
            index.rowid = db.execute("SELECT COALESCE(MAX(rowid), 0) FROM samples WHERE kind = ?", [kind]).fetchone()[0]
        else:
            index.catch_up(db, kind, set(mine))
            for uid, (line, turn) in mine.items():
                index.set(uid, line, turn)
            if len(index.entry) != db.execute("SELECT COUNT(*) FROM samples WHERE kind = ?", [kind]).fetchone()[0]:
                index = _CLOSING_INDEXES[key] = _ClosingIndex()  # samples deleted or the file replaced: start over
                index.catch_up(db, kind, set())
        hot = index.flagged()
        existing = {
            (u, t, m)
            for u, t, m in db.execute(
                "SELECT f.uid, f.turn, f.message FROM findings f JOIN samples s ON s.uid = f.uid "
                "WHERE f.check_id = 'repeated_closing' AND s.kind = ?",
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
                    db.execute(
                        f"DELETE FROM findings WHERE check_id = 'repeated_closing' AND uid IN ({','.join('?' * len(part))})", part
                    )
                _replace_findings(db, [r[0] for r in fresh], CLOSING, fresh)
        flagged_total += len(hot)
    return flagged_total


# ----------------------------------------------------------------------------- the whole gate


def run_gate(
    db: sqlite_utils.Database,
    *,
    workers: int = 1,
    duplicates: bool = True,
    decontamination: bool = True,
) -> dict:
    """Run the whole quality gate on every stored sample, in the order publishing relies on.

    Steps: :func:`check_samples` (every per-dialogue check and the repeated-closing-line check),
    then, unless switched off, :func:`find_duplicates` (within the training set) and
    :func:`decontaminate` (training samples against the gold set). Each step replaces only its own
    findings, so the gate can be re-run at any time (``python -m datagen.validate`` calls this).

    Args:
        workers: processes for the per-dialogue checks (≥ 1).
        duplicates / decontamination: run those steps (default both).

    Returns:
        ``{"checks": <check_samples result>, "duplicates": <find_duplicates result>,
        "decontamination": <decontaminate result>, "errors": <samples with an error-level finding>}``;
        a skipped step's key is absent.

    Raises:
        InputError: ``workers`` < 1.
    """
    if workers < 1:
        raise InputError("workers는 1 이상이어야 합니다")
    summary: dict[str, Any] = {"checks": check_samples(db, workers=workers)}
    if duplicates:
        summary["duplicates"] = find_duplicates(db)
    if decontamination:
        summary["decontamination"] = decontaminate(db)
    summary["errors"] = len(uids_with_errors(db))
    return summary


# ----------------------------------------------------------------------------- reading findings

_SEVERITY_ORDER = "CASE severity WHEN 'error' THEN 0 ELSE 1 END"


def findings_for(db: sqlite_utils.Database, uid: str) -> list[dict]:
    """The stored findings of one sample, rule checks' and judge models' alike.

    Returns:
        ``[{"id", "uid", "check_id", "title", "severity", "turn", "reason", "message", "created_at",
        "source"}]`` ordered by turn (findings about the whole dialogue, ``turn`` None, last), errors
        before warnings, rule findings before a judge's, then id. ``title`` is the check's short
        Korean name (:data:`JUDGE_TITLE` and the model for a judge's). ``source``: ``rule`` or
        ``judge:<model>``. ``[]`` for an unknown uid.
    """
    out = []
    for r in db.query(
        f"SELECT id, uid, check_id, severity, turn, reason, message, created_at, source FROM findings WHERE uid = ? "
        f"ORDER BY turn IS NULL, turn, {_SEVERITY_ORDER}, source != 'rule', id",
        [uid],
    ):
        spec = CHECKS.get(r["check_id"])
        if r["source"] != RULE_SOURCE:
            title = f"{JUDGE_TITLE} {r['source'].partition(':')[2]}"
        else:
            title = spec.title if spec else r["check_id"]
        out.append({**r, "title": title})
    return out


def findings_by_uid(db: sqlite_utils.Database) -> Iterator[tuple[str, list[dict]]]:
    """Every sample's stored findings, in sample insertion order (samples without one included).

    Yields:
        ``(uid, [{"check", "severity", "turn", "reason", "message"}])``, findings ordered by turn
        (whole-dialogue findings, ``turn`` None, last), errors before warnings, then id.
    """
    by_uid: dict[str, list[dict]] = {}
    for uid, check_id, severity, turn, reason, message in db.execute(
        f"SELECT uid, check_id, severity, turn, reason, message FROM findings ORDER BY uid, turn IS NULL, turn, {_SEVERITY_ORDER}, id"
    ):
        by_uid.setdefault(uid, []).append({"check": check_id, "severity": severity, "turn": turn, "reason": reason, "message": message})
    for (uid,) in db.execute("SELECT uid FROM samples ORDER BY rowid"):
        yield uid, by_uid.get(uid, [])


def finding_counts(db: sqlite_utils.Database, *, severity: str | None = None) -> dict[str, int]:
    """``{check_id: samples having at least one finding of it}`` (optionally one severity), in
    registry order; checks with no finding are left out."""
    sql = "SELECT check_id, COUNT(DISTINCT uid) FROM findings" + (" WHERE severity = ?" if severity else "") + " GROUP BY check_id"
    counts = dict(db.execute(sql, [severity] if severity else []).fetchall())
    order = {c: n for n, c in enumerate(CHECKS)}
    return {c: counts[c] for c in sorted(counts, key=lambda c: order.get(c, len(order)))}


def uids_with_errors(db: sqlite_utils.Database) -> set[str]:
    """uids of samples having at least one error-level finding."""
    return {u for (u,) in db.execute("SELECT DISTINCT uid FROM findings WHERE severity = 'error'")}


def uids_with_findings(db: sqlite_utils.Database, check_ids: Iterable[str] | None = None, *, severity: str | None = None) -> set[str]:
    """uids having a finding of any of ``check_ids`` (default: any check), optionally of one severity
    (for Review filters)."""
    clauses, params = [], []
    ids = list(check_ids) if check_ids is not None else None
    if ids is not None:
        if not ids:
            return set()
        clauses.append(f"check_id IN ({','.join('?' * len(ids))})")
        params += ids
    if severity:
        clauses.append("severity = ?")
        params.append(severity)
    sql = "SELECT DISTINCT uid FROM findings" + (" WHERE " + " AND ".join(clauses) if clauses else "")
    return {u for (u,) in db.execute(sql, params)}


def latest_error_at(db: sqlite_utils.Database) -> dict[str, str]:
    """``{uid: created_at of its newest error-level finding}``: a sample may be published only if
    a person accepted it after that time (the finding was on screen when they decided)."""
    return dict(db.execute("SELECT uid, MAX(created_at) FROM findings WHERE severity = 'error' GROUP BY uid").fetchall())


def excluded_uids(db: sqlite_utils.Database) -> set[str]:
    """uids whose overlap with a gold item is above the exclusion threshold: never published."""
    return {u for (u,) in db.execute("SELECT DISTINCT uid FROM contamination WHERE band = 'excluded'")}


# ----------------------------------------------------------------------------- text for duplicates

def dialogue_text(data: dict) -> str:
    """What makes a dialogue the same as another: customer and assistant text and the tool calls
    (name and canonical arguments), one line per turn; tool responses are left out (they are long
    JSON that two different conversations can share)."""
    lines = []
    for t in data.get("turns") or []:
        role = t.get("role")
        if role == "tool":
            continue
        if t.get("content"):
            lines.append(f"{role}: {t['content']}")
        for c in t.get("tool_calls") or []:
            lines.append(f"call: {c.get('name')} {json.dumps(c.get('arguments') or {}, ensure_ascii=False, sort_keys=True)}")
    return "\n".join(lines)


def normalise(text: str) -> str:
    """NFKC, lower case, no whitespace, punctuation or symbols (:func:`checks.text.squash`)."""
    return ctext.squash(text)


# ----------------------------------------------------------------------------- duplicates

NEAR_THRESHOLD = 0.8
NUM_PERM = 128
SHINGLE = 5
"""Near duplicates: estimated Jaccard similarity ≥ 0.8 between the sets of character 5-grams of the
normalised text (no spaces: Korean spacing varies), MinHash with 128 permutations and MinHashLSH
(datasketch). 5 characters ≈ 1–2 Korean words; 0.8 is the usual near-duplicate cut (e.g. the
MinHash deduplication of BigCode / The Stack uses 5-gram shingles and Jaccard 0.85)."""


class _UnionFind:
    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, a: int) -> int:
        while self.parent[a] != a:
            self.parent[a] = self.parent[self.parent[a]]
            a = self.parent[a]
        return a

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)  # the earliest sample represents the cluster


def find_duplicates(
    db: sqlite_utils.Database,
    *,
    kind: str = "train",
    threshold: float = NEAR_THRESHOLD,
    num_perm: int = NUM_PERM,
    shingle: int = SHINGLE,
) -> dict:
    """Find exact and near duplicates among the samples of ``kind`` and store them.

    Exact: equal :func:`normalise` (:func:`dialogue_text`). Near: MinHash LSH (datasketch) over
    character ``shingle``-grams of that normalised text, candidates kept when their estimated Jaccard
    similarity is ≥ ``threshold`` (see :data:`NEAR_THRESHOLD`). Clusters are connected components;
    the earliest sample (insertion order) represents a cluster and names it.

    Replaces, for all samples of ``kind``, the ``duplicates`` rows (one per clustered sample:
    ``uid, cluster`` = representative uid, ``kind`` exact | near, ``similarity`` to its closest
    member, 1.0 for exact) and the ``duplicate_exact`` / ``duplicate_near`` warning findings, whose
    message names the cluster.

    Returns:
        ``{"samples", "clusters", "exact": samples in exact clusters, "near": samples in near-only
        clusters, "seconds"}``.

    Raises:
        InputError: ``threshold`` not in (0, 1], ``num_perm`` < 16 or ``shingle`` < 1.
    """
    from datasketch import MinHash, MinHashLSH

    if not 0 < threshold <= 1 or num_perm < 16 or shingle < 1:
        raise InputError("threshold는 (0, 1] 안, num_perm은 16 이상, shingle은 1 이상이어야 합니다")
    started = time.perf_counter()
    uids: list[str] = []
    norm: list[str] = []
    for chunk in _sample_rows(db, None, kind):
        for uid, _, text in chunk:
            uids.append(uid)
            norm.append(normalise(dialogue_text(json.loads(text))))
    n = len(uids)
    uf = _UnionFind(n)
    exact_of: dict[str, int] = {}
    for i, s in enumerate(norm):
        key = hashlib.sha1(s.encode()).hexdigest()
        if key in exact_of:
            uf.union(exact_of[key], i)
        else:
            exact_of[key] = i
    # near: one MinHash per distinct normalised text
    firsts = sorted(exact_of.values())
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    hashes: dict[int, Any] = {}
    for i in firsts:
        s = norm[i]
        grams = {s[k : k + shingle] for k in range(max(1, len(s) - shingle + 1))}
        m = MinHash(num_perm=num_perm)
        m.update_batch([g.encode() for g in grams])
        hashes[i] = m
        lsh.insert(str(i), m, check_duplication=False)
    best: dict[int, float] = defaultdict(float)
    for i in firsts:
        for other in lsh.query(hashes[i]):
            j = int(other)
            if j == i:
                continue
            sim = hashes[i].jaccard(hashes[j])
            if sim >= threshold:
                uf.union(i, j)
                best[i] = max(best[i], sim)
                best[j] = max(best[j], sim)
    first_of = {i: exact_of[hashlib.sha1(norm[i].encode()).hexdigest()] for i in range(n)} if n else {}
    members: dict[int, list[int]] = defaultdict(list)
    for i in range(n):
        members[uf.find(i)].append(i)
    clusters = {root: idx for root, idx in members.items() if len(idx) > 1}
    dup_rows, finding_rows = [], []
    counts = {"exact": 0, "near": 0}
    for root, idx in clusters.items():
        rep = uids[root]
        counts["exact" if all(first_of[i] == first_of[root] for i in idx) else "near"] += len(idx)
        for i in idx:
            exact = first_of[i] == first_of[root]  # same normalised text as the representative
            sim = 1.0 if exact else round(best.get(first_of[i], threshold), 4)
            row_kind = "exact" if exact else "near"
            dup_rows.append((uids[i], rep, row_kind, sim))
            spec = CHECKS["duplicate_exact" if exact else "duplicate_near"]
            if i == root:
                role = "대표 샘플(남길 후보)"
            else:
                role = f"대표 샘플 {rep}의 " + ("복사본(정규화 후 동일)" if exact else f"유사본(유사도 {sim:.2f})")
            finding_rows.append((uids[i], spec.id, spec.severity, None, spec.reason, f"중복 클러스터 {rep} ({len(idx)}개): 이 샘플은 {role}입니다."))
    with write_transaction(db):
        for part in _chunks(uids, 500):
            db.execute(f"DELETE FROM duplicates WHERE uid IN ({','.join('?' * len(part))})", part)
        db.conn.executemany("INSERT INTO duplicates (uid, cluster, kind, similarity) VALUES (?, ?, ?, ?)", dup_rows)
        _replace_findings(db, uids, DUPLICATE, finding_rows)
    return {"samples": n, "clusters": len(clusters), **counts, "seconds": round(time.perf_counter() - started, 3)}


def duplicate_cluster(db: sqlite_utils.Database, uid: str) -> list[dict]:
    """All members of ``uid``'s duplicate cluster as ``[{"uid", "cluster", "kind", "similarity"}]``
    (representative first, then insertion order); ``[]`` when it is in none."""
    row = db.execute("SELECT cluster FROM duplicates WHERE uid = ?", [uid]).fetchone()
    if not row:
        return []
    return list(
        db.query(
            "SELECT d.uid, d.cluster, d.kind, d.similarity FROM duplicates d JOIN samples s ON s.uid = d.uid "
            "WHERE d.cluster = ? ORDER BY d.uid != d.cluster, s.rowid",
            [row[0]],
        )
    )


# ----------------------------------------------------------------------------- decontamination

NGRAM_WORDS = 8
NGRAM_CHARS = 8
EXCLUDE_ABOVE = 0.5
FLAG_ABOVE = 0.2
"""Decontamination thresholds.

Tülu 3 (Lambert et al. 2024, "Tülu 3: Pushing Frontiers in Open Language Model Post-Training", §2.2;
code: allenai/open-instruct ``decontamination/search.py`` ``ngram_match``): a test (gold) item is
matched by a training item when the share of the test item's tokens covered by 8-grams it shares with
the training item is > 0.5. open-instruct tokenises with spaCy (``en_core_web_lg``) and indexes only
user turns. Here: tokens are ``\\w+`` words and single punctuation marks (spaCy-like, NFKC, lower
case; spaCy's English model is not a Korean tokenizer and is not installed), n = 8, user turns only.

Korean user turns are short (often fewer than 8 words, which then have no 8-gram at all), so a
Korean-aware variant applies the same coverage rule to characters: the user text NFKC-normalised,
lower-cased, without whitespace and punctuation (Korean spacing is inconsistent), n = 8 characters
(about 2–3 Korean words).

Bands (this project's choice): coverage > 0.5 (the Tülu 3 threshold) → ``excluded`` from publishing;
coverage > 0.2 → ``flagged`` for a person (a shared request of several words, e.g. a gold turn
reused with another ending).
"""

_WORD = re.compile(r"\w+|[^\w\s]")


def word_tokens(text: str) -> list[str]:
    """Tülu 3-style tokens (see :data:`EXCLUDE_ABOVE`): words and punctuation marks, NFKC, lower case."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).lower())


def char_tokens(text: str) -> str:
    """The Korean-aware variant's tokens: characters of :func:`normalise` ``(text)``."""
    return normalise(text)


METHODS = {
    "tulu3_word8": (word_tokens, NGRAM_WORDS),
    "char8_ko": (char_tokens, NGRAM_CHARS),
}
"""Method name (stored in ``contamination.method``) → (tokenizer, n)."""


def _user_turns(text: str) -> list[str]:
    data = json.loads(text)
    return [t.get("content") or "" for t in data.get("turns") or [] if t.get("role") == "user"]


class _GoldIndex:
    """n-gram → [(gold index, start position)] over the gold items' user turns, for one method."""

    def __init__(self, method: str, golds: list[list[str]]):
        self.tokenize, self.n = METHODS[method]
        self.lengths: list[int] = []
        self.index: dict[Any, list[tuple[int, int]]] = defaultdict(list)
        for g, turns in enumerate(golds):
            offset = 0
            for turn in turns:
                toks = self.tokenize(turn)
                for k in range(len(toks) - self.n + 1):
                    self.index[self._gram(toks, k)].append((g, offset + k))
                offset += len(toks)
            self.lengths.append(offset)

    def _gram(self, toks, k: int):
        return toks[k : k + self.n] if isinstance(toks, str) else tuple(toks[k : k + self.n])

    def overlaps(self, turns: list[str]) -> dict[int, float]:
        """gold index → share of its tokens covered by n-grams shared with these training turns."""
        grams = set()
        for turn in turns:
            toks = self.tokenize(turn)
            grams.update(self._gram(toks, k) for k in range(len(toks) - self.n + 1))
        covered: dict[int, set[int]] = {}
        index = self.index
        for gram in grams:
            postings = index.get(gram)
            if postings:
                for g, start in postings:
                    covered.setdefault(g, set()).update(range(start, start + self.n))
        return {g: len(pos) / self.lengths[g] for g, pos in covered.items() if self.lengths[g]}


def decontaminate(
    db: sqlite_utils.Database,
    uids: Iterable[str] | None = None,
    *,
    exclude_above: float = EXCLUDE_ABOVE,
    flag_above: float = FLAG_ABOVE,
    methods: Sequence[str] = tuple(METHODS),
) -> dict:
    """Compare every training sample with every gold item; store overlaps above ``flag_above``.

    Rule and thresholds: :data:`EXCLUDE_ABOVE` (Tülu 3 rule on user turns, plus the Korean-aware
    character variant). ``uids``: only these training samples (e.g. the ones that just arrived;
    unknown or gold uids are ignored); default all. Replaces, for the training samples compared, their
    ``contamination`` rows and ``contamination`` / ``contamination_suspect`` findings: one ``(uid, gold_uid, method, overlap, band)`` row per pair
    and method above ``flag_above`` (band ``excluded`` above ``exclude_above``, else ``flagged``); per
    training sample one error finding ``contamination`` when any band is ``excluded`` (it is then left
    out of publishing: :func:`excluded_uids`), else one warning ``contamination_suspect``, naming the
    gold item, method and overlap.

    Returns:
        ``{"train", "gold", "pairs": rows stored, "excluded": training samples, "flagged": training
        samples flagged only, "seconds"}``.

    Raises:
        InputError: thresholds not ``0 <= flag_above < exclude_above <= 1`` or an unknown method.
    """
    if not 0 <= flag_above < exclude_above <= 1:
        raise InputError("0 <= flag_above < exclude_above <= 1이어야 합니다")
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise InputError(f"알 수 없는 방법 {', '.join(unknown)} (가능한 값: {', '.join(METHODS)})")
    started = time.perf_counter()
    gold_uids, gold_turns = [], []
    for chunk in _sample_rows(db, None, "gold"):
        for uid, _, text in chunk:
            gold_uids.append(uid)
            gold_turns.append(_user_turns(text))
    indexes = {m: _GoldIndex(m, gold_turns) for m in methods}
    rows: list[tuple] = []
    train_uids: list[str] = []
    for chunk in _sample_rows(db, None if uids is None else list(uids), None if uids is not None else "train"):
        for uid, kind, text in chunk:
            if kind != "train":
                continue
            train_uids.append(uid)
            if not gold_uids:
                continue
            turns = _user_turns(text)
            for m, index in indexes.items():
                for g, overlap in index.overlaps(turns).items():
                    if overlap > flag_above:
                        band = "excluded" if overlap > exclude_above else "flagged"
                        rows.append((uid, gold_uids[g], m, round(overlap, 4), band))
    best: dict[str, tuple] = {}
    for r in rows:
        key = (r[4] == "excluded", r[3])
        if r[0] not in best or key > (best[r[0]][4] == "excluded", best[r[0]][3]):
            best[r[0]] = r
    finding_rows = []
    for uid, gold_uid, m, overlap, band in best.values():
        spec = CHECKS["contamination" if band == "excluded" else "contamination_suspect"]
        what = "게시에서 제외됩니다" if band == "excluded" else "사람이 확인해 주세요"
        finding_rows.append(
            (uid, spec.id, spec.severity, None, spec.reason,
             f"평가셋 {gold_uid}의 고객 발화와 {overlap:.0%} 겹칩니다({m}): {what}.")
        )
    ts = now()
    with write_transaction(db):
        old: dict[tuple, str] = {}
        for part in _chunks(train_uids, 500):
            marks = ",".join("?" * len(part))
            for u, g, m, o, b, c in db.execute(
                f"SELECT uid, gold_uid, method, overlap, band, created_at FROM contamination WHERE uid IN ({marks})", part
            ):
                old[(u, g, m, o, b)] = c
            db.execute(f"DELETE FROM contamination WHERE uid IN ({marks})", part)
        db.conn.executemany(
            "INSERT INTO contamination (uid, gold_uid, method, overlap, band, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            [(*r, old.get(r, ts)) for r in rows],
        )
        _replace_findings(db, train_uids, CONTAMINATION, finding_rows)
    bands = Counter(r[4] == "excluded" for r in best.values())
    return {
        "train": len(train_uids),
        "gold": len(gold_uids),
        "pairs": len(rows),
        "excluded": bands[True],
        "flagged": bands[False],
        "seconds": round(time.perf_counter() - started, 3),
    }


def contamination_report(db: sqlite_utils.Database, *, band: str | None = None, uid: str | None = None) -> list[dict]:
    """Stored overlaps: ``[{"uid", "gold_uid", "method", "overlap", "band", "created_at"}]``, highest
    overlap first (optionally one band: ``excluded`` or ``flagged``, and / or one training sample)."""
    sql = "SELECT uid, gold_uid, method, overlap, band, created_at FROM contamination"
    clauses, params = [], []
    if band:
        clauses.append("band = ?")
        params.append(band)
    if uid:
        clauses.append("uid = ?")
        params.append(uid)
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    return list(db.query(sql + " ORDER BY overlap DESC, uid, gold_uid, method", params))
