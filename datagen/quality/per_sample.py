"""The per-dialogue checks run over stored samples, their results stored as findings.

:func:`check_samples` reads samples (their latest edit: :mod:`datagen.quality.samples`) ``samples.CHUNK``
at a time, runs every per-dialogue check (:mod:`datagen.checks`; in worker processes when asked),
replaces those samples' per-dialogue findings (:data:`PER_SAMPLE`) and sets ``sample_state.checked_at``,
then recomputes the corpus-level ``repeated_closing`` (:mod:`datagen.quality.closing`). Ingest uses
the pieces (:func:`check_record`, :func:`new_check_stats`, :func:`store_check_results`,
:func:`~datagen.quality.closing.closing_check`) on the dialogues it holds already.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

import sqlite_utils

from .. import checks
from ..checks.core import run_view
from ..checks.corpus import final_closing
from ..store import insert_values, now, write_transaction
from .closing import _closing_check
from .findings import FINDINGS_INSERT_SQL, _replace_findings, _rows
from .samples import _chunks, _sample_rows

PER_SAMPLE = checks.PER_DIALOGUE
"""The check ids :func:`check_samples` / :func:`store_check_results` replace: every per-dialogue check."""


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
        insert_values(db, FINDINGS_INSERT_SQL, [(*r, ts) for r in rows])
        return
    _replace_findings(db, uids, PER_SAMPLE, rows)
    ts = now()
    for part in _chunks(uids, 500):
        db.execute(f"UPDATE sample_state SET checked_at = ? WHERE uid IN ({','.join('?' * len(part))})", [ts, *part])


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
        from ..pools import worker_pool

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
