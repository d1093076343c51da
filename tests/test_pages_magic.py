"""No page writes an expression's value by accident (Streamlit "magic" would print a DeltaGenerator)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_no_bare_expression_statements_except_calls(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Expr) and not isinstance(node.value, (ast.Call, ast.Constant, ast.Await, ast.Yield))]
    bad += [  # a call of a conditional expression, e.g. (st.success if ok else st.error)(msg)
        node.lineno for node in ast.walk(tree) if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.IfExp)
    ]
    assert bad == [], f"{path.name}: expression statements at lines {bad} would be written to the page"
