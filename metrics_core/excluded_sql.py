"""Rows a measure leaves out of an answer, counted in one statement (layer: compile; pure).

`kpi doctor` finds rows each measure silently drops across the whole data; every answer repeats
the same rules (``doctor_sql``) for its own window and filters, so "12 won deals without an amount
were not counted" is said where the number is read, and for each breakdown row and series bucket
("by segment" says which segment lost them). Per measure, per window (pid 0 the asked window, 2.. the
buckets) and per breakdown value (``g`` = 0; ``g`` = 1 is the window's total when broken down):

    measure | pid | g | d0.. | no_time | no_value | negative | date_order

Only the flagged rows (few) are joined to the windows, so the statement still reads the table once.

* ``no_time``: rows the measure's filter keeps that have no date: no window ever counts them (all time,
  said on the asked window and its breakdown rows, never on a bucket);
* ``no_value``: rows in the window whose value is NULL (``AVG``/``SUM`` skip them);
* ``negative``: rows in the window with a negative value of a plain number column (counted as they are);
* ``date_order``: rows in the window whose dates are out of order (``date_diff(created_at, closed_at)``).

The statement is built from the answer's own pieces (validated identifiers, catalog-checked
snippets, the filter values as bound parameters ``$p0``) in DuckDB's dialect; the caller transpiles it for another engine.
Counts come from the raw tables, so a note is never missing when a rollup answered the number.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from .catalog import Catalog
from .compile_filters import condition_sql, table_fields
from .compile_tables import TableSQL, _lit, _q
from .compile_values import value_condition
from .doctor_sql import NUMERIC_AGGS, DoctorSQL
from .filters import conds
from .periods import Calendar, utc_bounds
from .statement import KINDS, ExcludedSQL, MetricQuery, Slot  # noqa: F401 - re-exported

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
    """The counting statement for the asked window (pid 0), each series bucket (its pid), each
    breakdown value (``g`` = 0) and the totals (``g`` = 1 when broken down), under the filters of
    ``query``; None: nothing to check."""
    build = DoctorSQL(cat, tables, cal, as_of, query.slots[0].period)
    windows = [s for s in query.slots if s.role in ("current", "bucket")]
    params: dict[str, Any] = {}
    parts, details = [], {}
    for name in measures_read(cat, query.metric):
        part = _one(cat, build, name, query, windows, params)
        if part is not None:
            parts.append(part[0])
            details[name] = part[1]
    if not parts:
        return None
    return ExcludedSQL(" UNION ALL ".join(parts), params, details)


def _flags(cat: Catalog, build: DoctorSQL, name: str, time: str, snippets: list[str | None]
           ) -> tuple[dict[str, str], dict[str, str]]:
    """(reason -> the condition that flags a row, the columns the notes name)."""
    m = cat.defs.measures[name]
    tm = f"t.{_q(time)}"
    flags = {"no_time": f"{tm} IS NULL"}
    detail = {"time": time}
    if m.expr and m.agg != "count":
        x = build.tables.expr(m.expr, m.table)
        flags["no_value"] = f"{tm} IS NOT NULL AND ({x}) IS NULL"
        detail["expr"] = m.expr
        tree = cat.parse(m.expr, m.table)
        if (m.agg in NUMERIC_AGGS and isinstance(tree, exp.Column) and not tree.table
                and cat.column_type(m.table, tree.name) in ("number", "integer")):
            flags["negative"] = f"{tm} IS NOT NULL AND ({x}) < 0"
        for node in tree.find_all(exp.DateDiff):
            a, b = node.expression, node.this  # date_diff('day', first, then)
            if isinstance(a, exp.Column) and isinstance(b, exp.Column) and not a.table and not b.table:
                flags["date_order"] = f"{tm} IS NOT NULL AND t.{_q(b.name)} < t.{_q(a.name)}"
                detail.update(first=a.name, then=b.name)
                snippets += [a.name, b.name]
                break
    return flags, detail


def _windows(cat: Catalog, build: DoctorSQL, table: str, time: str, windows: list[Slot]) -> str:
    """The windows as rows (pid, lo, hi), as literals of the time column's type."""
    rows = []
    for s in windows:
        if cat.column_type(table, time) == "timestamp":
            lo, hi = utc_bounds(s.period, build.cal)
            bounds = f"TIMESTAMP '{lo:%Y-%m-%d %H:%M:%S}' AS lo, TIMESTAMP '{hi:%Y-%m-%d %H:%M:%S}' AS hi"
        else:
            bounds = f"DATE '{s.period.start.isoformat()}' AS lo, DATE '{s.period.end_exclusive.isoformat()}' AS hi"
        rows.append(f"SELECT {s.pid} AS pid, {bounds}")
    return " UNION ALL ".join(rows)


def _one(cat: Catalog, build: DoctorSQL, name: str, query: MetricQuery, windows: list[Slot],
         params: dict[str, Any]) -> tuple[str, dict[str, str]] | None:
    """One measure's counts: its flagged rows only (few), each joined to the windows it falls in; a row
    with no date to the asked window alone (no window ever counts it: said for the whole time)."""
    m = cat.defs.measures[name]
    time = build.measure_time(m)
    if m.snapshot is not None or not time:  # a snapshot row with no start has not started: nothing is dropped
        return None
    dims = cat.measure_dimensions(name)
    filters = [(dims[d].expr, values) for d, values in query.filters if d in dims]
    snippets: list[str | None] = [m.filter, m.expr, time, *(e for e, _v in filters)]
    flags, detail = _flags(cat, build, name, time, snippets)
    by = [dims[d].expr for d in query.dimensions if d in dims]
    if len(by) != len(query.dimensions):
        return None  # the answer itself refuses such a breakdown
    snippets += by
    where = [build.tables.expr(m.filter, m.table)] if m.filter else []
    where += [value_condition(build.tables.expr(e, m.table), values, params) for e, values in filters]
    if query.condition is not None:  # the richer filters (!=, >, or ...) keep the same rows as the answer
        fields = table_fields(cat, m.table)
        snippets += [fields[c.dim].expr for c in conds(query.condition) if c.dim in fields]
        where.append(condition_sql(query.condition, lambda d: (build.tables.expr(fields[d].expr, m.table),
                                                              fields[d].kind), params))
    where.append(" OR ".join(f"({f})" for f in flags.values()))
    dcols = [f"d{i}" for i in range(len(by))]
    inner = ", ".join([*(f"{build.tables.expr(e, m.table)} AS {c}" for e, c in zip(by, dcols)),
                       f"t.{_q(time)} AS tm",
                       *(f"CASE WHEN {flags[k]} THEN 1 ELSE 0 END AS {k}" if k in flags else f"0 AS {k}"
                         for k in KINDS)])
    rows = (f"SELECT {inner} FROM {build._from(m.table, snippets)} WHERE "
            + " AND ".join(f"({w})" for w in where))
    if dcols:
        head = f"{', '.join(dcols)}, GROUPING({dcols[0]}) AS g"
        group = f"GROUPING SETS ((w.pid, {', '.join(dcols)}), (w.pid))"
    else:
        head, group = "0 AS g", "w.pid"
    sql = (f"SELECT {_lit(name)} AS measure, w.pid AS pid, {head}, {', '.join(f'SUM(r.{k}) AS {k}' for k in KINDS)} "
           f"FROM ({rows}) AS r JOIN ({_windows(cat, build, m.table, time, windows)}) AS w "
           f"ON (r.tm IS NULL AND w.pid = 0) OR (r.tm >= w.lo AND r.tm < w.hi) GROUP BY {group}")
    return sql, detail
