"""Property: over random decision histories (accept / reject / skip by several annotators, undo,
adjudication, edits, gold samples) and random exclusion data (findings, duplicates,
contamination), the published set is exactly the records whose decision is accept and that no
exclusion rule removes — with the version that was current when the deciding accept was made.

The expected set is computed here from the actions alone, by the rules as documented (README /
datagen.review module docstring / datagen.publish module docstring), not from the database."""

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from publish_data import as_gold, fixture_dialogues, insert

from datagen import publish, quality, review
from datagen.store import connect

N = 4
ANNOTATORS = ["a", "b", "c"]
CHECKS = ["ungrounded_id", "unsaid_value"]

decide = st.tuples(
    st.just("decide"),
    st.integers(0, N - 1),
    st.sampled_from(ANNOTATORS),
    st.sampled_from(["accept", "accept", "reject", "skip"]),
    st.sets(st.sampled_from(CHECKS)),
    st.booleans(),
)
undo = st.tuples(st.just("undo"), st.sampled_from(ANNOTATORS), st.one_of(st.none(), st.integers(0, N - 1)))
finding = st.tuples(st.just("finding"), st.integers(0, N - 1), st.sampled_from(CHECKS), st.sampled_from(["error", "warning"]))
edit = st.tuples(st.just("edit"), st.integers(0, N - 1))
history = st.lists(st.one_of(decide, decide, decide, undo, finding, finding, edit), max_size=30)


def expected(kinds, reviews, undone, findings, contaminated, dup_of, versions):
    """uid → (split, content of the shipped version's first turn) by the documented rules.

    ``findings``: ``(uid, check, severity, origin)``, origin ``injected`` (written by the test) or
    ``recheck`` (what the checks found on an edit). A sample edited after the accept that decides it
    ships the accepted version, which is checked again (datagen.publish.rules, rule 4): findings
    written for the later edit do not describe it."""
    out = {}
    for uid, kind in kinds.items():
        effective = [r for r in reviews if r["uid"] == uid and r["id"] not in undone]
        per_annotator = {}
        for r in effective:
            per_annotator[r["annotator"]] = r
        votes = [r for r in per_annotator.values() if r["decision"] in ("accept", "reject")]
        adjudicated = [r for r in effective if r["adjudication"]]
        final = None
        if adjudicated:
            final = adjudicated[-1]
        elif kind != "gold":
            final = effective[-1] if effective else None
        elif len({v["decision"] for v in votes}) > 1:
            final = None  # disputed
        elif len(votes) >= review.GOLD_REQUIRED_VOTES:
            final = max(votes, key=lambda v: v["id"])
        if final is None or final["decision"] != "accept":
            continue
        if uid in contaminated or dup_of.get(uid, uid) != uid:
            continue
        stale = final["version"] < versions[uid]
        if any(c not in final["seen"] for (u, c, sev, origin) in findings if u == uid and sev == "error" and (not stale or origin == "recheck")):
            continue
        out[uid] = ("test" if kind == "gold" else "train", final["content"])
    return out


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    actions=history,
    gold=st.sets(st.integers(0, N - 1), max_size=N),
    contaminated=st.dictionaries(st.integers(0, N - 1), st.sampled_from(["excluded", "flagged"]), max_size=2),
    clusters=st.lists(st.tuples(st.integers(0, N - 1), st.integers(0, N - 1)), max_size=2),
)
@example(  # an edit re-checks the sample: a finding of the old version no longer holds it back
    actions=[("decide", 0, "a", "accept", set(), False), ("finding", 0, "ungrounded_id", "error"), ("edit", 0)],
    gold=set(),
    contaminated={},
    clusters=[],
)
@example(  # accepted, then edited, then a finding on the edit: the accepted version ships, checked again
    actions=[("decide", 3, "a", "accept", set(), False), ("edit", 3), ("finding", 3, "ungrounded_id", "error")],
    gold=set(),
    contaminated={},
    clusters=[],
)
@example(  # two accepts on a training sample: the later one (which saw the finding) decides
    actions=[("decide", 0, "a", "accept", set(), False), ("decide", 0, "b", "accept", {"ungrounded_id"}, False), ("finding", 0, "ungrounded_id", "error")],
    gold=set(),
    contaminated={},
    clusters=[],
)
@example(  # gold: two agreeing votes, the later one saw the finding; then an adjudicated dispute
    actions=[
        ("finding", 1, "unsaid_value", "error"),
        ("decide", 1, "a", "accept", set(), False),
        ("decide", 1, "b", "accept", {"unsaid_value"}, False),
        ("decide", 2, "a", "accept", set(), False),
        ("decide", 2, "b", "reject", set(), False),
        ("edit", 2),
        ("decide", 2, "c", "accept", set(), True),
    ],
    gold={1, 2},
    contaminated={},
    clusters=[],
)
def test_published_set_is_exactly_what_the_rules_allow(actions, gold, contaminated, clusters):
    with tempfile.TemporaryDirectory() as tmp:
        db = connect(Path(tmp) / "p.db")
        base = fixture_dialogues()[0]
        uids = insert(db, [base.model_copy(update={"uid": f"p{i}"}, deep=True) for i in range(N)])
        as_gold(db, [uids[i] for i in gold])
        kinds = {u: ("gold" if i in gold else "train") for i, u in enumerate(uids)}
        content = {u: base.turns[0].content for u in uids}
        reviews, undone, findings, edits = [], set(), [], 0
        versions = dict.fromkeys(uids, 0)  # edits of each sample so far
        for action in actions:
            if action[0] == "decide":
                _, i, who, decision, seen, adjudication = action
                rid = review.record_decision(
                    db,
                    uids[i],
                    annotator=who,
                    decision=decision,
                    findings_seen=sorted(seen),
                    reasons=["other"] if decision == "reject" else [],
                    adjudication=adjudication,
                )
                reviews.append(
                    {
                        "id": rid,
                        "uid": uids[i],
                        "annotator": who,
                        "decision": decision,
                        "adjudication": adjudication,
                        "seen": seen,
                        "content": content[uids[i]],
                        "version": versions[uids[i]],
                    }
                )
            elif action[0] == "undo":
                _, who, i = action
                mine = [r for r in reviews if r["annotator"] == who and r["id"] not in undone and (i is None or r["uid"] == uids[i])]
                got = review.undo(db, annotator=who, uid=uids[i] if i is not None else None)
                assert (got["id"] if got else None) == (mine[-1]["id"] if mine else None)
                if mine:
                    undone.add(mine[-1]["id"])
            elif action[0] == "finding":
                _, i, check, severity = action
                with db.conn:
                    db.execute(
                        "INSERT INTO findings (uid, check_id, severity, turn, reason, message, created_at) VALUES (?, ?, ?, 0, 'other', 'm', 'x')",
                        [uids[i], check, severity],
                    )
                findings.append((uids[i], check, severity, "injected"))
            else:
                edits += 1
                uid = uids[action[1]]
                _, current = review.current_revision(db, uid)
                current.turns[0].content = f"수정 {edits}"
                review.save_revision(db, uid, current, annotator="e")
                content[uid] = current.turns[0].content
                versions[uid] += 1
                # an edit re-checks the sample: its per-dialogue findings are now the edited version's
                findings = [f for f in findings if not (f[0] == uid and f[1] in quality.PER_SAMPLE)]
                findings += [
                    (uid, c, sev, "recheck") for c, sev in db.execute("SELECT check_id, severity FROM findings WHERE uid = ?", [uid]) if c in quality.PER_SAMPLE
                ]
        dup_of = {}
        with db.conn:
            for i, band in contaminated.items():
                db.execute("INSERT INTO contamination (uid, gold_uid, method, overlap, band, created_at) VALUES (?, 'g', 'm', 0.9, ?, 'x')", [uids[i], band])
            for rep, member in clusters:  # later clusters win for a uid, as one duplicates row per uid
                for u in {uids[rep], uids[member]}:
                    db.execute("INSERT OR REPLACE INTO duplicates (uid, cluster, kind, similarity) VALUES (?, ?, 'near', 0.9)", [u, uids[rep]])
                    dup_of[u] = uids[rep]
        want = expected(kinds, reviews, undone, findings, {uids[i] for i, b in contaminated.items() if b == "excluded"}, dup_of, versions)

        status = publish.shipping_status(db)
        assert {u for u, s in status.items() if s == publish.SHIPS} == set(want)
        got = {d.uid: ("test" if d.kind == "gold" else "train", d.turns[0].content) for d in publish.publishable_dialogues(db)}
        assert got == want
        if want:
            release = publish.prepare(db)
            assert {s: set(us) for s, us in release.splits.items()} == {
                s: {u for u, (split, _) in want.items() if split == s} for s in {split for split, _ in want.values()}
            }
            assert sum(release.left_out().values()) == N - len(want)
        db.conn.close()
