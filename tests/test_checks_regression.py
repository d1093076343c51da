"""Every finding of the per-dialogue checks, as recorded before the checks were made faster (issue 14,
ingest speed): the real calibration corpus, the labelled defect corpus, offline dialogues and
randomly mutated copies of them (``tests/fixtures/findings/build.py`` says how they were made).

A change that only makes the checks faster must leave this list exactly as it is: same dialogues,
checks, severities, turns, reasons and messages, in the same order, on each path the product runs
the checks through. A change that means to alter findings re-records the fixture
(``python tests/fixtures/findings/build.py``) and says so.
"""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path

import pytest

from datagen import checks
from datagen.checks import check_stored, run_checks
from datagen.quality import check_record

FIXTURE = Path(__file__).parent / "fixtures" / "findings"
_spec = importlib.util.spec_from_file_location("findings_build", FIXTURE / "build.py")
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)


@pytest.fixture(scope="module")
def dialogues():
    return build.all_dialogues()


@pytest.fixture(scope="module")
def recorded():
    return build.read_findings()


def test_the_fixture_covers_every_per_dialogue_check_and_all_four_corpora(dialogues, recorded):
    assert Counter(c for c, _, _ in dialogues) == {"real": 162, "scripted": 221, "offline": build.N_OFFLINE, "mutated": build.N_OFFLINE}
    by_check = Counter(r["check"] for r in recorded)
    assert set(by_check) == set(checks.PER_DIALOGUE)
    assert {r["corpus"] for r in recorded} == {"real", "scripted", "offline", "mutated"}
    assert len(recorded) > 3000


def _rows(dialogues, run) -> list[dict]:
    rows = []
    for corpus, uid, d in dialogues:
        rows.extend(build.finding_rows(corpus, uid, run(d)))
    return rows


def _first_difference(got: list[dict], want: list[dict]) -> str:
    for k, (a, b) in enumerate(zip(got, want)):
        if a != b:
            return f"finding {k}: got {a}, recorded {b}"
    return f"got {len(got)} findings, recorded {len(want)}"


@pytest.mark.parametrize("path", ["run_checks", "check_stored", "check_record"])
def test_every_finding_is_as_recorded_on_every_path(dialogues, recorded, path):
    """``run_checks`` on the model (the public API), ``check_stored`` on the stored JSON text
    (``quality.check_samples``), ``check_record`` on the decoded dict with the tools beside it
    (what ingest's workers run)."""
    run = {
        "run_checks": run_checks,
        "check_stored": lambda d: check_stored(d.model_dump_json()),
        "check_record": lambda d: check_record({**d.model_dump(exclude={"tools"}), "tools": d.tools})[0],
    }[path]
    got = _rows(dialogues, run)
    assert got == recorded, _first_difference(got, recorded)


def test_a_changed_check_would_be_caught(dialogues, recorded, monkeypatch):
    """The comparison can fail: one message changed in one check makes the list differ."""
    spec = checks.CHECKS["unsaid_option"]
    original = spec.fn

    def altered(view):
        for turn, message in original(view):
            yield turn, message + "!"

    monkeypatch.setitem(checks.CHECKS, "unsaid_option", spec.__class__(**{**{f: getattr(spec, f) for f in spec.__slots__}, "fn": altered}))
    assert _rows(dialogues, run_checks) != recorded
