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

Modules, each importing only those above it (``tests/test_layers.py``):

- ``samples``: reading stored samples in chunks, their latest edit applied;
- ``findings``: the ``findings`` table: replacing rule findings (a judge's are never touched),
  reading findings back (per sample, counts, uids with errors, latest error time);
- ``closing``: the corpus-level ``repeated_closing`` check and its per-process index;
- ``per_sample``: the per-dialogue checks over stored samples (:func:`check_samples`) and the
  pieces ingest calls;
- ``dedup``: exact and near duplicates (``duplicates`` table);
- ``decontam``: decontamination against the gold set (``contamination`` table);
- ``gate``: the whole gate in one call (:func:`run_gate`).

Callers use the names re-exported here (``quality.X``). The constants are read by the submodule that
defines them: a test that changes one patches that submodule (``datagen.quality.dedup``), not this
package.
"""

from __future__ import annotations

from .closing import CLOSING, CLOSING_SHARE_TEXT, closing_check, repeated_closings
from .decontam import (
    CONTAMINATION,
    EXCLUDE_ABOVE,
    FLAG_ABOVE,
    METHODS,
    NGRAM_CHARS,
    NGRAM_WORDS,
    char_tokens,
    contamination_report,
    decontaminate,
    excluded_uids,
    word_tokens,
)
from .dedup import DUPLICATE, NEAR_THRESHOLD, NUM_PERM, SHINGLE, dialogue_text, duplicate_cluster, find_duplicates, normalise
from .findings import (
    JUDGE_CHECK,
    JUDGE_TITLE,
    RULE_SOURCE,
    finding_counts,
    findings_by_uid,
    findings_for,
    latest_error_at,
    uids_with_errors,
    uids_with_findings,
)
from .gate import run_gate
from .per_sample import PER_SAMPLE, check_record, check_samples, new_check_stats, store_check_results
from .samples import CHUNK

__all__ = [
    "CHUNK",
    "CLOSING",
    "CLOSING_SHARE_TEXT",
    "CONTAMINATION",
    "DUPLICATE",
    "EXCLUDE_ABOVE",
    "FLAG_ABOVE",
    "JUDGE_CHECK",
    "JUDGE_TITLE",
    "METHODS",
    "NEAR_THRESHOLD",
    "NGRAM_CHARS",
    "NGRAM_WORDS",
    "NUM_PERM",
    "PER_SAMPLE",
    "RULE_SOURCE",
    "SHINGLE",
    "char_tokens",
    "check_record",
    "check_samples",
    "closing_check",
    "contamination_report",
    "decontaminate",
    "dialogue_text",
    "duplicate_cluster",
    "excluded_uids",
    "find_duplicates",
    "finding_counts",
    "findings_by_uid",
    "findings_for",
    "latest_error_at",
    "new_check_stats",
    "normalise",
    "repeated_closings",
    "run_gate",
    "store_check_results",
    "uids_with_errors",
    "uids_with_findings",
    "word_tokens",
]
