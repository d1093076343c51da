"""Writing a release's rows: parquet shards, in worker processes for large sets.

A split is cut into ⌈n / :data:`SHARD_ROWS`⌉ shards of near-equal size named
``data/{split}-{i:05d}-of-{n:05d}.parquet`` (:func:`_shard_tasks`). Each shard task hashes its
records (:func:`datagen.publish.rows._digest`) and, with a folder, renders and writes them
(:func:`_run_shard`). Exports of at least :data:`PARALLEL_MIN_ROWS` rows run the tasks in child
processes (``python -m datagen.publish``, :func:`_run_workers`, :func:`_worker_main`): tasks and
results are plain picklable data (:class:`_ShardTask`, :class:`_ShardResult`).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from ..dialogue import Dialogue
from .rows import _digest, _floats_drift, _storage_schema, _tools_columns, features, to_row
from .rules import PublishError, _dialogues, _fetch, _State

SHARD_ROWS = 50_000
"""Rows per parquet shard (issue "Publishing": ≤ 50,000; a split of 120,000 rows gives 3 shards)."""


PARALLEL_MIN_ROWS = 20_000
"""Exports of at least this many rows write their shards in worker processes (one per core)."""

PREVIEW_ROWS = 20


@dataclass
class _ShardTask:
    """One parquet shard to write (or, without ``folder``, only to hash): plain data, picklable."""

    db_path: str
    fmt: str
    split: str
    index: int
    n_shards: int
    states: list[_State]
    folder: str | None
    preview: int


@dataclass
class _ShardResult:
    digests: list[str]  # aligned with the task's states
    preview: list[dict]
    float_drift: list[str]
    file: str | None


def _preview_row(split: str, d: Dialogue, edited: bool) -> dict:
    first_user = next((t.content for t in d.turns if t.role == "user"), "")
    return {
        "uid": d.uid,
        "split": split,
        "category": d.category,
        "turns": len(d.turns),
        "tool_calls": len(d.tool_calls()),
        "edited": edited,
        "first_user_turn": first_user[:80],
    }


def _run_shard(task: _ShardTask, db: sqlite_utils.Database | None = None) -> _ShardResult:
    """Hash the task's records and, with a folder, render and write them as one parquet shard.

    The same function runs in-process and in worker processes (then opening its own connection).
    """
    if db is None:
        from ..store import connect

        db = connect(task.db_path)
    digests: list[str] = []
    preview: list[dict] = []
    drift: list[str] = []
    if task.folder is None:  # hash only (what the Publish page needs); render just the preview rows
        by_uid = {st.uid: st for st in task.states}
        for uid, _, text in _fetch(db, [st.uid for st in task.states]):
            digests.append(_digest(task.fmt, by_uid[uid], text))
        for st, d, _, _ in _dialogues(db, task.states[: task.preview]):
            preview.append(_preview_row(task.split, d, st.revision_id is not None))
        return _ShardResult(digests, preview, drift, None)
    import gc

    gc_enabled = gc.isenabled()
    gc.disable()  # ~40 objects per row and no cycles: the collector's passes cost a third of the time
    try:
        return _write_shard(task, db, digests, preview, drift)
    finally:
        if gc_enabled:
            gc.enable()


def _write_shard(task: _ShardTask, db: sqlite_utils.Database, digests: list, preview: list, drift: list) -> _ShardResult:
    import pyarrow as pa
    from datasets.arrow_writer import ParquetWriter

    rows: list[dict] = []
    tool_values: list[Any] = []  # distinct tools column values
    tool_index: dict[bytes, int] = {}  # shared tool list's key → index into tool_values
    tool_rows: list[int] = []
    for st, d, text, key in _dialogues(db, task.states):
        digests.append(_digest(task.fmt, st, text))
        k = tool_index.get(key) if key is not None else None
        if k is None:
            k = len(tool_values)
            tool_values.append(_tools_columns(d.tools, task.fmt))
            if key is not None:
                tool_index[key] = k
        row = to_row(d, task.fmt, job_id=st.job_id, _tools=tool_values[k])
        del row["tools"]
        rows.append(row)
        tool_rows.append(k)
        if len(preview) < task.preview:
            preview.append(_preview_row(task.split, d, st.revision_id is not None))
        if task.fmt == "openai" and any(_floats_drift(c.arguments) for _, c in d.tool_calls()):
            drift.append(d.uid)
    # The tools column is the same value for most rows: convert the distinct values once and let
    # Arrow repeat them (a per-row conversion of ~7 KB each was a third of the export time).
    storage = _storage_schema(task.fmt)
    pos = storage.get_field_index("tools")
    table = pa.Table.from_pylist(rows, schema=storage.remove(pos))
    distinct = pa.array(tool_values, type=storage.field("tools").type)
    table = table.add_column(pos, storage.field("tools"), distinct.take(pa.array(tool_rows, pa.int32())))
    feats = features(task.fmt)
    table = table.cast(feats.arrow_schema)
    del rows
    name = f"data/{task.split}-{task.index:05d}-of-{task.n_shards:05d}.parquet"
    assert task.folder is not None  # _run_shard hashes only when there is no folder
    writer = ParquetWriter(path=str(Path(task.folder) / name), features=feats)
    writer.write_table(table)
    writer.finalize()
    return _ShardResult(digests, preview, drift, name)


def _db_path(db: sqlite_utils.Database) -> str:
    return next(r[2] for r in db.execute("PRAGMA database_list") if r[1] == "main")


def _shard_tasks(db: sqlite_utils.Database, fmt: str, by_split: dict[str, list[_State]], folder: Path | None) -> list[_ShardTask]:
    """Split each split's records into ⌈n / SHARD_ROWS⌉ shards of near-equal size (order kept)."""
    tasks = []
    for split, states in by_split.items():
        n = max(1, math.ceil(len(states) / SHARD_ROWS))
        size = math.ceil(len(states) / n)
        for i in range(n):
            part = states[i * size : (i + 1) * size]
            tasks.append(_ShardTask(_db_path(db), fmt, split, i, n, part, str(folder) if folder else None, PREVIEW_ROWS if i == 0 else 0))
    return tasks


def _run_tasks(db: sqlite_utils.Database, tasks: list[_ShardTask]) -> list[_ShardResult]:
    """Run the shard tasks: in worker processes (one per core, :func:`_run_workers`) when writing at
    least :data:`PARALLEL_MIN_ROWS` rows in more than one shard, else in this process."""
    total = sum(len(t.states) for t in tasks)
    workers = min(os.cpu_count() or 1, len(tasks))
    if workers > 1 and total >= PARALLEL_MIN_ROWS and all(t.folder for t in tasks):
        return _run_workers(tasks, workers)
    return [_run_shard(t, db) for t in tasks]


def _run_workers(tasks: list[_ShardTask], workers: int) -> list[_ShardResult]:
    """Run the tasks in ``workers`` child processes (``python -m datagen.publish TASKS RESULTS``).

    Plain child processes rather than ``multiprocessing``: its ``spawn`` re-runs the caller's main
    script in each child (harmful in any script without a ``__main__`` guard) and ``fork`` copies open
    SQLite connections and Streamlit's threads. Tasks are balanced by row count; each child opens
    its own read connection.

    Raises:
        PublishError: a worker failed (its last error line is given).
    """
    import pickle
    import subprocess
    import sys
    import tempfile

    groups: list[list[int]] = [[] for _ in range(workers)]
    load = [0] * workers
    for i in sorted(range(len(tasks)), key=lambda i: -len(tasks[i].states)):
        w = load.index(min(load))
        groups[w].append(i)
        load[w] += len(tasks[i].states)
    paths = [str(Path(__file__).resolve().parents[2]), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths))
    results: list[_ShardResult | None] = [None] * len(tasks)
    with tempfile.TemporaryDirectory(prefix="datagen-publish-") as tmp:
        procs = []
        for w, group in enumerate(g for g in groups if g):
            src, dst = Path(tmp) / f"tasks-{w}.pkl", Path(tmp) / f"results-{w}.pkl"
            src.write_bytes(pickle.dumps([tasks[i] for i in group]))
            proc = subprocess.Popen([sys.executable, "-m", "datagen.publish", str(src), str(dst)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            procs.append((group, dst, proc))
        for group, dst, proc in procs:
            _, err = proc.communicate()
            if proc.returncode != 0:
                lines = [line for line in err.decode("utf-8", "replace").splitlines() if line.strip()]
                raise PublishError(f"내보내기 작업 프로세스가 실패했습니다: {lines[-1] if lines else proc.returncode}")
            for i, res in zip(group, pickle.loads(dst.read_bytes())):
                results[i] = res
    return results  # type: ignore[return-value]


def _worker_main(argv: list[str]) -> int:
    """Child process of :func:`_run_workers`: run the pickled shard tasks, pickle the results."""
    import pickle

    tasks = pickle.loads(Path(argv[0]).read_bytes())
    Path(argv[1]).write_bytes(pickle.dumps([_run_shard(t) for t in tasks]))
    return 0
