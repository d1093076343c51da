"""Exact and near duplicates within the training set: ``duplicates`` rows and ``duplicate_*`` findings.

What makes two dialogues the same: :func:`dialogue_text` (customer and assistant text and the tool
calls) after :func:`normalise`. Exact duplicates share that normalised text; near duplicates are found by
MinHash LSH (datasketch) over character 5-grams, estimated Jaccard ≥ 0.8 (:data:`NEAR_THRESHOLD`,
which cites where the numbers come from: the MinHash deduplication of BigCode / The Stack). Only
``duplicate_exact`` / ``duplicate_near`` findings (:data:`DUPLICATE`) are written here.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import defaultdict
from typing import Any

import sqlite_utils

from ..checks import text as ctext
from ..checks.core import CHECKS
from ..errors import InputError
from ..store import write_transaction
from .findings import _replace_findings
from .samples import _chunks, _sample_rows

DUPLICATE = ("duplicate_exact", "duplicate_near")
"""The check ids :func:`find_duplicates` replaces."""


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
