"""The layers of sheets/, written down: the pure half never imports a client library, and
nothing imports core privates (``metrics_core._x`` or ``_name`` from a core module)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SHEETS = Path(__file__).parents[2] / "sheets"
PURE = ("formats", "report", "layout", "plan", "config", "workbook")
CLIENTS = ("gspread", "google", "openpyxl", "requests", "tenacity", "rich", "typer", "duckdb")


def imports(module: str) -> list[tuple[str, list[str]]]:
    tree = ast.parse((SHEETS / f"{module}.py").read_text())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            out.append((node.module or "", [a.name for a in node.names]))
    return out


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_import_no_client_library(module):
    bad = [m for m, _ in imports(module) if m.split(".")[0] in CLIENTS]
    assert not bad, f"sheets/{module}.py imports {bad}: keep I/O in writer/auth/http/xlsx/cli"


@pytest.mark.parametrize("module", sorted(p.stem for p in SHEETS.glob("*.py")))
def test_no_core_privates(module):
    for mod, names in imports(module):
        if mod.startswith("metrics_core"):
            assert not any(part.startswith("_") for part in mod.split(".")), (module, mod)
            assert not any(n.startswith("_") for n in names), (module, mod, names)


def test_modules_stay_small():
    sizes = {p.name: len(p.read_text().splitlines()) for p in SHEETS.glob("*.py")}
    assert all(n <= 300 for n in sizes.values()), sizes
