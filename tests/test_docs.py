"""Documentation stays true: every CLI step has --help with a runnable example and is in the README."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STEPS = [
    "generate_batch",
    "generate_gold_batch",
    "submit_batch",
    "retrieve_batch",
    "preprocess",
    "render_txt",
    "push_to_hub",
    "import_file",
    "stats",
    "validate",
    "retry_failed",
    "review",
    "judge",
    "audit",
]


@pytest.mark.parametrize("step", STEPS)
def test_step_is_documented_and_has_an_example(step):
    readme = (ROOT / "README.md").read_text()
    assert f"python -m datagen.{step}" in readme
    proc = subprocess.run([sys.executable, "-m", f"datagen.{step}", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert re.search(rf"example:\s+python -m datagen\.{step}\b", proc.stdout)


def test_readme_starts_with_the_two_setup_commands():
    readme = (ROOT / "README.md").read_text()
    block = readme.split("```bash", 1)[1].split("```", 1)[0]
    commands = [l for l in block.splitlines() if l.strip() and not l.startswith("#")]
    assert commands[0].startswith("python -m pip install -r requirements.txt") and "streamlit run app.py" in commands[0]
    assert commands[1].startswith("python -m pip install -r requirements-dev.txt") and "pytest" in commands[1]
    assert commands[1] in (ROOT / ".ci" / "run").read_text()


ARCHITECTURE = ROOT / "docs" / "ARCHITECTURE.md"
CITATION = re.compile(r'ARCHITECTURE\.md,\s*"([^"]+)"')
TEXT_SUFFIXES = {".py", ".md", ".toml", ".txt", ".sh", ".cfg", ".ini", ".yml", ".yaml"}
SKIP_DIRS = {".git", "__pycache__", "output", ".venv", "node_modules", ".hypothesis", ".pytest_cache"}


def _repo_text_files() -> list[Path]:
    files = [
        p
        for p in ROOT.rglob("*")
        if p.is_file() and (p.suffix in TEXT_SUFFIXES or p.parent.name == ".ci") and not SKIP_DIRS & set(p.relative_to(ROOT).parts[:-1])
    ]
    assert len(files) > 50  # the walk sees the repository
    return sorted(files)


def _sections() -> set[str]:
    return {m[1].strip() for m in re.finditer(r"^#{2,3} (.+)$", ARCHITECTURE.read_text(encoding="utf-8"), re.M)}


def test_every_architecture_citation_names_a_section_that_exists():
    """Code and tests cite docs/ARCHITECTURE.md as ``ARCHITECTURE.md, "<section>"`` (issue 16 point 6):
    each named section exists, and no citation leaves the section out (``ARCHITECTURE.md, facts``)."""
    sections = _sections()
    assert {"Storage", "Facts", "Post-mortems", "Errors and messages"} <= sections
    missing, unquoted, n = [], [], 0
    for path in _repo_text_files():
        if path in (ARCHITECTURE, Path(__file__).resolve()):  # they show the form with examples
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for m in CITATION.finditer(text):
            n += 1
            if m[1] not in sections:
                missing.append(f"{path.relative_to(ROOT)}: {m[1]!r}")
        for m in re.finditer(r"ARCHITECTURE\.md,(?!\s*\")", text):
            unquoted.append(f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, m.start()) + 1}")
    assert n >= 40  # the code's citations (46 once pointed at DESIGN.md)
    assert missing == [] and unquoted == []


def test_nothing_cites_a_design_document_outside_the_repository():
    """DESIGN.md lives outside the repository; a reader of the repo could not follow a citation of it."""
    cited = [
        str(p.relative_to(ROOT)) for p in _repo_text_files() if "DESIGN.md" in p.read_text(encoding="utf-8", errors="replace") and p != Path(__file__).resolve()
    ]
    assert cited == []


def test_the_citation_checker_sees_a_missing_section():
    text = 'x (ARCHITECTURE.md, "Facts") y (ARCHITECTURE.md, "No such section")'
    assert [m[1] for m in CITATION.finditer(text) if m[1] not in _sections()] == ["No such section"]
