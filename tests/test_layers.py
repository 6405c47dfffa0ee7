"""The architecture, written down: which module may import which (read with ``ast``, nothing imported).

metrics_core is layered; a module may import its own rank or lower, never higher. Imports inside
functions and under TYPE_CHECKING count too: a lazy upward import is still an upward dependency.
bot/ and sheets/ are clients of the core and use its public surface only. bot/ (the long-running
service, ``kpi serve``) may use sheets/ through its public API (``sheets.__all__``); sheets/ never
imports bot/.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterator

import pytest

import metrics_core

REPO = Path(__file__).resolve().parent.parent
CORE = REPO / "metrics_core"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "i18n", "redaction"),                            # 0: imports nothing from the project
    ("yamlio", "yamlparse", "phrases", "periods", "period_labels", "columns", "memo"),     # 1: text in, plain data / calendar math
    ("models", "expressions"),                                  # 2: the format; SQL snippets
    ("catalog", "validate_sql", "validate", "load", "defcache", "schema"),  # 3: definitions: what they mean, loading
    ("filters", "grammar", "compile_filters", "compile_rows", "compile_tables", "compile_scan", "compile_conversion", "compile_split", "compile_values", "compile", "formatting", "result", "doctor_sql", "doctor_whatif",
     "excluded_sql", "fineprint", "compile_cumulative", "why", "statement",  # 4: questions -> SQL (pure)
     "rollup_sql", "rollup_serve", "rollup_serve_sql"),
    ("backends", "cache", "plancache", "rollup_stamp", "rollup_store", "rollup_build"),      # 5: I/O: engines, the result cache, rollups
    ("assemble", "explain", "values", "records", "why_answer", "multi", "export", "api", "question_plan", "rollup_answer", "doctor", "doctor_shift", "doctor_specs", "excluded",
     "rollup_suggest", "__init__"),  # 6: the facade
    ("cli", "cli_edge", "cli_entry", "cli_render", "cli_rollups", "cli_rows", "cli_why", "demo", "demo_data", "checkdata", "doctor_render"),  # 7: the edge
)
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}
DRIVERS = ("duckdb", "psycopg", "psycopg2", "pyspark", "google", "snowflake")
PURE = 4  # ranks up to here do no I/O: no warehouse driver may be imported
# What bot/ and sheets/ may use: `from metrics_core import <name in __all__>` or these submodules.
# `cli` is the plugin API of the one command line (open_kpi, guarded, parse_as_of).
# `i18n` and `formatting`: the one catalog and the Babel formats, so every surface speaks alike.
PUBLIC_SUBMODULES = ("errors", "result", "periods", "api", "cli", "i18n", "formatting")


def imports(path: Path, package: str) -> Iterator[tuple[int, str, tuple[str, ...]]]:
    """(line, absolute module, imported names) of every import in a file, relative ones resolved.

    metrics_core/backends/duckdb.py: ``from ..errors import DataError`` -> (12, "metrics_core.errors", ("DataError",))
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in sorted((n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))),
                       key=lambda n: n.lineno):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, ()
        elif isinstance(node, ast.ImportFrom):
            names = tuple(a.name for a in node.names)
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
                if not node.module:   # `from . import x`: each name is a module
                    for name in names:
                        yield node.lineno, f"{module}.{name}", ()
                    continue
                yield node.lineno, module, names
            else:
                yield node.lineno, node.module or "", names


def core_files() -> list[Path]:
    return sorted(CORE.rglob("*.py"))


def layer_of(module: str) -> str:
    """metrics_core.backends.duckdb -> 'backends'; metrics_core -> '__init__'."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def module_of(path: Path) -> tuple[str, str]:
    """(module name, package the file's relative imports start from)."""
    rel = path.relative_to(REPO).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
        return ".".join(parts), ".".join(parts)
    return ".".join(parts), ".".join(parts[:-1])


def test_every_core_module_has_a_layer() -> None:
    """A new module must be placed in LAYERS (and a removed one taken out)."""
    found = {layer_of(module_of(p)[0]) for p in core_files()}
    assert sorted(found - set(RANK)) == [], "add these modules to LAYERS"
    assert sorted(set(RANK) - found) == [], "these LAYERS entries no longer exist"


def test_no_upward_imports_in_metrics_core() -> None:
    violations = []
    for path in core_files():
        module, package = module_of(path)
        mine = layer_of(module)
        for line, target, _ in imports(path, package):
            if target.split(".")[0] != "metrics_core":
                continue
            theirs = layer_of(target)
            if theirs not in RANK:
                violations.append(f"{path.relative_to(REPO)}:{line}: imports unknown module {target}")
            elif RANK[theirs] > RANK[mine]:
                violations.append(f"{path.relative_to(REPO)}:{line}: {mine} (layer {RANK[mine]}) imports "
                                  f"{theirs} (layer {RANK[theirs]})")
    assert not violations, "upward imports:\n" + "\n".join(violations)


def test_errors_imports_nothing_from_the_project() -> None:
    """Only the message catalog (i18n) and the redaction of secrets, each importing nothing from the
    project: errors speak the reader's language and never show a password."""
    found = [t for _, t, _ in imports(CORE / "errors.py", "metrics_core")
             if t.startswith("metrics_core") and t not in ("metrics_core.i18n", "metrics_core.redaction")]
    for leaf in ("i18n.py", "redaction.py"):
        found += [t for _, t, _ in imports(CORE / leaf, "metrics_core") if t.startswith("metrics_core")]
    assert not found, "\n".join(found)


def test_metrics_core_never_imports_bot_or_sheets() -> None:
    """The core finds bot/ and sheets/ through entry points only (kpi.cli, kpi.sections)."""
    found = [f"{p.relative_to(REPO)}:{line}: {t}" for p in core_files()
             for line, t, _ in imports(p, module_of(p)[1]) if t.split(".")[0] in ("bot", "sheets")]
    assert not found, "\n".join(found)


def test_pure_layers_import_no_warehouse_driver() -> None:
    """Definitions, grammar and the compiler work without any engine installed (STYLE 3)."""
    found = []
    for path in core_files():
        module, package = module_of(path)
        if RANK[layer_of(module)] <= PURE:
            found += [f"{path.relative_to(REPO)}:{line}: {t}" for line, t, _ in imports(path, package)
                      if t.split(".")[0] in DRIVERS]
    assert not found, "\n".join(found)


def test_the_rank_table_is_not_vacuous() -> None:
    """The import reader sees the known edges (so an empty violation list means something)."""
    edges = {(layer_of(module_of(p)[0]), layer_of(t)) for p in core_files()
             for _, t, _ in imports(p, module_of(p)[1]) if t.startswith("metrics_core")}
    assert {("api", "compile"), ("compile", "catalog"), ("backends", "errors"), ("cli_edge", "api"),
            ("models", "periods"), ("load", "validate")} <= edges


# -- bot/ and sheets/ use the public surface only -------------------------------------------------------

def client_violations(package: str) -> list[str]:
    public = set(metrics_core.__all__)
    out = []
    for path in sorted((REPO / package).rglob("*.py")):
        for line, target, names in imports(path, module_of(path)[1]):
            if target.split(".")[0] != "metrics_core":
                continue
            where = f"{path.relative_to(REPO)}:{line}"
            if target == "metrics_core":
                out += [f"{where}: metrics_core.{n} is not in metrics_core.__all__" for n in names if n not in public]
            elif target.split(".")[1] not in PUBLIC_SUBMODULES:
                out.append(f"{where}: imports {target} ({', '.join(names) or 'module'}); allowed: metrics_core "
                           f"public names or metrics_core.{{{','.join(PUBLIC_SUBMODULES)}}}")
    return out


@pytest.mark.parametrize("package", ["bot", "sheets"])
def test_clients_use_only_the_public_api(package: str) -> None:
    found = client_violations(package)
    assert not found, f"{package}/ uses core internals:\n" + "\n".join(found)


@pytest.mark.parametrize("package", ["bot", "sheets"])
def test_clients_do_use_the_core(package: str) -> None:
    """Guard against a vacuous pass: each client does import metrics_core somewhere."""
    used = [t for p in (REPO / package).rglob("*.py") for _, t, _ in imports(p, module_of(p)[1])
            if t.startswith("metrics_core")]
    assert used


# -- bot/ may use sheets/ (its public API); sheets/ never uses bot/ ------------------------------------

def sheets_violations() -> list[str]:
    import sheets

    public = set(sheets.__all__)
    out = []
    for path in sorted((REPO / "bot").rglob("*.py")):
        for line, target, names in imports(path, module_of(path)[1]):
            where = f"{path.relative_to(REPO)}:{line}"
            if target == "sheets":
                out += [f"{where}: sheets.{n} is not in sheets.__all__" for n in names if n not in public]
            elif target.startswith("sheets."):
                out.append(f"{where}: imports {target}; bot/ may use `from sheets import <name in sheets.__all__>`")
    return out


def test_bot_uses_only_the_public_api_of_sheets() -> None:
    found = sheets_violations()
    assert not found, "bot/ uses sheets internals:\n" + "\n".join(found)


def test_bot_does_use_sheets() -> None:
    """Guard against a vacuous pass: the service imports sheets somewhere."""
    assert any(t == "sheets" for p in (REPO / "bot").rglob("*.py") for _, t, _ in imports(p, module_of(p)[1]))


def test_sheets_never_imports_bot() -> None:
    found = [f"{p.relative_to(REPO)}:{line}: {t}" for p in sorted((REPO / "sheets").rglob("*.py"))
             for line, t, _ in imports(p, module_of(p)[1]) if t.split(".")[0] == "bot"]
    assert not found, "\n".join(found)
