"""The errors datagen raises on purpose, under one base: :class:`DatagenError`.

A :class:`DatagenError` means bad input or a refused action: something the person at the keyboard
can fix (a flag, a file, a name, a role). ``str(err)`` is one line in Korean, naming the file and
line where a file is concerned (``<file>:<line>: <reason>``); the CLI prints it as
``오류: <reason>`` and exits 1 (:func:`datagen.cli.run`), the pages show it with ``st.error``.
Every other exception is a bug (or an outage: a disk, the network) and keeps its traceback: the
CLI does not turn it into a one-line message, the pages do not catch it (ARCHITECTURE.md,
"Errors and messages").

Each subclass also derives from the built-in type the code raised before the base existed
(``ValueError``, ``RuntimeError``, ``PermissionError``, ``FileNotFoundError``), so a caller that
caught that type keeps working. Errors that mean "the calling code is wrong" (a misspelled role
name in code, a check registered twice, a broken invariant) stay plain ``ValueError`` /
``TypeError`` / ``RuntimeError``: they are bugs, not user errors.

This module is in the bottom layer: it imports nothing from datagen.
"""

from __future__ import annotations


class DatagenError(Exception):
    """Bad input or a refused action; ``str(err)`` is one Korean line for the person who can fix it."""


class InputError(DatagenError, ValueError):
    """A value given to datagen is not acceptable: an argument, a CLI flag, an environment setting,
    or a file's content (then the message starts with ``<file>:<line>:``)."""


class MissingFileError(DatagenError, FileNotFoundError):
    """A file named by the user does not exist; the message starts with its path."""
