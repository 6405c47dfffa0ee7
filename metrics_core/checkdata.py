"""`kpi validate --check-data`: declared columns against the real tables (layer: backends use).

For each table it reads zero rows (``SELECT * FROM <source> WHERE 1 = 0``) and compares the
column names the engine reports with the source columns the definitions read. Every gap is one
issue with its file:line; all are raised together.
"""

from __future__ import annotations

from .backends import connect
from .catalog import Catalog
from .compile_tables import TableSQL
from .errors import DataError, DefinitionError, Issue, KpiUserError, hint_for
from .expressions import column_refs, parse_snippet
from .load import Loaded
from .yamlio import line_of


def check_data(loaded: Loaded) -> None:
    defs = loaded.defs
    backend = connect(defs.connection.url, base_dir=loaded.base_dir, read_only=True)
    tables = TableSQL(Catalog(defs), loaded.base_dir)
    issues: list[Issue] = []
    try:
        for name, t in defs.tables.items():
            where = ("tables", name, "source")
            try:
                df = backend.run(f"SELECT * FROM {tables.source_sql(t.source)} WHERE 1 = 0", {})
            except KpiUserError as e:
                issues.append(Issue(f"cannot read table '{name}': {e}", loaded.source, line_of(loaded.raw, where), ".".join(where)))
                continue
            actual = {c.lower(): c for c in df.columns}
            for col, c in t.columns.items():
                wanted = [c.from_ or col] if not c.expr else [r.name for r in column_refs(parse_snippet(c.expr, defs.sql_dialect))]
                for w in wanted:
                    if w.lower() not in actual:
                        path = ("tables", name, "columns", col)
                        issues.append(Issue(f"column '{w}' not found in the source of table '{name}'"
                                            f"{hint_for(w, list(df.columns), what='its columns')}",
                                            loaded.source, line_of(loaded.raw, path), ".".join(path)))
    finally:
        backend.close()
    if issues:
        raise DefinitionError(issues)


__all__ = ["check_data", "DataError"]
