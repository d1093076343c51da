"""One state → bucket mapping (issue 16, point 3): the review page's counts, the funnel, the yield
table and the publishing rules read every review state the same way (datagen.review.bucket_sql)."""

from __future__ import annotations

from collections import Counter

from publish_data import fixture_dialogues, insert

from datagen import publish, review, stats, yields

# (state, decision) as datagen.review.derive_state can leave them → where the sample stands
CASES = {
    ("pending", None): "pending",
    ("partial", None): "pending",  # gold waiting for another vote
    ("skipped", "skip"): "skip",
    ("disputed", None): "disputed",
    ("decided", "accept"): "accept",
    ("decided", "reject"): "reject",
    ("decided", "skip"): "skip",  # an adjudicator's skip
}


def test_every_reader_puts_each_review_state_in_the_same_bucket(db):
    base = fixture_dialogues()[0]
    dialogues = [base.model_copy(update={"uid": f"b{k}", "custom_id": f"train-cancel-{k:05d}", "category": "cancel"}) for k in range(len(CASES))]
    uids = insert(db, dialogues)
    with db.conn:
        for d in dialogues:
            db.execute("INSERT INTO requests (custom_id, job_id, kind, category, status) VALUES (?, 'job', 'train', 'cancel', 'done')", [d.custom_id])
        for uid, (state, decision) in zip(uids, CASES):
            db.execute("UPDATE sample_state SET state = ?, decision = ? WHERE uid = ?", [state, decision, uid])
    want = Counter(CASES.values())

    assert review.decision_counts(db) == {b: want[b] for b in review.BUCKETS}

    funnel = stats.totals(stats.funnel(db))
    assert (funnel["accepted"], funnel["rejected"], funnel["skipped"], funnel["pending"]) == (
        want["accept"],
        want["reject"],
        want["skip"],
        want["pending"] + want["disputed"],
    )

    (row,) = yields.yield_table(db)
    assert (row["accepted"], row["rejected"], row["parsed"]) == (want["accept"], want["reject"], len(CASES))

    reason = {"accept": publish.SHIPS, "reject": "rejected", "skip": "skipped", "pending": "pending", "disputed": "disputed"}
    status = publish.shipping_status(db)
    assert {uid: status[uid] for uid in uids} == {uid: reason[b] for uid, b in zip(uids, CASES.values())}
