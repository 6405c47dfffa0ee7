"""`kpi validate` beyond the file: source files exist; with ``--check-data`` the real tables
(layer: the edge; uses backends).

``check_definitions`` (always run by validate): every ``files:`` path or glob matches at least one
file, and no measure filter compares a mapped column with a value its mapping never yields.
``check_data``: for each table it reads zero rows (``SELECT * FROM <source> WHERE 1 = 0``) and
compares the column names the engine reports with the source columns the definitions read; then it
parses a sample of each column with a ``format:`` (a wrong date format fails here, not at the first
question). Every gap is one issue with its file:line; all are raised together.
"""

from __future__ import annotations

import glob
from pathlib import Path

from .backends import connect
from .catalog import Catalog
from .compile_tables import TableSQL
from .errors import DataError, DefinitionError, Issue, KpiUserError, hint_for
from .expressions import column_refs, parse_snippet
from .i18n import _
from .load import Loaded
from .statement import from_duckdb
from .yamlio import line_of


SAMPLE_ROWS = 1000


def check_definitions(loaded: Loaded) -> None:
    """What `kpi validate` adds to loading: globs that match nothing (they were "internal error" at
    query time) and filters on values a ``values:`` mapping never yields."""
    from .validate_sql import rule_mapped_filters
    from .yamlio import dotted

    issues = [Issue(message, loaded.source, line_of(loaded.raw, path), dotted(path))
              for path, message in rule_mapped_filters(Catalog(loaded.defs))]
    for name, t in loaded.defs.tables.items():
        if t.source.files:
            path = Path(t.source.files)
            pattern = str(path if path.is_absolute() else loaded.base_dir / path)
            if not glob.glob(pattern, recursive=True):
                where = ("tables", name, "source")
                issues.append(Issue(_("files: '{files}' matches no file (looked for {pattern})").format(
                                    files=t.source.files, pattern=pattern),
                                    loaded.source, line_of(loaded.raw, where), ".".join(where)))
    if issues:
        raise DefinitionError(issues)


def check_data(loaded: Loaded) -> None:
    check_definitions(loaded)
    defs = loaded.defs
    files_only = all(t.source.files for t in defs.tables.values())
    backend = connect(defs.connection.url, base_dir=loaded.base_dir, read_only=True, missing_ok=files_only)
    tables = TableSQL(Catalog(defs), loaded.base_dir)
    issues: list[Issue] = []
    try:
        for name, t in defs.tables.items():
            before = len(issues)
            where = ("tables", name, "source")
            try:
                df = backend.run(f"SELECT * FROM {tables.source_sql(t.source)} WHERE 1 = 0", {})
            except KpiUserError as e:
                issues.append(Issue(_("cannot read table '{table}': {error}").format(table=name, error=e), loaded.source,
                                    line_of(loaded.raw, where), ".".join(where)))
                continue
            actual = {c.lower(): c for c in df.names}
            for col, c in t.columns.items():
                wanted = [c.from_ or col] if not c.expr else [r.name for r in column_refs(parse_snippet(c.expr, defs.sql_dialect))]
                for w in wanted:
                    if w.lower() not in actual:
                        path = ("tables", name, "columns", col)
                        issues.append(Issue(_("column '{column}' not found in the source of table '{table}'").format(
                                            column=w, table=name) + hint_for(w, list(df.names), what=_("its columns")),
                                            loaded.source, line_of(loaded.raw, path), ".".join(path)))
            if len(issues) == before:  # every column found: their formats can be tried
                issues += _format_issues(loaded, backend, tables, name)
    finally:
        backend.close()
    if issues:
        raise DefinitionError(issues)


def _format_issues(loaded: Loaded, backend, tables: TableSQL, name: str) -> list[Issue]:  # noqa: ANN001
    """Parse a sample of every column with a ``format:``; a date format that does not match fails here."""
    out = []
    t = loaded.defs.tables[name]
    for col, c in t.columns.items():
        if not c.format:
            continue
        sql = (f"SELECT {tables.column_sql(c, col)} AS v FROM (SELECT * FROM {tables.source_sql(t.source)} "
               f"LIMIT {SAMPLE_ROWS}) AS sample_")
        try:
            backend.run(from_duckdb(sql, backend.dialect), {})
        except KpiUserError as e:
            path = ("tables", name, "columns", col, "format")
            out.append(Issue(_("format '{format}' does not read the data of column '{column}': {error}").format(
                             format=c.format, column=col, error=e),
                             loaded.source, line_of(loaded.raw, path), ".".join(path)))
    return out


__all__ = ["check_data", "check_definitions", "DataError"]
