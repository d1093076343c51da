"""Shared plumbing for the ``python -m datagen.<step>`` commands.

Each step parses its arguments, calls one library function and turns library errors into a clean
one-line message and exit status 1 (the sqlite-utils ``cli.py`` pattern, DESIGN.md).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Callable

from . import settings
from .auth import PermissionDenied
from .batches import BatchError
from .dialogue import FormatError
from .publish import PublishError
from .review import ReviewError

# Errors a user can fix; anything else is a bug and keeps its traceback.
USER_ERRORS = (BatchError, FormatError, PublishError, ReviewError, PermissionDenied, ValueError, OSError)


def parser(prog: str, description: str, example: str) -> argparse.ArgumentParser:
    """An ArgumentParser whose help ends with a runnable example."""
    return argparse.ArgumentParser(
        prog=f"python -m datagen.{prog}",
        description=description,
        epilog=f"example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def add_operator(ap: argparse.ArgumentParser) -> None:
    """``--operator NAME``: who the CLI acts as (default ``DATAGEN_OPERATOR``); recorded, and checked
    against the roles when roles are in force (datagen.auth)."""
    ap.add_argument("--operator", default=None, help="acting identity (default: $DATAGEN_OPERATOR)")


def announce_backend() -> None:
    """Say on stderr which batch backend is active (plainly, when it is the offline one)."""
    if settings.backend_name() == "offline":
        print(f"[offline] {settings.offline_notice()}", file=sys.stderr)
    else:
        print("[openai] OpenAI Batch API (OPENAI_BASE_URL가 있으면 그 서버) 사용", file=sys.stderr)


def configure_logging() -> None:
    """The library's log lines (``datagen.batches`` retries, ``datagen.ingest`` lines that failed
    unexpectedly, ``datagen.publish`` pushes) on stderr, at ``DATAGEN_LOG_LEVEL`` (default WARNING;
    INFO shows every push and every batch create found again after a lost answer).

    Raises:
        ValueError: ``DATAGEN_LOG_LEVEL`` is not a logging level name.
    """
    name = os.environ.get("DATAGEN_LOG_LEVEL", "WARNING").strip().upper()
    if name not in logging.getLevelNamesMapping():
        raise ValueError(f"DATAGEN_LOG_LEVEL={name!r} is not a level (DEBUG, INFO, WARNING, ERROR)")
    logging.basicConfig(level=name, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def run(main: Callable[[list[str] | None], int], argv: list[str] | None = None) -> int:
    """Run a step's ``main``; a user error becomes ``error: <reason>`` on stderr and exit 1."""
    try:
        configure_logging()
        return main(argv)
    except USER_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
