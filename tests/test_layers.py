"""The layering docs/ARCHITECTURE.md states, checked on the source with the AST (issue 16).

- only ``datagen/ui.py`` imports streamlit inside the library;
- pages and ``app.py`` import the library only through ``datagen`` (no ``sqlite3`` / ``sqlite_utils``:
  no SQL in a page);
- the bottom layer (``store``, ``migrations``, ``dialogue``, ``config``, ``fastjson``, ``settings``, ``errors``)
  imports nothing from the library layers above it, at module level or inside a function;
- inside the ``datagen/quality/`` package each module imports only the modules listed before it in
  :data:`QUALITY` (its ``__init__`` re-exports them all);
- inside ``datagen/publish/`` each module imports only the modules before it in :data:`PUBLISH`, and
  none imports the package itself, except ``hub`` (it looks ``default_hub`` up on the package, where
  callers replace it); imports for type annotations only (``if TYPE_CHECKING:``) do not count.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BOTTOM = {"store", "migrations", "dialogue", "config", "fastjson", "settings", "errors"}
QUALITY = ["samples", "findings", "closing", "per_sample", "dedup", "decontam", "gate"]
"""The modules of ``datagen/quality/``, lowest first (docs/ARCHITECTURE.md, "Module ownership")."""
PUBLISH = ["rules", "rows", "history", "shards", "card", "release", "hub"]
"""The modules of ``datagen/publish/``, bottom first (docs/ARCHITECTURE.md, "Module ownership")."""


def _imports(path: Path, root: Path = ROOT, *, annotations: bool = True) -> set[str]:
    """Every module a file imports, anywhere in it, as absolute dotted names (``.x`` → ``datagen.x``);
    without those under ``if TYPE_CHECKING:`` when ``annotations`` is false."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    if not annotations:
        for node in [n for n in ast.walk(tree) if isinstance(n, ast.If) and isinstance(n.test, ast.Name) and n.test.id == "TYPE_CHECKING"]:
            node.body = [ast.Pass()]
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
                if node.module is None:  # from . import x, y
                    found.update(f"{mod}.{a.name}" for a in node.names)
                else:
                    found.add(mod)
            else:
                found.add(node.module or "")
                if node.module == "datagen":
                    found.update(f"datagen.{a.name}" for a in node.names)
    return found


def _library_files() -> list[Path]:
    return sorted((ROOT / "datagen").rglob("*.py"))


def test_only_ui_imports_streamlit():
    offenders = [
        str(p.relative_to(ROOT)) for p in _library_files() if p.name != "ui.py" and any(m == "streamlit" or m.startswith("streamlit.") for m in _imports(p))
    ]
    assert offenders == []


@pytest.mark.parametrize("page", sorted([*(ROOT / "pages").glob("*.py"), ROOT / "app.py"]), ids=lambda p: p.name)
def test_pages_reach_data_only_through_the_library(page):
    mods = _imports(page)
    assert not {m for m in mods if m.split(".")[0] in ("sqlite3", "sqlite_utils", "openai", "huggingface_hub", "datasets")}


@pytest.mark.parametrize("name", sorted(BOTTOM))
def test_the_bottom_layer_imports_nothing_above_it(name):
    path = ROOT / "datagen" / f"{name}.py"
    if not path.exists():
        pytest.skip(f"datagen/{name}.py does not exist")
    above = {m for m in _imports(path) if m.startswith("datagen.") and m.split(".")[1] not in BOTTOM}
    assert above == set(), f"datagen/{name}.py imports {sorted(above)}"


def test_the_quality_package_lists_every_module():
    assert sorted(p.stem for p in (ROOT / "datagen" / "quality").glob("*.py") if p.stem != "__init__") == sorted(QUALITY)


@pytest.mark.parametrize("name", QUALITY)
def test_a_quality_module_imports_only_the_ones_below_it(name):
    mods = _imports(ROOT / "datagen" / "quality" / f"{name}.py")
    inside = {m.split(".")[2] for m in mods if m.startswith("datagen.quality.")}
    assert "datagen.quality" not in mods, f"datagen/quality/{name}.py imports the package itself"
    assert inside <= set(QUALITY[: QUALITY.index(name)]), f"datagen/quality/{name}.py imports {sorted(inside)}"


def test_the_checker_sees_an_upward_import(tmp_path):
    """The AST walk finds imports inside functions too (migration 003 once imported review there)."""
    (tmp_path / "datagen").mkdir()
    fake = tmp_path / "datagen" / "store.py"
    fake.write_text("def f():\n    from .review import recompute_state\n    from . import jobs\n", encoding="utf-8")
    assert {"datagen.review", "datagen.jobs"} <= _imports(fake, tmp_path)


@pytest.mark.parametrize("name", PUBLISH)
def test_publish_modules_import_only_the_ones_below_them(name):
    mods = _imports(ROOT / "datagen" / "publish" / f"{name}.py", annotations=False)
    inside = {m.split(".")[2] for m in mods if m.startswith("datagen.publish.")}
    assert inside <= set(PUBLISH[: PUBLISH.index(name)]), f"datagen/publish/{name}.py imports {sorted(inside)}"
    assert name == "hub" or "datagen.publish" not in mods


def test_publish_lists_every_module_of_the_package():
    assert {p.stem for p in (ROOT / "datagen" / "publish").glob("*.py")} == {*PUBLISH, "__init__", "__main__"}


TESTS_OF = {
    # library module → the test modules that test it, where it has no tests/test_<module>.py of its
    # own (issue 16, point 6: one place to look for a module's tests). CLI modules are run as
    # ``python -m datagen.<module>`` in a subprocess, which the check below accepts as a use.
    "audit_cli": ["test_audit.py"],  # run as python -m datagen.audit (its entry point: ENTRY_POINT_OF)
    "calibration": ["test_checks.py"],
    "cli": ["test_cli_pipeline.py", "test_cli_review.py", "test_cli_push_to_hub.py"],
    "config": ["test_domain.py"],
    "errors": ["test_messages.py"],
    "fastjson": ["test_ingest_scale.py"],
    "generate_batch": ["test_cli_pipeline.py"],
    "generate_gold_batch": ["test_cli_pipeline.py"],
    "generator_schema": ["test_domain.py", "test_judge.py"],
    "import_file": ["test_ingest_hostile.py", "test_import.py"],
    "ingest": ["test_import.py", "test_import_layouts.py", "test_ingest_hostile.py", "test_ingest_scale.py"],
    "jobs": ["test_batches.py", "test_cli_pipeline.py"],
    "offline": ["test_batches.py", "test_judge.py"],
    "offline_dialogues": ["test_domain.py", "test_checks.py"],
    "pools": ["test_ingest_scale.py"],
    "preprocess": ["test_cli_pipeline.py"],
    "pricing": ["test_batches.py"],
    "prompts": ["test_domain.py"],
    "push_to_hub": ["test_cli_push_to_hub.py"],
    "retrieve_batch": ["test_cli_pipeline.py"],
    "retry_failed": ["test_batches.py", "test_cli_pipeline.py"],
    "review_cli": ["test_cli_review.py"],
    "scenarios": ["test_domain.py", "test_batches.py"],
    "settings": ["test_backend.py", "test_secrets.py"],
    "stats": ["test_buckets.py", "test_cli_pipeline.py"],
    "store": ["test_transactions.py", "test_migrations.py", "test_ingest_scale.py"],
    "submit_batch": ["test_batches.py", "test_cli_pipeline.py"],
    "ui": ["test_checks.py"],  # and through every page: tests/test_pages*.py run them with AppTest
    "validate": ["test_quality.py", "test_cli_pipeline.py"],
    "yields": ["test_buckets.py", "test_batches.py"],
}


def _library_modules() -> list[str]:
    """``datagen/<name>.py`` and ``datagen/<package>/`` names (what a ``tests/test_<name>.py`` would be named after)."""
    lib = ROOT / "datagen"
    return sorted({p.stem for p in lib.glob("*.py") if p.stem not in ("__init__", "__main__")} | {p.parent.name for p in lib.glob("*/__init__.py")})


ENTRY_POINT_OF = {"audit_cli": "audit"}
"""CLI modules run through another module's ``python -m`` entry point."""


def _uses(test_file: Path, module: str) -> bool:
    """The test file imports ``datagen.<module>`` (or something inside it), or names it in code it
    runs in a subprocess (``-m datagen.<module>``, a script string), or runs its entry point."""
    dotted = f"datagen.{module}"
    if any(m == dotted or m.startswith(dotted + ".") for m in _imports(test_file)):
        return True
    names = [dotted] + ([f"datagen.{ENTRY_POINT_OF[module]}"] if module in ENTRY_POINT_OF else [])
    text = test_file.read_text(encoding="utf-8")
    return any(re.search(rf"\b{re.escape(n)}\b(?!\.)", text) or f'"{n}"' in text for n in names)


@pytest.mark.parametrize("module", _library_modules())
def test_every_library_module_has_its_tests_in_a_known_place(module):
    """Each library module has ``tests/test_<module>.py``, or :data:`TESTS_OF` names the test
    modules that test it; each named test module exists and really imports (or runs) the module."""
    own = ROOT / "tests" / f"test_{module}.py"
    if own.exists():
        assert module not in TESTS_OF, f"{module} has tests/test_{module}.py: drop it from TESTS_OF"
        assert _uses(own, module), f"tests/test_{module}.py does not import datagen.{module}"
        return
    assert module in TESTS_OF, f"datagen/{module}: add tests/test_{module}.py or name its test modules in TESTS_OF"
    for name in TESTS_OF[module]:
        path = ROOT / "tests" / name
        assert path.exists(), name
        assert _uses(path, module), f"{name} does not import or run datagen.{module}"


def test_the_package_version_is_the_one_pyproject_declares():
    import tomllib

    import datagen

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert datagen.__version__ == declared
