"""What ships: exactly the approved records (issue "Publishing").

What ships is decided in one place, :func:`shipping_status`, which gives every sample either
``"ships"`` or the reason it is left out; the Publish page, the dataset card and the CLI all read it.
The rules, in the order they are applied (the first that matches names the reason):

1. the sample's decision must be *accept* (``sample_state``: state ``decided``, decision ``accept``;
   gold's two votes, adjudication and an audited lot's approval, ``approved_by = 'lot:<id>'``,
   are folded in by :mod:`datagen.review`; a person's reject wins over a lot's approval): otherwise
   ``rejected``, ``pending`` (no decision yet, or gold waiting for its second vote), ``skipped``,
   or ``disputed`` (gold votes disagree and nobody adjudicated yet);
2. ``decontaminated``: the sample overlaps a gold item above the exclusion threshold
   (``contamination.band = 'excluded'``, :mod:`datagen.quality`);
3. ``duplicate``: the sample is in a duplicate cluster and is not its representative
   (``duplicates.uid != duplicates.cluster``; the representative may ship);
4. ``unreviewed_error``: the sample has an error-level finding whose check id was not on screen
   when the accept that decided it was made (``reviews.findings_seen`` of the deciding review,
   :func:`deciding_reviews`) — a person never accepted that finding. A lot-approved sample has
   no deciding review: any error finding holds it back (its lot was made of clean samples). The findings judged are
   those of the version that ships: for a sample edited after its accept they are recomputed for
   the accepted version (:func:`_recheck_edited_after_accept`).

``train`` samples form the ``train`` split and ``gold`` samples the ``test`` split; the edited
version ships wherever a reviewer edited before accepting (``sample_state.accepted_revision_id``).

This module also reads the shipping records back as the Dialogues that are published
(:func:`publishable_dialogues`; :func:`_dialogues` for the shard writers, with the tool-list fast
path :func:`_split_tools`), and owns :class:`PublishError`, the error of the whole package.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace

import sqlite_utils

from ..dialogue import Dialogue
from ..errors import DatagenError
from ..review import bucket_sql
from ..store import TOOLS_KEY, loads, split_tools

SPLIT_OF_KIND = {"train": "train", "gold": "test"}

SHIPS = "ships"
LEFT_OUT: dict[str, str] = {
    "rejected": "거절됨",
    "pending": "미검토 (골드는 두 번째 판정 대기 포함)",
    "skipped": "건너뜀",
    "disputed": "골드 판정 불일치 (조정 전)",
    "decontaminated": "평가셋 오염으로 제외",
    "duplicate": "중복 (대표 샘플만 게시)",
    "unreviewed_error": "사람이 확인하지 않은 오류 검사 결과",
}
"""Reason key → Korean label, in the order the rules apply (module docstring)."""

_AFTER_ACCEPT = ("decontaminated", "duplicate", "unreviewed_error")
"""Reasons that apply to accepted samples (the rest say the sample is not accepted)."""


class PublishError(DatagenError, RuntimeError):
    """Publishing cannot proceed; ``str(err)`` is a one-line reason (Korean, shown to users)."""


# ----------------------------------------------------------------------------- what ships

# The review that decided an accepted sample (over ``sample_state st``), as the review rules
# (:func:`datagen.review.derive_state`) materialised it: the latest effective adjudication, else the
# latest effective decision of a training sample, else the later of gold's agreeing votes.
_DECIDING_REVIEW_ID = "st.accepted_review_id"

_BUCKET = bucket_sql("st")
"""Rule 1 reads the review bucket (:func:`datagen.review.bucket_sql`): ``accept`` goes on to the
other rules, ``reject`` / ``skip`` / ``pending`` / ``disputed`` name the reason."""

_STATUS_SQL = f"""
SELECT st.uid, st.kind, COALESCE(json_extract(rv.dialogue, '$.category'), st.category), CASE
    WHEN {_BUCKET} = 'reject' THEN 'rejected'
    WHEN {_BUCKET} = 'skip' THEN 'skipped'
    WHEN {_BUCKET} <> 'accept' THEN {_BUCKET}
    WHEN EXISTS (SELECT 1 FROM contamination c WHERE c.uid = st.uid AND c.band = 'excluded') THEN 'decontaminated'
    WHEN EXISTS (SELECT 1 FROM duplicates d WHERE d.uid = st.uid AND d.cluster <> d.uid) THEN 'duplicate'
    WHEN EXISTS (SELECT 1 FROM findings f WHERE f.uid = st.uid AND f.severity = 'error' AND f.check_id NOT IN
        (SELECT j.value FROM reviews dr, json_each(COALESCE(dr.findings_seen, '[]')) j WHERE dr.id = {_DECIDING_REVIEW_ID}))
        THEN 'unreviewed_error'
    ELSE 'ships' END,
    st.job_id, s.model, rv.id, (SELECT MAX(lr.id) FROM revisions lr WHERE lr.uid = st.uid)
FROM sample_state st JOIN samples s ON s.uid = st.uid LEFT JOIN revisions rv ON rv.id = st.accepted_revision_id
ORDER BY st.kind, st.category, st.seq
"""


def deciding_reviews(db: sqlite_utils.Database, uids: set[str] | None = None) -> dict[str, dict]:
    """The review row that decided each accepted sample, in one query.

    Returns:
        ``{uid: {"review_id", "annotator", "findings_seen": [check ids], "revision_id",
        "adjudication": bool}}`` for every sample whose decision is accept (only ``uids`` when
        given). ``findings_seen`` is ``[]`` for reviews written before it was recorded.
    """
    out = {}
    for uid, rid, annotator, seen, revision, adjudication in db.execute(
        f"SELECT st.uid, r.id, r.annotator, r.findings_seen, r.revision_id, r.adjudication FROM sample_state st "
        f"JOIN reviews r ON r.id = {_DECIDING_REVIEW_ID} WHERE st.state = 'decided' AND st.decision = 'accept'"
    ):
        if uids is None or uid in uids:
            out[uid] = {"review_id": rid, "annotator": annotator, "findings_seen": loads(seen, []), "revision_id": revision, "adjudication": bool(adjudication)}
    return out


@dataclass(frozen=True, slots=True)
class _State:
    """One sample as the rules see it: ``status`` is ``"ships"`` or a :data:`LEFT_OUT` key."""

    uid: str
    kind: str
    category: str  # of the version that would ship (an edit may relabel it)
    status: str
    job_id: str | None
    model: str | None  # samples.model
    revision_id: int | None  # the accepted edit, if any
    checked_revision_id: int | None = None  # the latest edit, which the stored findings describe

    @property
    def split(self) -> str:
        return SPLIT_OF_KIND.get(self.kind, "train")


def _states(db: sqlite_utils.Database) -> list[_State]:
    """Every sample with its status, in publishing order (kind, category, arrival). One query, then
    :func:`_recheck_edited_after_accept` for the few samples edited after their accept."""
    return _recheck_edited_after_accept(db, [_State(*row) for row in db.execute(_STATUS_SQL)])


def _recheck_edited_after_accept(db: sqlite_utils.Database, states: list[_State]) -> list[_State]:
    """Rule 4 for samples edited after the accept that decided them: the stored findings describe
    the latest edit (the checks judge the version a next accept would ship), but the version that
    ships is the accepted one. Those versions are checked here (:func:`quality.check_record`) and
    their error-level check ids compared with what the deciding review saw; the other rules stand."""
    stale = [k for k, st in enumerate(states) if st.status in (SHIPS, "unreviewed_error") and st.revision_id != st.checked_revision_id]
    if not stale:
        return states
    from ..quality import check_record

    uids = {states[k].uid for k in stale}
    seen = deciding_reviews(db, uids)
    shipped: dict[str, str] = {}
    ordered = sorted(uids)
    for i in range(0, len(ordered), 500):
        part = ordered[i : i + 500]
        shipped.update(
            (uid, edited or original)
            for uid, original, edited in db.execute(
                "SELECT sd.uid, sd.dialogue, rv.dialogue FROM sample_dialogues sd JOIN sample_state st ON st.uid = sd.uid "
                f"LEFT JOIN revisions rv ON rv.id = st.accepted_revision_id WHERE sd.uid IN ({','.join('?' * len(part))})",
                part,
            )
        )
    out = list(states)
    for k in stale:
        st = states[k]
        errors = {f.check for f in check_record(shipped[st.uid])[0] if f.severity == "error"}
        unseen = errors - set(seen.get(st.uid, {}).get("findings_seen") or [])
        out[k] = replace(st, status="unreviewed_error" if unseen else SHIPS)
    return out


def shipping_status(db: sqlite_utils.Database, uids: set[str] | None = None) -> dict[str, str]:
    """For every sample (only those in ``uids`` when given): ``"ships"`` or the reason it is left out.

    The reasons are the keys of :data:`LEFT_OUT`; the rules and their order are in the module
    docstring. One SQL query (index lookups per sample), ~1 s at 100,000 samples.
    """
    return {st.uid: st.status for st in _states(db) if uids is None or st.uid in uids}


def accepted_dialogues(db: sqlite_utils.Database, uids: set[str] | None = None) -> Iterator[Dialogue]:
    """Dialogues whose decision is ``accept`` (see :mod:`datagen.review` for gold's two votes),
    only those in ``uids`` when given; the revision accepted where a reviewer edited the sample.

    Accept only: the other exclusion rules are applied by :func:`publishable_dialogues`.
    """
    for uid, text, edited in db.execute(
        "SELECT s.uid, s.dialogue, r.dialogue FROM sample_state st JOIN sample_dialogues s ON s.uid = st.uid "
        "LEFT JOIN revisions r ON r.id = st.accepted_revision_id "
        "WHERE st.state = 'decided' AND st.decision = 'accept' ORDER BY st.kind, st.category, st.seq"
    ):
        if uids is None or uid in uids:
            yield Dialogue.model_validate_json(edited or text)


_FETCH_CHUNK = 500


def _fetch(db: sqlite_utils.Database, uids: list[str]) -> Iterator[tuple[str, str | None, bytes]]:
    """``(uid, samples.model, dialogue JSON as UTF-8 bytes)`` of shipping records in the order of
    ``uids``, 500 per query; the JSON is the accepted edit where there is one, else the original.
    (Bytes: hashing needs them, and skipping SQLite's text decoding halves the read.)"""
    for i in range(0, len(uids), _FETCH_CHUNK):
        chunk = uids[i : i + _FETCH_CHUNK]
        rows = db.execute(
            "SELECT s.uid, s.model, CAST(COALESCE(rv.dialogue, sd.dialogue) AS BLOB) FROM samples s "
            "JOIN sample_dialogues sd ON sd.uid = s.uid JOIN sample_state st ON st.uid = s.uid LEFT JOIN revisions rv ON rv.id = st.accepted_revision_id "
            f"WHERE s.uid IN ({','.join('?' * len(chunk))})",
            chunk,
        ).fetchall()
        by_uid = {r[0]: r for r in rows}
        for uid in chunk:
            if uid in by_uid:
                yield by_uid[uid]


_TOOLS_KEY = TOOLS_KEY.encode()
_DECODER = json.JSONDecoder()
_TOOLS_CACHE_MAX = 16


def _split_tools(data: bytes, cache: dict[bytes, list]) -> tuple[bytes, list | None, bytes | None]:
    """``(dialogue JSON without "tools", tools, key)`` from stored Dialogue JSON (UTF-8 bytes),
    parsing each distinct tool list once; ``(data, None, None)`` when the list cannot be cut out
    safely. ``key`` is the list's JSON when the list is the shared one in ``cache`` (the same object
    for every record with it), else ``None``.

    The tool list is about half of a stored record and usually the same for thousands of them.
    Stored records are ``model_dump_json`` output, where ``"tools"`` is a top-level key after five
    string fields: its JSON is found, compared with the lists seen before (``cache``: list JSON →
    parsed list) and parsed only when new. The cut is used only if it was provably at the top level:
    the JSON before it is a complete object once closed (a ``,"tools":`` inside a string would have
    escaped quotes), and the list must be followed by ``,"turns":`` (:func:`datagen.store.split_tools`
    makes the cut). Whenever the cut is not used the whole text is parsed: the Dialogue is the same.
    """
    i = data.find(_TOOLS_KEY)
    if i <= 0:
        return data, None, None
    start = i + len(_TOOLS_KEY)
    tools, end = None, -1
    for known, parsed in cache.items():
        if data.startswith(known, start):
            tools, end = parsed, start + len(known)
            break
    else:
        try:
            tail = data[start:].decode()
            tools, n = _DECODER.raw_decode(tail)
        except ValueError:  # JSONDecodeError, UnicodeDecodeError
            return data, None, None
        if not isinstance(tools, list):
            return data, None, None
        end = start + len(tail[:n].encode())
        if len(cache) < _TOOLS_CACHE_MAX:
            cache[data[start:end]] = tools
    head = data[:i]
    try:
        if not isinstance(json.loads(head + b"}"), dict):
            return data, None, None
        rest = split_tools(data, data[start:end])  # the stored-format cut (store.split_tools)
    except ValueError:
        return data, None, None
    key = data[start:end] if cache.get(data[start:end]) is tools else None
    return rest, tools, key


def _published_dialogue(st: _State, data: bytes, tools: list | None) -> Dialogue:
    """The Dialogue as published, validated from its stored JSON (``tools`` given separately when
    :func:`_split_tools` cut them out), with ``kind`` from the review state (it decides the split)
    and ``model`` from the sample row when the dialogue names none.

    Raises:
        pydantic.ValidationError: the stored JSON is not a Dialogue.
    """
    d = Dialogue.model_validate_json(data)
    if tools is not None:
        if d.tools:  # a second "tools" key: not model_dump_json output, read it whole
            raise ValueError("tools twice")
        d.tools.extend(tools)  # the specs themselves are shared between records with the same list
    if st.kind in SPLIT_OF_KIND and d.kind != st.kind:
        d.kind = "gold" if st.kind == "gold" else "train"  # st.kind is one of SPLIT_OF_KIND's keys
    if d.model is None and st.model:
        d.model = st.model
    return d


def _dialogues(db: sqlite_utils.Database, states: list[_State]) -> Iterator[tuple[_State, Dialogue, bytes, bytes | None]]:
    """``(state, published Dialogue, stored JSON, tools key)`` for each of ``states``, in order.
    Records with the same tools key share their tool specs (do not mutate them)."""
    by_uid = {st.uid: st for st in states}
    cache: dict[bytes, list] = {}
    for uid, _, data in _fetch(db, [st.uid for st in states]):
        st = by_uid[uid]
        rest, tools, key = _split_tools(data, cache)
        try:
            d = _published_dialogue(st, rest, tools)
        except ValueError:
            if tools is None:
                raise
            d, key = _published_dialogue(st, data, None), None
        yield st, d, data, key


def publishable_dialogues(db: sqlite_utils.Database, uids: set[str] | None = None) -> Iterator[Dialogue]:
    """The dialogues that ship now, exactly as published (all rules of :func:`shipping_status`),
    in publishing order; only those in ``uids`` when given."""
    ships = [st for st in _states(db) if st.status == SHIPS and (uids is None or st.uid in uids)]
    for _, d, _, _ in _dialogues(db, ships):
        yield d.model_copy(update={"tools": json.loads(json.dumps(d.tools))})  # not shared between records
