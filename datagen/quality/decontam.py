"""Decontamination: every training sample against the gold set, by n-gram overlap of user turns.

The Tülu 3 rule (Lambert et al. 2024, §2.2; allenai/open-instruct ``decontamination/search.py``) on
word 8-grams and a Korean-aware variant on character 8-grams; coverage > 0.5 is excluded from
publishing, > 0.2 flagged for a person (:data:`EXCLUDE_ABOVE` has the rule, the numbers and where they
come from). Owns the ``contamination`` table (:func:`decontaminate` writes it,
:func:`contamination_report` and :func:`excluded_uids` read it) and the ``contamination`` /
``contamination_suspect`` findings (:data:`CONTAMINATION`).
"""

from __future__ import annotations

import json
import re
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import sqlite_utils

from ..checks.core import CHECKS
from ..errors import InputError
from ..store import now, write_transaction
from .dedup import normalise
from .findings import _replace_findings
from .samples import _chunks, _sample_rows

CONTAMINATION = ("contamination", "contamination_suspect")
"""The check ids :func:`decontaminate` replaces."""


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
        grams: set = set()
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
    # per sample: excluded before flagged, then the largest overlap; ties go to the lowest gold uid,
    # then method, so a rerun names the same gold item (the overlaps come out of a set: hash order)
    for r in sorted(rows, key=lambda r: (r[0], r[4] != "excluded", -r[3], r[1], r[2])):
        best.setdefault(r[0], r)
    finding_rows = []
    for uid, gold_uid, m, overlap, band in best.values():
        spec = CHECKS["contamination" if band == "excluded" else "contamination_suspect"]
        what = "게시에서 제외됩니다" if band == "excluded" else "사람이 확인해 주세요"
        finding_rows.append((uid, spec.id, spec.severity, None, spec.reason, f"평가셋 {gold_uid}의 고객 발화와 {overlap:.0%} 겹칩니다({m}): {what}."))
    ts = now()
    with write_transaction(db):
        old: dict[tuple, str] = {}
        for part in _chunks(train_uids, 500):
            marks = ",".join("?" * len(part))
            for u, g, m, o, b, c in db.execute(f"SELECT uid, gold_uid, method, overlap, band, created_at FROM contamination WHERE uid IN ({marks})", part):
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


def excluded_uids(db: sqlite_utils.Database) -> set[str]:
    """uids whose overlap with a gold item is above the exclusion threshold: never published."""
    return {u for (u,) in db.execute("SELECT DISTINCT uid FROM contamination WHERE band = 'excluded'")}
