"""Worker process pools for the CPU-bound steps (parsing and checking batch lines, re-checking samples)."""

from __future__ import annotations

import io
import multiprocessing
import os
import sys
from collections.abc import Callable
from typing import Any


def worker_pool(processes: int, initializer: Callable[[], Any] | None = None):
    """A ``fork`` pool of ``processes`` workers whose standard streams are their own.

    ``fork`` because the workers then start at once and share the parent's memory until they write
    to it (``forkserver`` and ``spawn`` import the caller's ``__main__`` again in every worker: under
    Streamlit that is the page script, which would run in each worker). ``fork()`` copies only the
    calling thread, and a lock another thread held at that moment stays held in the child (CPython's
    documentation on ``os.fork``). The Streamlit server runs several threads that write to stdout and
    stderr, and every worker flushes both as it exits: one that inherited a held stream lock would
    hang there, and the pool with it. So each worker first replaces ``sys.stdout`` and ``sys.stderr``
    with new objects on the same file descriptors. The work itself (parsing, validating, checking)
    takes no other lock a server thread holds.

    Args:
        processes: worker count (≥ 1).
        initializer: run once in each worker after its streams are replaced.

    Returns:
        A started ``multiprocessing.pool.Pool``; the caller closes and joins it.
    """
    return multiprocessing.get_context("fork").Pool(processes, initializer=_start_worker, initargs=(initializer,))


def _start_worker(initializer: Callable[[], Any] | None) -> None:
    for name in ("stdout", "stderr"):
        old = getattr(sys, name)
        try:
            fd = old.fileno()
        except (AttributeError, OSError, ValueError):  # no file behind it (a test's capture)
            continue
        stream = io.TextIOWrapper(
            io.FileIO(os.dup(fd), "w"), encoding=getattr(old, "encoding", None) or "utf-8", errors="backslashreplace", line_buffering=True
        )
        setattr(sys, name, stream)
    if initializer is not None:
        initializer()
