"""The values a dimension takes, with row counts, and filter conditions on them (layer: compile; pure).

    SELECT CASE WHEN TRIM(CAST(j_account.segment AS VARCHAR)) = '' THEN NULL
                ELSE CAST(j_account.segment AS VARCHAR) END AS value, COUNT(*) AS n
    FROM (SELECT ... FROM raw_deals) AS t LEFT JOIN (...) AS j_account ON ...
    WHERE (stage IN ('won', 'lost')) AND (t.closed_at >= DATE '2026-01-01' AND t.closed_at < DATE '2026-04-01')
    GROUP BY 1

Rows are those a measure counts (its filter, its first-per-entity rule, its time column for the
period), or all rows of a table. Identifiers come from validated definitions only; a blank value
(NULL or only spaces) is one value, shown and filtered as ``(blank)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlglot

from .catalog import Catalog
from .compile_scan import Edges, in_windows
from .compile_tables import TableSQL
from .errors import QueryError, hint_for
from .i18n import _
from .models import ConversionMetric, CumulativeMetric, MeasureDef, RatioMetric, SimpleMetric
from .periods import Calendar, Period

BLANK = "(blank)"


def is_blank(value: object) -> bool:
    return str(value).strip().lower() == BLANK


def value_condition(col: str, values: tuple[str, ...], params: dict[str, Any]) -> str:
    """``col`` equal (case-insensitively) to one of ``values``, each a bound parameter; ``(blank)``
    matches NULL and empty text. Without ``(blank)`` the SQL is the plain ``LOWER(...) IN (...)``."""
    names = []
    for v in values:
        if not is_blank(v):
            key = f"p{len(params)}"
            params[key] = str(v).lower()
            names.append(f"${key}")
    conds = [f"LOWER(CAST({col} AS VARCHAR)) IN ({', '.join(names)})"] if names else []
    if len(names) < len(values):
        conds.append(f"{col} IS NULL OR TRIM(CAST({col} AS VARCHAR)) = ''")
    return conds[0] if len(conds) == 1 and names else "((" + ") OR (".join(conds) + "))"


def base_measure(cat: Catalog, metric: str) -> str:
    """The measure whose rows a metric is "about": a ratio's denominator, a conversion's base, else
    the first measure it breaks down (win_rate -> closed deals)."""
    m = cat.defs.metrics[metric]
    if isinstance(m, CumulativeMetric):
        m = m.per_window()
    if isinstance(m, RatioMetric):
        return m.denominator
    if isinstance(m, ConversionMetric):
        return m.base.measure
    if isinstance(m, SimpleMetric):
        return m.measure
    found = cat.breakdown_measures(metric)
    if not found:
        raise QueryError(_("'{metric}' reads no table; it has no dimension values").format(metric=metric))
    return found[0]


def tables_with(cat: Catalog, dimension: str) -> list[str]:
    return [t for t in cat.defs.tables if dimension in cat.table_dimensions(t)]


def values_sql(cat: Catalog, cal: Calendar, dimension: str, measure: MeasureDef, *, period: Period | None = None,
               counted: bool = True, dialect: str = "duckdb", base_dir: Path | None = None) -> tuple[str, dict[str, Any]]:
    """(statement, parameters): each value of ``dimension`` on ``measure``'s table with its row count."""
    text = _values_text(cat, cal, dimension, measure, period, counted, base_dir)
    return sqlglot.parse_one(text, read="duckdb").sql(dialect=dialect, pretty=True), {}


def known_values_sql(cat: Catalog, cal: Calendar, dimensions: list[str], measure: MeasureDef, *,
                     dialect: str = "duckdb", base_dir: Path | None = None) -> str:
    """One statement: every value of each of ``dimensions`` in all rows of ``measure``'s table, any
    time (column ``f`` = the dimension's index), to tell a typo from a value with no rows in a window."""
    parts = [f"SELECT {i} AS f, v{i}.value, v{i}.n FROM ({_values_text(cat, cal, d, measure, None, False, base_dir)}) AS v{i}"
             for i, d in enumerate(dimensions)]
    return sqlglot.parse_one(" UNION ALL ".join(parts), read="duckdb").sql(dialect=dialect, pretty=True)


def _values_text(cat: Catalog, cal: Calendar, dimension: str, measure: MeasureDef, period: Period | None,
                 counted: bool, base_dir: Path | None) -> str:
    """The statement in DuckDB's SQL (the compiler's source dialect).

    ``counted``: only the rows the measure counts (its filter); else every row of the table.
    ``period``: only rows whose time column (the measure's, else the table's) falls in it."""
    tables = TableSQL(cat, base_dir)
    table = measure.table
    dims = cat.table_dimensions(table)
    if dimension not in dims:
        raise QueryError(_("table '{table}' has no dimension '{dimension}'").format(table=table, dimension=dimension)
                         + hint_for(dimension, dims, what=_("its dimensions")))
    time = (measure.snapshot.from_ if measure.snapshot else None) or measure.time or cat.defs.tables[table].time
    if period is not None and not time:
        raise QueryError(_("table '{table}' has no time column, so its values cannot be limited to a period")
                         .format(table=table))
    if not counted:
        measure = MeasureDef(table=table, agg="count", time=time)
    dim_expr = dims[dimension].expr
    snippets = [dim_expr, measure.filter if counted else None, time if period else None, measure.first_per]
    from_sql = tables.from_clause(measure, [s for s in snippets if s])
    col = tables.expr(dim_expr, table)
    text = f"CAST({col} AS VARCHAR)"
    where = []
    if counted and measure.filter and not measure.first_per:  # first_per rows passed it when picked
        where.append(tables.expr(measure.filter, table))
    if period is not None and time:
        kind = "timestamp" if cat.column_type(table, time) == "timestamp" else "date"
        where.append(in_windows(tables.expr(time, table), Edges.of({0: period}, cal), kind))
    where_sql = (" WHERE " + " AND ".join(f"({w})" for w in where)) if where else ""
    return (f"SELECT CASE WHEN TRIM({text}) = '' THEN NULL ELSE {text} END AS value, COUNT(*) AS n "
            f"FROM {from_sql}{where_sql} GROUP BY 1")
