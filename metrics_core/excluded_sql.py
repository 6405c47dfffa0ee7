"""Rows a measure leaves out of an answer, counted in one statement (layer: compile; pure).

`kpi doctor` finds rows each measure silently drops across the whole data; every answer repeats
the same rules (``doctor_sql``) for its own window and filters, so "12 won deals without an amount
were not counted" is said where the number is read. One row per measure the metric reads:

    measure | no_time | no_value | negative | date_order

* ``no_time``: rows the measure's filter keeps that have no date: no window ever counts them (all time);
* ``no_value``: rows in the window whose value is NULL (``AVG``/``SUM`` skip them);
* ``negative``: rows in the window with a negative value of a plain number column (counted as they are);
* ``date_order``: rows in the window whose dates are out of order (``date_diff(created_at, closed_at)``).

The statement is built from the answer's own pieces (validated identifiers, catalog-checked
snippets, the filter values as bound parameters ``:p0``) in DuckDB's dialect; the caller transpiles it.
Counts come from the raw tables, so a note is never missing when a rollup answered the number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from .catalog import Catalog
from .compile import MetricQuery
from .compile_filters import condition_sql, table_fields
from .compile_tables import TableSQL, _lit, _q
from .compile_values import value_condition
from .doctor_sql import NUMERIC_AGGS, DoctorSQL
from .filters import conds
from .periods import Calendar

KINDS = ("no_time", "no_value", "negative", "date_order")


@dataclass(frozen=True)
class ExcludedSQL:
    sql: str  # DuckDB text; one row per measure: measure, no_time, no_value, negative, date_order
    params: dict[str, Any]
    details: dict[str, dict[str, str]]  # measure -> {"time": col, "expr": snippet, "first": col, "then": col}


def measures_read(cat: Catalog, metric: str) -> list[str]:
    """Every measure behind a metric (through derived metrics; cycle-safe), in reading order."""
    seen: set[str] = set()
    out: list[str] = []

    def walk(name: str) -> None:
        if name in seen or name not in cat.defs.metrics:
            return
        seen.add(name)
        direct, subs = cat.metric_refs(name)
        out.extend(m for m in direct if m in cat.defs.measures)
        for sub in subs:
            walk(sub)

    walk(metric)
    return list(dict.fromkeys(out))


def excluded_sql(cat: Catalog, tables: TableSQL, cal: Calendar, query: MetricQuery, as_of: Any) -> ExcludedSQL | None:
    """The counting statement for the asked window (slot 0) and filters of ``query``; None: nothing to check."""
    window = query.slots[0].period
    build = DoctorSQL(cat, tables, cal, as_of, window)
    params: dict[str, Any] = {}
    parts, details = [], {}
    for name in measures_read(cat, query.metric):
        part = _one(cat, build, name, query, params)
        if part is not None:
            parts.append(part[0])
            details[name] = part[1]
    if not parts:
        return None
    return ExcludedSQL(" UNION ALL ".join(parts), params, details)


def _one(cat: Catalog, build: DoctorSQL, name: str, query: MetricQuery,
         params: dict[str, Any]) -> tuple[str, dict[str, str]] | None:
    m = cat.defs.measures[name]
    if m.snapshot is not None:  # a snapshot row with no start has not started: nothing is dropped
        return None
    time = build.measure_time(m)
    dims = cat.measure_dimensions(name)
    filters = [(dims[d].expr, values) for d, values in query.filters if d in dims]
    cols: dict[str, str] = {"no_time": "0", "no_value": "0", "negative": "0", "date_order": "0"}
    detail: dict[str, str] = {}
    snippets = [m.filter, m.expr, time, *(e for e, _v in filters)]
    inp = build._in_period(m.table, time) if time else "FALSE"
    if time:
        cols["no_time"] = f"SUM(CASE WHEN t.{_q(time)} IS NULL THEN 1 ELSE 0 END)"
        detail["time"] = time
    if m.expr and m.agg != "count":
        x = build.tables.expr(m.expr, m.table)
        cols["no_value"] = f"SUM(CASE WHEN ({inp}) AND ({x}) IS NULL THEN 1 ELSE 0 END)"
        detail["expr"] = m.expr
        tree = cat.parse(m.expr, m.table)
        if (m.agg in NUMERIC_AGGS and isinstance(tree, exp.Column) and not tree.table
                and cat.column_type(m.table, tree.name) in ("number", "integer")):
            cols["negative"] = f"SUM(CASE WHEN ({inp}) AND ({x}) < 0 THEN 1 ELSE 0 END)"
        for node in tree.find_all(exp.DateDiff):
            a, b = node.expression, node.this  # date_diff('day', first, then)
            if isinstance(a, exp.Column) and isinstance(b, exp.Column) and not a.table and not b.table:
                cols["date_order"] = f"SUM(CASE WHEN ({inp}) AND t.{_q(b.name)} < t.{_q(a.name)} THEN 1 ELSE 0 END)"
                detail.update(first=a.name, then=b.name)
                snippets += [a.name, b.name]
                break
    if all(v == "0" for v in cols.values()):
        return None
    where = [build.tables.expr(m.filter, m.table)] if m.filter else []
    where += [value_condition(build.tables.expr(e, m.table), values, params) for e, values in filters]
    if query.condition is not None:  # the richer filters (!=, >, or ...) keep the same rows as the answer
        fields = table_fields(cat, m.table)
        snippets += [fields[c.dim].expr for c in conds(query.condition) if c.dim in fields]
        where.append(condition_sql(query.condition, lambda d: (build.tables.expr(fields[d].expr, m.table),
                                                              fields[d].kind), params))
    from_sql = build._from(m.table, snippets)
    sql = (f"SELECT {_lit(name)} AS measure, {', '.join(f'{v} AS {k}' for k, v in cols.items())} "
           f"FROM {from_sql}" + (" WHERE " + " AND ".join(f"({w})" for w in where) if where else ""))
    return sql, detail
