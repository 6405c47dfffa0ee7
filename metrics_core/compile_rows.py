"""The rows behind a number: the records one measure counts in one window (layer: compile; pure).

    rows_sql(cat, cal, "won_deals", period, filters, condition, limit=20)
    -> SELECT t.deal_id AS deal_id, t.closed_at AS closed_at, j_account.segment AS segment, ...,
              COUNT(*) OVER () AS total_rows_
       FROM <the measure's FROM> WHERE (stage = 'won') AND (<in the window>) AND (<filters, bound>)
       ORDER BY closed_at, deal_id LIMIT 20

The WHERE is the one the compiler gives the measure's own scan (its filter, its first-row-per-entity
rule, its time column in the window, the question's filters as parameters), so a count measure's
value is the number of rows listed, and a sum measure's value the sum of its column over them.
A snapshot measure lists the rows open at the window's edge; a month-dated row (``grain: month``)
is listed when its month overlaps the window (it counts only its share of days when prorated).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlglot

from .catalog import Catalog
from .compile_filters import condition_sql, table_fields
from .compile_scan import Edges, effective_grain, grain_span, in_windows, prorated
from .compile_tables import TableSQL
from .compile_values import value_condition
from .filters import Filter, conds
from .models import MeasureDef
from .periods import Calendar, Period

TOTAL = "total_rows_"


@dataclass(frozen=True)
class RowsSQL:
    sql: str
    params: dict[str, Any]
    columns: tuple[str, ...]  # in the order shown; the statement adds TOTAL
    value_column: str | None  # the column a sum/avg measure adds up
    time_column: str | None


def url_fields(template: str) -> list[str]:
    """The names in braces of a ``url:`` template: "https://crm/deals/{deal_id}" -> ["deal_id"]."""
    return [name for _lit, name, _spec, _conv in string.Formatter().parse(template) if name is not None]


def columns_of(cat: Catalog, m: MeasureDef) -> dict[str, str]:
    """Shown column -> its SQL snippet on the table: primary key, time, value, dimensions, url fields."""
    t = cat.defs.tables[m.table]
    out: dict[str, str] = {}
    if t.primary_key:
        out[t.primary_key] = t.primary_key
    if m.snapshot:
        out[m.snapshot.from_] = m.snapshot.from_
        if m.snapshot.to:
            out[m.snapshot.to] = m.snapshot.to
    else:
        time = m.time or t.time
        if time:
            out[time] = time
    if m.expr:
        plain = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", m.expr.strip())
        out.setdefault(m.expr.strip() if plain else "value", m.expr)
    for name, d in cat.table_dimensions(m.table).items():
        out.setdefault(name, d.expr)
    for name in url_fields(t.url or ""):
        out.setdefault(name, name)
    return out


def rows_sql(cat: Catalog, cal: Calendar, m: MeasureDef, period: Period, filters: tuple, condition: Filter | None,
             *, limit: int, dialect: str = "duckdb", base_dir: Path | None = None) -> RowsSQL:
    tables = TableSQL(cat, base_dir)
    table, params = m.table, {}  # type: ignore[var-annotated]
    cols = columns_of(cat, m)
    fields = table_fields(cat, table)
    snippets = [*cols.values(), m.filter, m.first_per, m.time or cat.defs.tables[table].time]
    snippets += [fields[d].expr for d, _v in filters if d in fields]
    snippets += [fields[c.dim].expr for c in conds(condition) if c.dim in fields]
    from_sql = tables.from_clause(m, [s for s in snippets if s])
    where = [_in_window(cat, cal, tables, m, period)]
    if m.filter and not m.first_per:  # first_per rows passed it when each entity's first row was picked
        where.append(tables.expr(m.filter, table))
    for dim, values in filters:
        where.append(value_condition(tables.expr(fields[dim].expr, table), tuple(values), params))
    if condition is not None:
        where.append(condition_sql(condition, lambda d: (tables.expr(fields[d].expr, table), fields[d].kind), params))
    select = [f"{tables.expr(sql, table)} AS {_ident(name)}" for name, sql in cols.items()]
    time = m.snapshot.from_ if m.snapshot else (m.time or cat.defs.tables[table].time)
    order = [_ident(c) for c in (time, cat.defs.tables[table].primary_key) if c]
    text = (f"SELECT {', '.join(select)}, COUNT(*) OVER () AS {TOTAL} FROM {from_sql} WHERE "
            + " AND ".join(f"({w})" for w in where)
            + (f" ORDER BY {', '.join(order)}" if order else "") + f" LIMIT {int(limit)}")
    sql = sqlglot.parse_one(text, read="duckdb").sql(dialect=dialect, pretty=True)
    value = (m.expr.strip() if m.expr.strip() in cols else "value") if m.expr else None
    return RowsSQL(sql, params, tuple(cols), value, time)


def _in_window(cat: Catalog, cal: Calendar, tables: TableSQL, m: MeasureDef, period: Period) -> str:
    """The compiler's test for "this row counts in this window", for one window."""
    t = tables.expr
    edges = Edges.of({0: period}, cal)
    kind = lambda col: "timestamp" if cat.column_type(m.table, col) == "timestamp" else "date"  # noqa: E731
    if m.snapshot:
        s = m.snapshot
        edge = -1 if s.at == "end" else 0  # open at the window's end (or start): start < edge <= end
        cond = f"{t(s.from_, m.table)} < {edges.literals(kind(s.from_))[edge]}"
        if s.to:
            to = t(s.to, m.table)
            cond += f" AND ({to} IS NULL OR {to} >= {edges.literals(kind(s.to))[edge]})"
        return cond
    col = m.time or cat.defs.tables[m.table].time
    if prorated(cat.defs, m):
        start, end = grain_span(t(col, m.table), effective_grain(cat.defs, m))
        lits = edges.literals("date")
        return f"{start} < {lits[-1]} AND {end} > {lits[0]}"
    return in_windows(t(col, m.table), edges, kind(col))


def _ident(name: str) -> str:
    return sqlglot.exp.to_identifier(name, quoted=True).sql("duckdb")
