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
