"""Calibration of the checks: precision and recall on hand-labelled dialogues.

Two corpora, reported separately:

- **real** (``tests/fixtures/calibration/``): dialogues other people wrote (the predecessor
  pipeline's own LLM output, kakao/FunctionChat-Bench), converted by ``build.py`` there and
  labelled by reading (``labels.jsonl``: ``{"id", "labels": "clean" | [{"turn", "reason", "note"}]}``,
  ``reason`` a key of the review taxonomy, ``turn`` an index into ``Dialogue.turns``).
- **scripted** (``tests/fixtures/defects/``): this project's labelled defect corpus, whose labels
  are check ids (no turns).

Matching rule (real corpus). A finding is *true* when its dialogue has a labelled defect that

1. has the finding's suggested reason and lies within one turn of it (``|label.turn - finding.turn| ≤ 1``:
   a check may point at the call while the label points at its result, or the reverse), or
2. lies on exactly the finding's turn, whatever its reason (the finding found that defect under
   another name), or
3. has the finding's reason, when the finding points at no turn (``turn`` None).

Otherwise it is *false*. A labelled defect is *recalled* when some finding matches it by the same
rule. Per check: findings, true, false, precision = true / findings, and recall = labelled defects
of the check's reason it matched / labelled defects of that reason. The corpus-level
``repeated_closing`` check is computed over the whole real corpus as one imported set (the way
:func:`datagen.quality.check_samples` computes it over all samples of a kind).

Scripted corpus: a finding is true when its check id is among the record's labels; recall per check
= labelled records it fired on / records labelled with it.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import config
from .checks import CHECKS, Finding, run_checks
from .dialogue import Dialogue, from_messages
from .errors import InputError

ROOT = Path(__file__).resolve().parents[1]
REAL_DIR = ROOT / "tests" / "fixtures" / "calibration"
SCRIPTED_DIR = ROOT / "tests" / "fixtures" / "defects"
HUMAN_CURATED = ("fc-dialog", "fc-calldecision")
"""Id prefixes of the human-curated (kakao/FunctionChat-Bench) part of the real corpus."""
TURN_SLACK = 1
"""How far (in turns) a finding may point from a labelled defect of its reason and still match it."""


@dataclass
class Item:
    """One labelled dialogue: ``id``, the parsed dialogue, its labels (``[]`` = clean) and findings."""

    id: str
    dialogue: Dialogue
    labels: list[dict]
    findings: list[Finding] = field(default_factory=list)


def load_real(directory: Path = REAL_DIR) -> list[Item]:
    """The real corpus: ``dialogues.jsonl`` parsed with :func:`~datagen.dialogue.from_messages`
    and joined with ``labels.jsonl`` by id.

    Raises:
        InputError: a dialogue without a label line, or a label line for an unknown id
            (message names the file and line).
    """
    labels: dict[str, list[dict]] = {}
    with (directory / "labels.jsonl").open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            rec = json.loads(line)
            lab = rec["labels"]
            labels[rec["id"]] = [] if lab == "clean" else list(lab)
    items = []
    with (directory / "dialogues.jsonl").open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            rec = json.loads(line)
            if rec["id"] not in labels:
                raise InputError(f"{directory / 'dialogues.jsonl'}:{n}: {rec['id']}의 줄이 labels.jsonl에 없습니다")
            d = from_messages(rec["messages"], tools=rec.get("tools"), uid=rec["id"], category="imported")
            items.append(Item(rec["id"], d, labels.pop(rec["id"])))
    if labels:
        raise InputError(f"{directory / 'labels.jsonl'}: 없는 id의 레이블이 있습니다 {sorted(labels)[:5]}")
    return items


def load_scripted(directory: Path = SCRIPTED_DIR) -> list[Item]:
    """The scripted defect corpus (``defects.jsonl`` + ``clean.jsonl``); labels are check ids
    (``[{"check": id}]``), records without tools get ``config.TOOLS``."""
    items = []
    for name in ("defects.jsonl", "clean.jsonl"):
        with (directory / name).open(encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line)
                data = rec["dialogue"]
                data.setdefault("tools", config.TOOLS)
                items.append(Item(rec["id"], Dialogue.model_validate(data), [{"check": c} for c in rec["labels"]]))
    return items


def run(items: list[Item], *, corpus_checks: bool = True) -> list[Item]:
    """Fill each item's findings: the per-dialogue checks, and (with ``corpus_checks``) the
    corpus-level ``repeated_closing`` over all items as one set. Returns ``items``."""
    from .quality import repeated_closings

    for it in items:
        it.findings = run_checks(it.dialogue)
    if corpus_checks:
        turns = {it.id: [t.model_dump() for t in it.dialogue.turns[-1:]] for it in items}
        lengths = {it.id: len(it.dialogue.turns) for it in items}
        spec = CHECKS["repeated_closing"]
        for uid, (line, n, total) in repeated_closings(turns).items():
            item = next(i for i in items if i.id == uid)
            item.findings.append(Finding(spec.id, spec.severity, lengths[uid] - 1, spec.reason, f"마무리 문장 {line!r}이(가) {n}/{total} 샘플에서 반복됩니다."))
    return items


def matches(f: Finding, label: dict) -> bool:
    """The matching rule of this module's docstring (real corpus)."""
    if f.turn is None:
        return label["reason"] == f.reason
    if label["turn"] == f.turn:
        return True
    return label["reason"] == f.reason and abs(label["turn"] - f.turn) <= TURN_SLACK


def _div(a: int, b: int) -> float | None:
    return a / b if b else None


def score_real(items: list[Item]) -> dict[str, Any]:
    """Figures for the real corpus.

    Returns:
        ``{"dialogues", "clean", "labelled_defects", "per_check": {check: {"severity", "findings",
        "true", "false", "precision", "recall"}}, "error": {...}, "warning": {...}, "recall":
        {"hit", "total", "value"}, "recall_by_reason": {reason: (hit, total)}, "held_back":
        {"human_curated_clean", "human_curated_clean_with_error", "clean", "clean_with_error"}}``.
    """
    per: dict[str, Counter] = defaultdict(Counter)
    sev: dict[str, Counter[str]] = {"error": Counter(), "warning": Counter()}
    hit_by_check: dict[str, int] = Counter()
    hit_total = 0
    by_reason: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    label_total = 0
    held: Counter[str] = Counter()
    for it in items:
        for f in it.findings:
            true = any(matches(f, lab) for lab in it.labels)
            per[f.check]["findings"] += 1
            per[f.check]["true" if true else "false"] += 1
            sev[f.severity]["findings"] += 1
            sev[f.severity]["true" if true else "false"] += 1
        for lab in it.labels:
            label_total += 1
            by_reason[lab["reason"]][1] += 1
            got = [f for f in it.findings if matches(f, lab)]
            if got:
                hit_total += 1
                by_reason[lab["reason"]][0] += 1
            for c in {f.check for f in got if f.reason == lab["reason"]}:
                hit_by_check[c] += 1
        if not it.labels:
            errs = any(f.severity == "error" for f in it.findings)
            held["clean"] += 1
            held["clean_with_error"] += errs
            if it.id.split(":")[0] in HUMAN_CURATED:
                held["human_curated_clean"] += 1
                held["human_curated_clean_with_error"] += errs
    reason_total = {r: t for r, (_, t) in by_reason.items()}
    per_check = {}
    for cid, spec in CHECKS.items():
        counts = per.get(cid, Counter())
        total = reason_total.get(spec.reason, 0)
        per_check[cid] = {
            "severity": spec.severity,
            "reason": spec.reason,
            "findings": counts["findings"],
            "true": counts["true"],
            "false": counts["false"],
            "precision": _div(counts["true"], counts["findings"]),
            "recall": _div(hit_by_check[cid], total),
            "recalled": hit_by_check[cid],
            "of": total,
        }
    return {
        "dialogues": len(items),
        "clean": sum(1 for i in items if not i.labels),
        "labelled_defects": label_total,
        "per_check": per_check,
        "error": {**sev["error"], "precision": _div(sev["error"]["true"], sev["error"]["findings"])},
        "warning": {**sev["warning"], "precision": _div(sev["warning"]["true"], sev["warning"]["findings"])},
        "recall": {"hit": hit_total, "total": label_total, "value": _div(hit_total, label_total)},
        "recall_by_reason": {r: tuple(v) for r, v in sorted(by_reason.items())},
        "held_back": dict(held),
    }


def score_scripted(items: list[Item]) -> dict[str, Any]:
    """Figures for the scripted corpus (labels are check ids): per check findings / true / false /
    precision / recall, error and warning precision, overall recall, clean records with an error."""
    per: dict[str, Counter] = defaultdict(Counter)
    sev: dict[str, Counter[str]] = {"error": Counter(), "warning": Counter()}
    hit = total = 0
    clean = clean_err = 0
    for it in items:
        wanted = {lab["check"] for lab in it.labels}
        fired = {f.check for f in it.findings}
        for f in it.findings:
            true = f.check in wanted
            per[f.check]["findings"] += 1
            per[f.check]["true" if true else "false"] += 1
            sev[f.severity]["findings"] += 1
            sev[f.severity]["true" if true else "false"] += 1
        for c in wanted:
            per[c]["labelled"] += 1
            per[c]["recalled"] += c in fired
            total += 1
            hit += c in fired
        if not wanted:
            clean += 1
            clean_err += any(f.severity == "error" for f in it.findings)
    per_check = {
        cid: {
            "severity": spec.severity,
            "reason": spec.reason,
            "findings": per[cid]["findings"],
            "true": per[cid]["true"],
            "false": per[cid]["false"],
            "precision": _div(per[cid]["true"], per[cid]["findings"]),
            "recall": _div(per[cid]["recalled"], per[cid]["labelled"]),
            "recalled": per[cid]["recalled"],
            "of": per[cid]["labelled"],
        }
        for cid, spec in CHECKS.items()
    }
    return {
        "dialogues": len(items),
        "clean": clean,
        "labelled_defects": total,
        "per_check": per_check,
        "error": {**sev["error"], "precision": _div(sev["error"]["true"], sev["error"]["findings"])},
        "warning": {**sev["warning"], "precision": _div(sev["warning"]["true"], sev["warning"]["findings"])},
        "recall": {"hit": hit, "total": total, "value": _div(hit, total)},
        "held_back": {"clean": clean, "clean_with_error": clean_err},
    }


def calibrate(real_dir: Path = REAL_DIR, scripted_dir: Path = SCRIPTED_DIR) -> dict[str, Any]:
    """Run the checks on both corpora: ``{"real": score_real(...), "scripted": score_scripted(...)}``."""
    return {"real": score_real(run(load_real(real_dir))), "scripted": score_scripted(run(load_scripted(scripted_dir), corpus_checks=False))}


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.0%}"


def format_report(result: dict[str, Any]) -> Iterable[str]:
    """The report ``python -m datagen.validate --calibration`` prints, line by line."""
    for name, title in (
        ("real", "real corpus (tests/fixtures/calibration: other people's dialogues, labelled by hand)"),
        ("scripted", "scripted defect corpus (tests/fixtures/defects)"),
    ):
        r = result[name]
        yield f"== {title}: {r['dialogues']} dialogues, {r['clean']} clean, {r['labelled_defects']} labelled defects"
        yield f"{'check':28} {'severity':8} {'findings':>8} {'true':>5} {'false':>5} {'precision':>9} {'recall':>12}"
        for cid, c in r["per_check"].items():
            if not c["findings"] and not c["of"]:
                continue
            rec = f"{_pct(c['recall'])} ({c['recalled']}/{c['of']})" if c["of"] else "-"
            yield f"{cid:28} {c['severity']:8} {c['findings']:>8} {c['true']:>5} {c['false']:>5} {_pct(c['precision']):>9} {rec:>12}"
        e, w, rc, h = r["error"], r["warning"], r["recall"], r["held_back"]
        yield (
            f"error-level precision {_pct(e['precision'])} ({e.get('true', 0)}/{e.get('findings', 0)}), "
            f"warning precision {_pct(w['precision'])} ({w.get('true', 0)}/{w.get('findings', 0)}), "
            f"recall of labelled defects {_pct(rc['value'])} ({rc['hit']}/{rc['total']})"
        )
        if name == "real":
            yield (
                "clean dialogues held back by an error finding: "
                f"human-curated {h.get('human_curated_clean_with_error', 0)}/{h.get('human_curated_clean', 0)}, "
                f"all clean {h.get('clean_with_error', 0)}/{h.get('clean', 0)}"
            )
            yield "recall by reason: " + ", ".join(f"{k} {a}/{b}" for k, (a, b) in r["recall_by_reason"].items())
        else:
            yield f"clean dialogues held back by an error finding: {h['clean_with_error']}/{h['clean']}"
