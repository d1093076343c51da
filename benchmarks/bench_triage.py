"""Issue 17, part 4: person-decisions per published dialogue, and the published set's defect rate,
for (a) review everything and (b) triage + audited lots, on the offline batch backend.

    python benchmarks/bench_triage.py --n 20000 --defect-rate 0.15 --defect-rate 0.05

What it does, per planted defect rate:

1. one training job of ``--n`` requests (uniform over the 8 categories) through the real pipeline:
   ``jobs.create_job`` → ``batches.submit_job`` → ``batches.retrieve(ingest=True)`` on the offline
   backend (scripted dialogues; ``DATAGEN_OFFLINE_DEFECT_RATE`` of them with one of its 5 planted
   defects; its HTTP-error and truncation faults off, they make no samples). The quality gate runs
   as in the app. Then ``--judge-cmd`` (a shell command, e.g. the judge CLI) when given: its
   findings count like any other finding (:mod:`datagen.triage` reads every findings row);
2. ground truth: a sample is defective when the backend planted a defect in it (the same rule as
   ``offline_dialogues.scripted_dialogue``: ``choose_defect`` and not a call defect on ``no_call``),
   or when it carries a **hidden** defect: ``--hidden-rate`` of the other dialogues (by SHA-256 of
   the custom_id) are labelled defective with a defect no check can see (what only a reader or a
   judge catches: unnatural Korean, a wrong nuance). Their text is not changed: the label is the
   simulation;
3. simulated reviewers: every person decision is right (reject a defective sample, accept a good
   one) with probability ``--accuracy``, drawn per (seed, sample) so both strategies meet the
   same person on the same sample. An accept passes the error findings shown (as the Review page does);
4. (a) a person decides every sample (``review.record_decision``);
   (b) a person decides the flagged lane; per category the clean lane becomes a lot
   (``audit.start`` with ``--p0`` / ``--confidence`` / ``--allowed-defects``), a person audits its
   sample, the publisher approves a passing lot (``audit.approve``); a failed lot, or a lot no
   larger than its sample, is reviewed in full;
   (c) as (b), but the flagged samples with an error-level finding are not served to a person
   (the Review page's "오류 샘플 건너뛰기", ``QueueFilter(skip_errors=True)``): they stay pending
   and never ship; people decide the warning-only flagged samples and audit the lots;
5. published = ``publish.shipping_status`` == ships. Printed: person decisions, published rows,
   decisions per published dialogue, the defect rate of the published set, and the ratio.

Both strategies run on copies of the same ingested database.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shlex
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

from _fixtures import machine


def _u(*parts) -> float:
    """A number in [0, 1) from SHA-256 of the parts (deterministic draws)."""
    return int.from_bytes(hashlib.sha256(":".join(map(str, parts)).encode()).digest()[:8], "big") / 2**64


def build(path: Path, n: int, defect_rate: float, judge_cmd: str | None) -> tuple[str, float]:
    """Generate, submit, retrieve and ingest one job of ``n`` training requests into ``path``;
    returns ``(job id, seconds)``."""
    from datagen import batches, config, jobs
    from datagen.backend import get_client
    from datagen.offline import OfflineOptions
    from datagen.store import connect

    started = time.perf_counter()
    db = connect(path)
    per = max(1, n // len(config.CATEGORIES))
    job = jobs.create_job(db, kind="train", counts={c: per for c in config.CATEGORIES}, seed=17)
    client = get_client(options=OfflineOptions(validate_s=0, seconds_per_request=0, defect_rate=defect_rate, error_rate=0, truncation_rate=0))
    for row in batches.submit_job(db, job["id"], client=client):
        for _ in range(600):
            if batches.refresh(db, row["id"], client=client)["status"] in ("completed", "expired", "cancelled", "failed"):
                break
            time.sleep(0.05)
        batches.retrieve(db, row["id"], client=client, ingest=True)
    if judge_cmd:
        cmd = judge_cmd.format(db=shlex.quote(str(path)), job_id=shlex.quote(job["id"]))
        subprocess.run(cmd, shell=True, check=True, env=dict(os.environ, DATAGEN_DB=str(path)))
    db.conn.close()
    return job["id"], time.perf_counter() - started


def truth(db, defect_rate: float, hidden_rate: float) -> dict[str, bool]:
    """uid → defective (planted or hidden; module docstring, step 2)."""
    from datagen.offline_dialogues import choose_defect

    out = {}
    for uid, cid, category in db.execute("SELECT uid, custom_id, category FROM samples"):
        d = choose_defect(cid, defect_rate)
        planted = d is not None and not (category == "no_call" and d in ("unknown_tool", "missing_required_argument", "ungrounded_id"))
        out[uid] = planted or _u("hidden", cid) < hidden_rate
    return out


class Reviewer:
    """A simulated person: right with probability ``accuracy`` (paired draws per sample)."""

    def __init__(self, db, bad: dict[str, bool], accuracy: float, seed: int):
        self.db, self.bad, self.accuracy, self.seed = db, bad, accuracy, seed
        self.decisions = 0

    def decide(self, uid: str) -> str:
        from datagen import review

        right = _u("person", self.seed, uid) < self.accuracy
        reject = self.bad[uid] == right  # defective and right, or good and wrong
        errors = [r[0] for r in self.db.execute("SELECT DISTINCT check_id FROM findings WHERE uid = ? AND severity = 'error'", [uid])]
        review.record_decision(
            self.db,
            uid,
            annotator="reviewer",
            decision="reject" if reject else "accept",
            reasons=["other"] if reject else [],
            findings_seen=errors,
            seconds=30.0,
        )
        self.decisions += 1
        return "reject" if reject else "accept"

    def drain(self, flt) -> None:
        """Decide every sample of a queue filter (``todo`` for this reviewer)."""
        from datagen import review

        while True:
            batch = review.queue(self.db, flt, limit=500)
            if not batch:
                return
            for uid in batch:
                self.decide(uid)


def outcome(db, bad: dict[str, bool], decisions: int) -> dict:
    from datagen import publish

    status = publish.shipping_status(db)
    shipped = [u for u, s in status.items() if s == "ships"]
    defects = sum(bad[u] for u in shipped)
    good = sum(not b for b in bad.values())
    return {
        "decisions": decisions,
        "published": len(shipped),
        "defects": defects,
        "defect_rate": defects / len(shipped) if shipped else float("nan"),
        "per_published": decisions / len(shipped) if shipped else float("nan"),
        "good_kept": sum(not bad[u] for u in shipped) / good if good else float("nan"),
    }


def review_everything(path: Path, bad: dict[str, bool], accuracy: float, seed: int) -> dict:
    from datagen import review
    from datagen.store import connect

    db = connect(path)
    r = Reviewer(db, bad, accuracy, seed)
    r.drain(review.QueueFilter(annotator="reviewer"))
    return outcome(db, bad, r.decisions)


def triage_and_lots(
    path: Path, job_id: str, bad: dict[str, bool], accuracy: float, seed: int, p0: float, confidence: float, allowed: int, skip_errors: bool = False
) -> dict:
    from datagen import audit, review, triage
    from datagen.store import connect

    db = connect(path)
    r = Reviewer(db, bad, accuracy, seed)
    lanes = triage.lane_counts(db, job_id=job_id)
    r.drain(review.QueueFilter(annotator="reviewer", lane="flagged", skip_errors=skip_errors))
    audit.set_params(db, p0=p0, confidence=confidence, allowed_defects=allowed, actor=None)
    lots = {"passed": 0, "failed": 0, "census": 0, "audited": 0, "lot_approved": 0}
    for row in audit.plan(db, job_id):
        if row["census"]:
            lots["census"] += 1
            r.drain(review.QueueFilter(annotator="reviewer", job_id=job_id, category=row["category"], lane="clean"))
            continue
        lot_id = audit.start(db, job_id, row["category"], actor=None, seed=seed)
        r.drain(review.QueueFilter(annotator="reviewer", lot_id=lot_id))
        s = audit.status(db, lot_id)
        lots["audited"] += s.audited
        if s.state == "auditing" and s.verdict == "pass":
            lots["passed"] += 1
            lots["lot_approved"] += audit.approve(db, lot_id, actor=None)
        else:
            lots["failed"] += 1
            r.drain(review.QueueFilter(annotator="reviewer", lot_id=lot_id, lot_sample=False))
    return {**outcome(db, bad, r.decisions), "lanes": lanes, "lots": lots}


def copy_db(src: Path, dst: Path) -> None:
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=20_000, help="training requests in the job")
    ap.add_argument("--defect-rate", type=float, action="append", help="planted defect share (repeat; default 0.15, the backend's)")
    ap.add_argument(
        "--hidden-rate",
        type=float,
        action="append",
        help="share of the other dialogues with a defect no check sees (repeat; default 0: every planted defect is one the checks find)",
    )
    ap.add_argument("--accuracy", type=float, action="append", help="probability a person's decision is right (repeat; default 0.99)")
    ap.add_argument("--p0", type=float, default=0.05, help="acceptable defect rate of a lot")
    ap.add_argument("--confidence", type=float, default=0.95)
    ap.add_argument("--allowed-defects", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--judge-cmd", default=None, help="shell command run on the database after ingest ({db}, {job_id}; DATAGEN_DB is set)")
    args = ap.parse_args()
    rates = args.defect_rate or [0.15]
    hidden_rates = args.hidden_rate or [0.0]
    accuracies = args.accuracy or [0.99]
    print(f"machine: {machine()}")
    try:
        import datagen.judge  # noqa: F401

        judge_note = "datagen.judge present" + ("" if args.judge_cmd else " (not run: pass --judge-cmd)")
    except ImportError:
        judge_note = "no datagen.judge: rule findings only"
    from datagen import audit

    print(
        f"n={args.n} p0={args.p0} confidence={args.confidence} allowed_defects={args.allowed_defects} "
        f"(sample {audit.required_sample_size(args.p0, args.confidence, args.allowed_defects)} per lot) seed={args.seed}; {judge_note}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DATAGEN_OUTPUT_DIR"] = tmp
        os.environ["DATAGEN_BACKEND"] = "offline"
        for rate in rates:
            base = Path(tmp) / f"base-{rate}.db"
            job_id, secs = build(base, args.n, rate, args.judge_cmd)
            from datagen.store import connect

            print(f"\n[planted defect rate {rate:.0%}] {job_id}: {secs:.0f} s to generate, retrieve and ingest")
            for hidden in hidden_rates:
                bad = truth(connect(base), rate, hidden)
                for accuracy in accuracies:
                    print(
                        f"  hidden {hidden:.1%}, accuracy {accuracy:.0%}: {len(bad):,} samples, defective {sum(bad.values()):,} "
                        f"({sum(bad.values()) / len(bad):.1%})"
                    )
                    a_path, b_path, c_path = Path(tmp) / "a.db", Path(tmp) / "b.db", Path(tmp) / "c.db"
                    for path in (a_path, b_path, c_path):
                        copy_db(base, path)
                    t = time.perf_counter()
                    a = review_everything(a_path, bad, accuracy, args.seed)
                    ta = time.perf_counter() - t
                    t = time.perf_counter()
                    b = triage_and_lots(b_path, job_id, bad, accuracy, args.seed, args.p0, args.confidence, args.allowed_defects)
                    tb = time.perf_counter() - t
                    t = time.perf_counter()
                    c = triage_and_lots(c_path, job_id, bad, accuracy, args.seed, args.p0, args.confidence, args.allowed_defects, skip_errors=True)
                    tc = time.perf_counter() - t
                    print(f"    lanes: {b['lanes']}; lots (b): {b['lots']}; lots (c): {c['lots']}")
                    for name, r, sec in (("(a) review everything", a, ta), ("(b) triage + audited lots", b, tb), ("(c) (b), errors not served", c, tc)):
                        print(
                            f"    {name:27s} decisions {r['decisions']:6,}  published {r['published']:6,}  decisions/published "
                            f"{r['per_published']:.3f}  defect rate {r['defect_rate']:.2%} ({r['defects']})  good kept {r['good_kept']:.1%}  [{sec:.0f} s]"
                        )
                    for name, r in (("(b)", b), ("(c)", c)):
                        ratio = a["per_published"] / r["per_published"]
                        ok = ratio >= 10 and r["defect_rate"] <= a["defect_rate"]
                        print(
                            f"    → {name}: {ratio:.1f}× fewer decisions per published dialogue; defect rate {r['defect_rate']:.2%} vs "
                            f"{a['defect_rate']:.2%}: target (≥ 10× at no higher defect rate) {'met' if ok else 'NOT met'}"
                        )
                    for path in (a_path, b_path, c_path):
                        path.unlink()


if __name__ == "__main__":
    main()
