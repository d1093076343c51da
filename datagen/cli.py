"""Shared plumbing for the ``python -m datagen.<step>`` commands.

Each step parses its arguments, calls one library function and turns the library's user errors
(:class:`datagen.errors.DatagenError`) into a clean one-line Korean message and exit status 1 (the
sqlite-utils ``cli.py`` pattern, ARCHITECTURE.md, "Errors and messages"). Any other exception is a
bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import unicodedata
from collections.abc import Callable

from . import settings
from .errors import DatagenError, InputError


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


def pad(text: str, width: int, *, right: bool = False) -> str:
    """``text`` padded with spaces to ``width`` terminal columns (a Hangul syllable or other East
    Asian wide character takes two: Unicode UAX #11 ``W``/``F``), for the CLI's Korean table headers."""
    cols = sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)
    fill = " " * max(0, width - cols)
    return fill + text if right else text + fill


def announce_backend() -> None:
    """Say on stderr which batch backend is active (plainly, when it is the offline one)."""
    if settings.backend_name() == "offline":
        print(f"[offline] {settings.offline_notice()}", file=sys.stderr)
    else:
        print("[openai] OpenAI Batch API 사용 (OPENAI_BASE_URL이 있으면 그 서버)", file=sys.stderr)


def configure_logging() -> None:
    """The library's log lines (``datagen.batches`` retries, ``datagen.ingest`` lines that failed
    unexpectedly, ``datagen.publish`` pushes) on stderr, at ``DATAGEN_LOG_LEVEL`` (default WARNING;
    INFO shows every push and every batch create found again after a lost answer).

    Raises:
        InputError: ``DATAGEN_LOG_LEVEL`` is not a logging level name.
    """
    name = os.environ.get("DATAGEN_LOG_LEVEL", "WARNING").strip().upper()
    if name not in logging.getLevelNamesMapping():
        raise InputError(f"DATAGEN_LOG_LEVEL={name!r}은(는) 로그 수준이 아닙니다 (DEBUG, INFO, WARNING, ERROR 중 하나)")
    logging.basicConfig(level=name, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def run(main: Callable[[list[str] | None], int], argv: list[str] | None = None) -> int:
    """Run a step's ``main`` and return its exit status.

    A :class:`~datagen.errors.DatagenError` (bad input, a refused action) becomes one line
    ``오류: <reason>`` on stderr and exit status 1; Ctrl+C gives ``중단됨`` and 130; a reader that
    stopped reading (``| head``) ends the step quietly with status 1 (the Python docs' recipe for
    SIGPIPE); argparse's usage errors keep argparse's message and status 2. Every other exception
    is a bug (or an outage) and propagates with its traceback (Python exits 1): a ``ValueError`` or
    ``KeyError`` from a mistake in the code must not pass for a user error.
    """
    try:
        configure_logging()
        return main(argv)
    except DatagenError as exc:
        print(f"오류: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("중단됨", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # stdout's reader is gone: point stdout at devnull so the interpreter's final flush does
        # not fail again (https://docs.python.org/3/library/signal.html#note-on-sigpipe)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
