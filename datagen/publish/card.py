"""The dataset card: the README.md of a release.

The figures of each section (counts, review statistics, check pass rates, overlaps, the change
log) are read here from the database and the release, and passed to the Jinja2 template
``templates/card.md.j2``, which holds the card's layout and wording: YAML front matter, headings,
sentences, table headers, the usage snippets. The audited-lot section comes ready from
:func:`datagen.audit.card_section`.

The template is Markdown, not HTML: it is rendered without autoescape (model text is data, shown
as written; table cells only escape ``|``), with ``StrictUndefined`` (a missing value is an error,
not an empty string).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import sqlite_utils

from .. import audit, config, quality
from ..checks import CHECKS
from ..store import loads
from .history import publish_history
from .rules import LEFT_OUT

if TYPE_CHECKING:
    from .release import Release

LICENSE = "other"
"""Card license: the records are model output under the generator provider's terms; the publisher
decides the final license (``other`` until then)."""

TEMPLATES = Path(__file__).parent / "templates"
"""The folder of ``card.md.j2`` (shipped with the package: pyproject ``package-data``)."""


def _size_category(n: int) -> str:
    """Hugging Face ``size_categories`` bucket for ``n`` records."""
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return label
    return "1M<n<10M"


def _pct(a: float, b: float) -> str:
    return f"{100 * a / b:.1f}%" if b else "-"


def _cell(v: Any) -> str:
    """A Markdown table cell: ``None`` → empty, ``|`` escaped, line breaks → spaces."""
    return "" if v is None else str(v).replace("|", "\\|").replace("\n", " ")


_ENV: jinja2.Environment | None = None


def _environment() -> jinja2.Environment:
    """The card's Jinja2 environment (made once): Markdown, so no autoescape; ``StrictUndefined``."""
    global _ENV
    if _ENV is None:
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=False, keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
        env.filters.update(cell=_cell, json=lambda v: json.dumps(v, ensure_ascii=False), json_ascii=json.dumps)
        env.globals["pct"] = _pct
        _ENV = env
    return _ENV


def offline_rows(db: sqlite_utils.Database, release: Release) -> int:
    """Shipped rows whose job ran on the offline batch backend (scripted examples, not LLM output)."""
    job_ids = [j for j in release.jobs if j]
    if not job_ids:
        return 0
    offline = {j for (j,) in db.execute(f"SELECT id FROM jobs WHERE backend = 'offline' AND id IN ({','.join('?' * len(job_ids))})", job_ids)}
    return sum(n for j, n in release.jobs.items() if j in offline)


def _generator_section(db: sqlite_utils.Database, release: Release) -> dict:
    """Generator models (most rows first), the current tool spec version, the jobs that made the
    shipped rows (their settings, date and rows; ``id`` ``None`` for imported rows) and the rows
    made by the offline backend."""
    job_ids = [j for j in release.jobs if j]
    jobs = {}
    if job_ids:
        jobs = {r["id"]: r for r in db.query(f"SELECT * FROM jobs WHERE id IN ({','.join('?' * len(job_ids))})", job_ids)}
    rows = []
    for job_id, n in sorted(release.jobs.items(), key=lambda kv: (kv[0] is None, kv[0] or "")):
        j = jobs.get(job_id) or {}
        params = loads(j.get("params"), {}) or {}
        rows.append(
            {
                "id": job_id,
                "kind": j.get("kind"),
                "model": j.get("model"),
                "temperature": j.get("temperature"),
                "seed": j.get("seed"),
                "backend": j.get("backend"),
                "tools_version": params.get("tools_version"),
                "created": (j.get("created_at") or "")[:10],
                "rows": n,
            }
        )
    return {
        "models": sorted(release.models.items(), key=lambda kv: (-kv[1], kv[0])),
        "tools_version": config.TOOLS_VERSION,
        "jobs": rows,
        "offline": offline_rows(db, release),
    }


def _review_section(db: sqlite_utils.Database) -> dict:
    """Annotators and decisions recorded, accepts and rejects decided (per category too), the votes
    gold needs, and gold agreement (:func:`datagen.review.agreement`)."""
    from .. import review

    n_annotators, n_decisions = db.execute("SELECT COUNT(DISTINCT annotator), COUNT(*) FROM reviews WHERE decision IN ('accept', 'reject', 'skip')").fetchone()
    per = db.execute(
        "SELECT category, SUM(decision = 'accept'), SUM(decision = 'reject') FROM sample_state WHERE state = 'decided' GROUP BY category ORDER BY category"
    ).fetchall()
    acc = sum(a or 0 for _, a, _ in per)
    rej = sum(r or 0 for _, _, r in per)
    return {
        "annotators": n_annotators,
        "decisions": n_decisions,
        "accepted": acc,
        "rejected": rej,
        "gold_votes": review.GOLD_REQUIRED_VOTES,
        "per_category": [(c, a or 0, r or 0) for c, a, r in per],
        "agreement": review.agreement(db),
    }


def _checks_section(db: sqlite_utils.Database) -> dict:
    """Samples checked and without an error finding, samples per (check, severity), and the check
    titles (the model judge's from :mod:`datagen.quality`)."""
    checked = db.execute("SELECT COUNT(*) FROM sample_state WHERE checked_at IS NOT NULL OR uid IN (SELECT uid FROM findings)").fetchone()[0]
    if not checked:
        return {"checked": 0}
    clean = checked - db.execute("SELECT COUNT(DISTINCT uid) FROM findings WHERE severity = 'error'").fetchone()[0]
    per = db.execute("SELECT check_id, severity, COUNT(DISTINCT uid) FROM findings GROUP BY 1, 2 ORDER BY 2, 1").fetchall()
    return {
        "checked": checked,
        "clean": clean,
        "findings": per,
        "titles": {k: v.title for k, v in CHECKS.items()},
        "judge_check": quality.JUDGE_CHECK,
        "judge_title": quality.JUDGE_TITLE,
    }


def _decontamination_section(db: sqlite_utils.Database, release: Release) -> dict:
    """The method's parameters (:mod:`datagen.quality`), stored overlaps per method and band, and
    accepted records this release leaves out for contamination."""
    rows = db.execute("SELECT method, band, COUNT(DISTINCT uid), COUNT(DISTINCT gold_uid) FROM contamination GROUP BY 1, 2 ORDER BY 1, 2").fetchall()
    return {
        "ngram_words": quality.NGRAM_WORDS,
        "ngram_chars": quality.NGRAM_CHARS,
        "exclude_above": quality.EXCLUDE_ABOVE,
        "flag_above": quality.FLAG_ABOVE,
        "overlaps": rows,
        "excluded": release.left_out().get("decontaminated", 0),
    }


def _changelog_section(db: sqlite_utils.Database, release: Release) -> dict:
    """The difference from the previous publish (:class:`datagen.publish.history.Diff`: counts, why
    rows were removed, per reason) and, for a Hub repo, its earlier versions."""
    diff = release.diff
    return {
        "base": diff.base,
        "added": len(diff.added),
        "removed": len(diff.removed),
        "removed_reasons": sorted(Counter(diff.removed_reasons.values()).items()),
        "changed": len(diff.changed),
        "exact": diff.exact,
        "history": publish_history(db, release.repo_id) if release.repo_id else [],
    }


def dataset_card(db: sqlite_utils.Database, release: Release) -> str:
    """The README.md of a release: YAML front matter (language ko, license, task categories, size
    category, ``configs`` with one ``data_files`` entry per split) and a Korean body: version and
    counts per split and category, generator models and job settings, review statistics
    (annotators, accept rate, gold agreement), check pass rates, decontamination method and result,
    what was left out and why, the change log since the previous version, the format and how to load it;
    how many rows a person approved and how many an audited lot did, with each lot's audit figures
    (:func:`datagen.audit.card_section`).

    Deterministic for a given database state and release (no clock reads), so the card shown on
    the Publish page is byte for byte the card pushed.
    """
    card = (
        _environment()
        .get_template("card.md.j2")
        .render(
            license=LICENSE,
            size_category=_size_category(release.total),
            release=release,
            reasons=LEFT_OUT,
            categories=[(s, c, n) for (s, c), n in sorted(release.categories.items())],
            generator=_generator_section(db, release),
            review=_review_section(db),
            approval="\n".join(audit.card_section(db, {uid for us in release.splits.values() for uid in us})),  # ends with a blank line
            checks=_checks_section(db),
            decontamination=_decontamination_section(db, release),
            left_out=list(release.left_out().items()),
            changelog=_changelog_section(db, release),
        )
    )
    return card.strip()  # no trailing newline: the page's st.code shows it byte for byte
