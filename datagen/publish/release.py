"""A release: the record set that ships now, its hashes, diff and card; writing and recording it.

A release (:func:`prepare`) is the shipping set with a hash per row (of the stored record and what
the row is made from, :func:`datagen.publish.rows._digest`: no rendering needed, so the page can show
it at 100,000 records), the record-set hash, the difference from the previous publish (added /
removed / changed rows) and the card. Written out (:func:`write_release`, :func:`export_local`), it
is parquet shards (:mod:`datagen.publish.shards`) and ``README.md``; every publish, local or Hub, is
recorded (``publishes``, ``publish_items``; :func:`_record_publish`).
"""

from __future__ import annotations

import hashlib
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from .. import settings
from ..store import dumps, now, write_transaction
from .card import dataset_card
from .history import ROW_HASH_CHARS, Diff, _diff, _next_version, previous_publish
from .rows import _check_format
from .rules import _AFTER_ACCEPT, LEFT_OUT, SHIPS, PublishError, _State, _states
from .shards import _run_tasks, _shard_tasks


@dataclass
class Release:
    """One publishable record set and its card (from :func:`prepare`).

    Attributes:
        fmt / repo_id: the format and target repo (``""`` for a local export).
        selection: the ``uids`` it was limited to (``None``: every sample).
        status: uid → ``"ships"`` or the reason it is left out, for every sample considered.
        missing: requested uids (``uids=``) that are not in the database.
        splits: split → uids shipped, in order. counts: split → rows. categories: ``(split, category)`` → rows.
        row_hashes: uid → row hash (:data:`ROW_HASH_CHARS` hex). record_hash: SHA-256 of the record set.
        version / tag: the Hub version this would become (``v{n}``), ``None`` for local exports.
        diff: against the previous publish (:func:`previous_publish`).
        jobs / models: job id → rows, model → rows. edited: rows that ship an edit.
        float_drift: uids with a float argument ``datasets`` decodes inexactly (``openai`` format;
            known once the rows are rendered, i.e. after writing).
        preview: up to 20 rows per split for display (uid, split, category, turns, calls, first user turn).
        card: README.md text. path / shards: the folder and shard files written (when written).
        revision / publish_id / skipped / tag_error: filled by :func:`publish_to_hub` / :func:`export_and_record`.
    """

    fmt: str
    repo_id: str
    selection: frozenset[str] | None
    status: dict[str, str]
    missing: list[str]
    splits: dict[str, list[str]]
    categories: Counter
    row_hashes: dict[str, str]
    record_hash: str
    version: int | None
    tag: str | None
    diff: Diff
    jobs: Counter
    models: Counter
    edited: int
    float_drift: list[str]
    preview: list[dict]
    card: str = ""
    path: str | None = None
    shards: list[str] = field(default_factory=list)
    revision: str | None = None
    publish_id: int | None = None
    skipped: bool = False
    tag_error: str | None = None

    @property
    def counts(self) -> dict[str, int]:
        """Rows per split, e.g. ``{"train": 120, "test": 20}`` (splits without rows omitted)."""
        return {s: len(u) for s, u in self.splits.items()}

    @property
    def total(self) -> int:
        return sum(len(u) for u in self.splits.values())

    def left_out(self) -> Counter:
        """Reason → samples left out (only reasons that occur), in :data:`LEFT_OUT` order."""
        c = Counter(s for s in self.status.values() if s != SHIPS)
        return Counter({r: c[r] for r in LEFT_OUT if c[r]})


def prepare(
    db: sqlite_utils.Database,
    *,
    fmt: str = "qwen",
    repo_id: str = "",
    uids: set[str] | None = None,
    folder: str | Path | None = None,
) -> Release:
    """Build the release that would ship now; write the folder too when ``folder`` is given.

    Without a folder the records are only hashed (the stored text, see :func:`_digest`), not
    rendered: that is what the Publish page shows, and the card is the same either way.

    Args:
        fmt: ``qwen`` or ``openai`` (:data:`FORMATS`).
        repo_id: the Hub repo it is for (version number, diff base, card title); ``""`` = local export.
        uids: only these samples (``push_to_hub --input``); the rules still apply to each.
        folder: write ``data/{split}-{i:05d}-of-{n:05d}.parquet`` shards and ``README.md`` here
            (the folder is replaced).

    Returns:
        a :class:`Release` (shipped uids per split, left-out reasons, hashes, diff, card, files).

    Raises:
        PublishError: unknown format, or nothing ships (the message says why records are left out).
    """
    _check_format(fmt)
    states = _states(db)
    if uids is not None:
        states = [st for st in states if st.uid in uids]
    status = {st.uid: st.status for st in states}
    missing = sorted(uids - status.keys()) if uids is not None else []
    by_split: dict[str, list[_State]] = {}
    for st in states:
        if st.status == SHIPS:
            by_split.setdefault(st.split, []).append(st)
    if not by_split:
        left = Counter(status.values())
        why = ", ".join(f"{LEFT_OUT[r]} {left[r]}" for r in LEFT_OUT if left[r])
        if any(left[r] for r in _AFTER_ACCEPT):
            raise PublishError(f"게시할 레코드가 없습니다: 승인된 레코드가 모두 제외 규칙에 걸렸습니다 ({why}).")
        raise PublishError("승인된 레코드가 없습니다: 검토 화면에서 먼저 승인하세요." + (f" ({why})" if why else ""))
    by_split = dict(sorted(by_split.items(), key=lambda kv: kv[0] != "train"))  # train first
    out = Path(folder) if folder is not None else None
    if out is not None:
        if out.exists():
            shutil.rmtree(out)
        (out / "data").mkdir(parents=True)
    tasks = _shard_tasks(db, fmt, by_split, out)
    results = _run_tasks(db, tasks)
    row_hashes: dict[str, str] = {}
    full: list[str] = []
    preview: list[dict] = []
    drift: list[str] = []
    for task, res in zip(tasks, results):
        for st, digest in zip(task.states, res.digests):
            row_hashes[st.uid] = digest[:ROW_HASH_CHARS]
            full.append(f"{task.split}\t{st.uid}\t{digest}")
        preview += res.preview
        drift += res.float_drift
    if len(full) != sum(len(v) for v in by_split.values()):
        raise PublishError("게시 대상 일부를 읽지 못했습니다 (그사이 삭제됨). 다시 시도하세요.")
    full.sort()
    shipped = [st for v in by_split.values() for st in v]
    version = _next_version(db, repo_id)
    release = Release(
        fmt=fmt,
        repo_id=repo_id,
        selection=frozenset(uids) if uids is not None else None,
        status=status,
        missing=missing,
        splits={s: [st.uid for st in v] for s, v in by_split.items()},
        categories=Counter((st.split, st.category) for st in shipped),
        row_hashes=row_hashes,
        record_hash=hashlib.sha256("\n".join(full).encode()).hexdigest(),
        version=version,
        tag=f"v{version}" if version else None,
        diff=_diff(db, previous_publish(db, repo_id), {s: [st.uid for st in v] for s, v in by_split.items()}, row_hashes, status, uids),
        jobs=Counter(st.job_id for st in shipped),
        models=Counter(st.model or "unknown" for st in shipped),
        edited=sum(st.revision_id is not None for st in shipped),
        float_drift=drift,
        preview=preview,
        path=str(out) if out is not None else None,
        shards=sorted(r.file for r in results if r.file),
    )
    release.card = dataset_card(db, release)
    if out is not None:
        (out / "README.md").write_text(release.card, encoding="utf-8")
    return release


def write_release(db: sqlite_utils.Database, release: Release, folder: str | Path) -> Release:
    """Write a prepared release to ``folder`` (shards + the release's own card as README.md).

    The rows are read again; the folder is kept only if they still hash to
    ``release.record_hash`` — what was shown is what is written.

    Returns:
        the release, with ``path``, ``shards`` and ``float_drift`` set.

    Raises:
        PublishError: the records changed since the release was prepared.
    """
    selected = set(release.selection) if release.selection is not None else None
    fresh = prepare(db, fmt=release.fmt, repo_id=release.repo_id, uids=selected, folder=folder)
    if fresh.record_hash != release.record_hash:
        shutil.rmtree(folder, ignore_errors=True)
        raise PublishError("게시 대상이 바뀌었습니다 (그사이 검토 결과가 달라졌습니다). 화면을 다시 확인한 뒤 게시하세요.")
    (Path(folder) / "README.md").write_text(release.card, encoding="utf-8")
    release.path, release.shards, release.float_drift = fresh.path, fresh.shards, fresh.float_drift
    return release


def default_export_dir() -> Path:
    """``<output dir>/export``."""
    return settings.output_dir() / "export"


def export_local(
    db: sqlite_utils.Database,
    folder: str | Path | None = None,
    *,
    fmt: str = "qwen",
    repo_id: str = "",
    uids: set[str] | None = None,
) -> Release:
    """Write the dataset folder (``data/{split}-{i:05d}-of-{n:05d}.parquet`` + ``README.md``); it loads
    with ``datasets.load_dataset(folder)`` and is exactly what :func:`publish_to_hub` uploads.

    Args:
        folder: target folder, replaced if it exists (default ``<output dir>/export``).

    Raises:
        PublishError: unknown format or nothing ships.
    """
    return prepare(db, fmt=fmt, repo_id=repo_id, uids=uids, folder=folder or default_export_dir())


def _record_publish(db: sqlite_utils.Database, release: Release, *, target: str, revision: str, operator: str) -> int:
    """Append the ``publishes`` row and one ``publish_items`` row per shipped record; returns the id.

    ``publishes.counts`` (JSON): ``{"splits": {split: n}, "tag", "version", "left_out": {reason: n},
    "row_hashes": {uid: hash}}`` — the row hashes let the next publish tell changed records.
    """
    counts = {
        "splits": release.counts,
        "tag": release.tag if target == "hub" else None,
        "version": release.version if target == "hub" else None,
        "left_out": dict(release.left_out()),
        "row_hashes": release.row_hashes,
    }
    with write_transaction(db):
        pid = (
            db.table("publishes")
            .insert(
                {
                    "target": target,
                    "repo_id": release.repo_id,
                    "revision": revision,
                    "record_hash": release.record_hash,
                    "format": release.fmt,
                    "counts": dumps(counts),
                    "card": release.card,
                    "path": release.path,
                    "created_at": now(),
                    "operator": operator,
                }
            )
            .last_pk
        )
        db.conn.executemany(
            "INSERT INTO publish_items (publish_id, uid, split) VALUES (?, ?, ?)",
            ((pid, uid, split) for split, us in release.splits.items() for uid in us),
        )
    assert pid is not None  # an INSERT's rowid
    return pid


def export_and_record(
    db: sqlite_utils.Database,
    folder: str | Path | None = None,
    *,
    fmt: str = "qwen",
    operator: str = "local",
    uids: set[str] | None = None,
    repo_id: str = "",
    release: Release | None = None,
) -> Release:
    """:func:`export_local` (or :func:`write_release` of a prepared ``release``) and record it as a
    ``local`` publish; returns the release with ``publish_id``.

    Raises:
        PublishError: unknown format, nothing ships, or the records changed since ``release``.
    """
    folder = folder or default_export_dir()
    if release is not None:
        release = write_release(db, release, folder)
    else:
        release = export_local(db, folder, fmt=fmt, repo_id=repo_id, uids=uids)
    release.publish_id = _record_publish(db, release, target="local", revision="", operator=operator)
    return release
