"""MetricQuery -> one SQL statement (layer: compile; pure: no driver, no I/O).

Shape of every answer, whatever the metric type::

    WITH periods AS (SELECT * FROM (VALUES (0, 1, 2, DATE '2026-07-01', DATE '2026-10-01', 92), ...)
                     AS v_(pid, lo, hi, lo_d, hi_d, days)),
         s0 AS (SELECT k, d0, COUNT(...) AS v0, ... FROM deals ... WHERE <in the windows> GROUP BY k, d0),
         cr0, cm0, cs0 AS (...),                                           -- conversions (compile_conversion)
         u AS (SELECT p.pid, s.d0, s.v0 AS m0, ... FROM s0 AS s JOIN periods AS p ON k in the window
               UNION ALL ...),
         a AS (SELECT pid, d0, GROUPING(d0) AS g, SUM(m0) AS m0, ... FROM u
               GROUP BY GROUPING SETS ((pid, d0), (pid)))                  -- compile_split
    SELECT a.pid, a.g, dims, <metric expression> AS value, <components> FROM a [JOIN periods p]

No ORDER BY (the assembler orders what it shows) and no row per window the data has no row in: a
window without rows gets its totals from ``Compiled.empty_sql``, a statement on ``periods`` alone run
only then (``statement.complete``). A scan whose measures all have filters drops the rows none of
them counts (``WHERE f0 OR f1``) before its joins; a breakdown by a column with mapped values
(``segment: {normalize, values}``) is grouped by the stored value and mapped in ``u``.

(When a measure does not split into partials, count distinct or median, each scan first gets its
windows' values in its own ``w<i>`` and ``a`` adds those up: ``build`` below.)

Each table is read once: its rows get a bucket key from their time column (compile_scan: the
segment between the windows' edges), are grouped by (key, breakdown) into partial aggregates, and
every window (the asked period, the comparison, the series buckets) adds up its segments (or its
days, for a DATE time column, which is its own key), so
windows may overlap and a series and its total need no second pass. Measures of different tables
are aligned on (window, breakdown), so a ratio of two tables, the comparison and the breakdown are
all one statement. User values (``where source=webinar``) become bound parameters; identifiers
come from validated definitions only.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any, Collection

import sqlglot
from sqlglot import exp

from .catalog import Catalog
from .compile_conversion import conversion_ctes
from .compile_cumulative import widen
from .compile_filters import condition_sql, table_fields
from .compile_split import split_ctes, splits
from .compile_scan import (DECOMPOSABLE, Edges, Kind, aggregate, aligned, combine, effective_grain, event_key,
                           grain_span, in_windows, partials, prorated, segments_sql, snapshot_keys, windows_only)
from .compile_tables import RAW, TableSQL
from .compile_values import value_condition
from .errors import QueryError, hint_for
from .filters import Filter, conds
from .models import (ConstantMetric, ConversionMetric, CumulativeMetric, DerivedMetric, MeasureDef, RatioMetric,
                     SimpleMetric)
from .periods import Calendar, Period
from .statement import Compiled, MetricQuery, Slot, for_engine, needs  # noqa: F401 - the compiler's input and output, re-exported

ADDITIVE = ("count", "count_distinct", "sum")


class _Builder:
    def __init__(self, cat: Catalog, cal: Calendar, query: MetricQuery, base_dir: Path | None,
                 also: tuple[str, ...] = ()) -> None:
        self.cat, self.cal, self.q = cat, cal, query
        self.defs = cat.defs
        self.params: dict[str, Any] = {}
        self.tables = TableSQL(cat, base_dir)
        self.measures, self.conversions = needs(cat, query.metric, *also)
        self.dim_cols = tuple(f"d{i}" for i in range(len(query.dimensions)))
        self.edges = Edges.of({s.pid: s.period for s in query.slots}, cal)
        self.empty = ""  # the statement's head for windows without rows (empty_head), set by build
        self.late: dict[int, dict[str, str]] = {}  # scan -> breakdown column -> its mapping over s.<column>
        self.split = False  # every window adds up partials (compile_split), set by build

    # -- windows -------------------------------------------------------------------------------
    def periods_cte(self) -> str:
        """One row per window: its edge indexes (lo, hi: segments lo+1..hi), its dates [lo_d, hi_d)
        and its length in days."""
        rows = []
        for s in self.q.slots:
            lo, hi = self.edges.windows[s.pid]
            rows.append(f"({s.pid}, {lo}, {hi}, DATE '{s.period.start.isoformat()}', "
                        f"DATE '{s.period.end_exclusive.isoformat()}', {s.period.days})")
        return f"periods AS (SELECT * FROM (VALUES {', '.join(rows)}) AS v_(pid, lo, hi, lo_d, hi_d, days))"

    def _prorate(self, m: MeasureDef) -> bool:
        """A prorated measure whose rows some window cuts; with every edge on its grain, each row is
        simply keyed by its period's first day."""
        return prorated(self.defs, m) and not aligned(self.edges, effective_grain(self.defs, m))

    def _kind(self, table: str, column: str) -> Kind:
        return "timestamp" if self.cat.column_type(table, column) == "timestamp" else "date"

    # -- breakdowns and filters ----------------------------------------------------------------
    def _dimension_sql(self, measure: str, dim: str) -> str:
        dims = self.cat.measure_dimensions(measure)
        if dim not in dims:
            table = self.defs.measures[measure].table
            raise QueryError(f"metric '{self.q.metric}' cannot be broken down by '{dim}': measure '{measure}' "
                             f"(table '{table}') has no such dimension"
                             f"{hint_for(dim, self.cat.metric_dimensions(self.q.metric), what='this metric can use')}")
        return self.tables.expr(dims[dim].expr, self.defs.measures[measure].table)

    def _filter_sql(self, measure: str) -> list[str]:
        out = []
        for dim, values in self.q.filters:
            out.append(value_condition(self._dimension_sql(measure, dim), values, self.params))
        if self.q.condition is not None:
            out.append(condition_sql(self.q.condition, lambda d: self._field_sql(measure, d), self.params))
        return out

    def _field_sql(self, measure: str, dim: str) -> tuple[str, str]:
        """A filter field's SQL and kind: a dimension, or a number/date column of the measure's table."""
        table = self.defs.measures[measure].table
        f = table_fields(self.cat, table).get(dim)
        if f is None:
            return self._dimension_sql(measure, dim), "text"  # raises: no such dimension
        return self.tables.expr(f.expr, table), f.kind

    def _per_window(self, src: str, cols: list[str], on: str) -> str:
        """SELECT of ``cols`` per window (and breakdown, with a total row per window) from ``src``."""
        if self.dim_cols:
            dims = ", ".join(self.dim_cols)
            head, group = f"{dims}, GROUPING({self.dim_cols[0]}) AS g", f"GROUPING SETS ((p.pid, {dims}), (p.pid))"
        else:
            head, group = "0 AS g", "p.pid"
        return f"SELECT p.pid, {head}, {', '.join(cols)} FROM {src} AS s JOIN periods AS p ON {on} GROUP BY {group}"

    # -- measures ------------------------------------------------------------------------------
    def scans(self) -> list[list[str]]:
        """Measures grouped by what their rows are read with: one table scan serves each group.

        won_deals, closed_deals and avg_won_amount all read deals placed by closed_at: one scan with
        an aggregate per measure (``COUNT(CASE WHEN stage = 'won' THEN 1 END)``) instead of three."""
        groups: dict[tuple, list[str]] = {}
        for name in self.measures:
            m = self.defs.measures[name]
            time_col = None if m.snapshot else (m.time or self.defs.tables[m.table].time)
            key = (m.table, time_col, m.snapshot.model_dump_json() if m.snapshot else None,
                   m.first_per, m.filter if m.first_per else None, prorated(self.defs, m))
            groups.setdefault(key, []).append(name)
        return list(groups.values())

    def _keys(self, m: MeasureDef) -> tuple[list[tuple[str, str]], str, str]:
        """(bucket key columns, the WHERE that keeps rows inside the windows, the join to ``periods``)."""
        t = self.tables.expr
        if prorated(self.defs, m):
            start, end = grain_span(t(m.time or self.defs.tables[m.table].time, m.table), effective_grain(self.defs, m))
            if not self._prorate(m):  # whole periods only: the period's first day is the row's day
                return [("k", start)], in_windows(start, self.edges, "date"), "s.k >= p.lo_d AND s.k < p.hi_d"
            lits = self.edges.literals("date")
            return [("k", "sg.k")], f"{start} < {lits[-1]} AND {end} > {lits[0]}", "s.k > p.lo AND s.k <= p.hi"
        if m.snapshot:
            s = m.snapshot
            a, b, where = snapshot_keys(t(s.from_, m.table), self._kind(m.table, s.from_),
                                        t(s.to, m.table) if s.to else None,
                                        self._kind(m.table, s.to) if s.to else "date", self.edges)
            edge = "p.hi" if s.at == "end" else "p.lo"
            return [("a", a), ("b", b)], where, f"s.a <= {edge} AND s.b > {edge}"
        col = m.time or self.defs.tables[m.table].time
        kind = self._kind(m.table, col)
        c = t(col, m.table)
        if kind == "date":  # a date is its own bucket key: rows group by day, windows add up their days
            return [("k", c)], in_windows(c, self.edges, kind), "s.k >= p.lo_d AND s.k < p.hi_d"
        return [("k", event_key(c, self.edges, kind))], in_windows(c, self.edges, kind), "s.k > p.lo AND s.k <= p.hi"

    def scan_ctes(self, i: int, names: list[str]) -> list[str]:
        """``s<i>``: the rows of one table read once, grouped by (bucket key, breakdown) into partial
        aggregates (or kept as rows when a measure has none); ``w<i>``: each window's values from it."""
        first: MeasureDef = self.defs.measures[names[0]]
        split = all(self.defs.measures[n].agg in DECOMPOSABLE for n in names)
        dims, raw = [], defaultdict(set)
        for d, c in zip(self.q.dimensions, self.dim_cols):
            sql = self._dimension_sql(names[0], d)
            late = self._late(first.table, names[0], d) if self.split else None  # partials add up over raw values
            if late is not None:  # grouped by the stored value; its mapping applied to the grouped rows
                alias, column, decl = late
                raw[alias].add(column)
                sql = f"{'j_' + alias if alias else 't'}.{exp.to_identifier(column + RAW, quoted=True).sql('duckdb')}"
                self.late.setdefault(i, {})[c] = self.tables.mapped(decl, f"s.{c}")
            dims.append(f"{sql} AS {c}")
        needed = [sql for n in names for sql in self._needed(n, self.defs.measures[n], skip=self.late.get(i, {}))]
        keys, in_time, on = self._keys(first)
        from_sql = self.tables.from_clause(first, needed, raw, self._first_bound(first))
        cols, inner, outer, filters = [], [], [], []
        # One measure: its filter is the WHERE (rows it does not count are never aggregated). Several:
        # each aggregate takes its own rows (CASE WHEN), and when every one of them has a filter, a row
        # none of them counts is dropped before the joins and the GROUP BY (WHERE f0 OR f1): won and
        # lost new-business deals only, for a win rate, not every deal in the window.
        alone = len(names) == 1
        flags = []
        for k, name in enumerate(names):
            m = self.defs.measures[name]
            # first_per rows passed the filter when each entity's first row was picked
            f = self.tables.expr(m.filter, m.table) if m.filter and not m.first_per else None
            if f and alone:
                filters.append(f)
                f = None
            if f:
                flags.append(f)
            if m.expr:
                cols.append(f"{self.tables.expr(m.expr, m.table)} AS x{k}")
            if f:
                cols.append(f"({f}) AS f{k}")
            x = f"x{k}" if m.expr else "1"
            counted = f"COUNT(CASE WHEN f{k} THEN 1 END)" if f else "COUNT(*)"
            if self._prorate(first):  # a month cut to 7 of its 30 days is 7/30 of a row, not a row
                counted = f"SUM(CASE WHEN f{k} THEN sh_ END)" if f else "SUM(sh_)"
            if split:
                value = f"CASE WHEN f{k} THEN {x} END" if f else x
                if m.agg == "count" and not m.expr:  # the count of rows is the count itself
                    inner.append(f"{counted} AS v{k}")
                    outer += [f"SUM(s.v{k}) AS v{k}", f"SUM(s.v{k}) AS n{k}"]
                else:
                    inner += [*partials(m, value, k), f"{counted} AS n{k}"]
                    outer += [f"{combine(m, k)} AS v{k}", f"SUM(s.n{k}) AS n{k}"]
            else:
                sx = f"s.x{k}" if m.expr else "1"
                value = f"CASE WHEN s.f{k} THEN {sx} END" if f else sx
                outer += [f"{aggregate(m, value)} AS v{k}", f"COUNT(CASE WHEN s.f{k} THEN 1 END) AS n{k}" if f else f"COUNT(*) AS n{k}"]
        where = [in_time, *filters]
        if len(flags) == len(names) > 1:
            where.append(" OR ".join(f"({f})" for f in flags))
        where += self._filter_sql(names[0])
        where_sql = " WHERE " + " AND ".join(f"({w})" for w in where)
        key_names = [k for k, _ in keys]
        if self._prorate(first):  # each row spread over the segments its month overlaps, by days
            start, end = grain_span(self.tables.expr(first.time or self.defs.tables[first.table].time, first.table),
                                    effective_grain(self.defs, first))
            share = (f"CAST(DATE_DIFF('day', GREATEST({start}, sg.slo), LEAST({end}, sg.shi)) AS DOUBLE) "
                     f"/ DATE_DIFF('day', {start}, {end})")
            cols = [f"({c.rpartition(' AS ')[0]}) * {share} AS {c.rpartition(' AS ')[2]}" if c.endswith(tuple(f" AS x{k}" for k in range(len(names)))) else c
                    for c in cols] + [f"{share} AS sh_"]
            from_sql += f" JOIN ({segments_sql(self.edges)}) AS sg ON {start} < sg.shi AND {end} > sg.slo"
        rows = f"SELECT {', '.join([*(f'{sql} AS {k}' for k, sql in keys), *dims, *cols])} FROM {from_sql}{where_sql}"
        if split:
            group = ", ".join([*key_names, *self.dim_cols])
            scan = f"SELECT {', '.join([*key_names, *self.dim_cols, *inner])} FROM ({rows}) AS r GROUP BY {group}"
        else:
            scan = rows
        return [f"s{i} AS ({scan})", f"w{i} AS ({self._per_window(f's{i}', outer, on)})"]

    def _first_bound(self, m: MeasureDef) -> str | None:
        """The end of the last window, for a first_per measure (read no rows after it: compile_tables)."""
        if not m.first_per:
            return None
        return self.edges.literals(self._kind(m.table, m.time or self.defs.tables[m.table].time))[-1]

    def _late(self, table: str, measure: str, dim: str) -> tuple[str, str, Any] | None:
        """(alias, column, its declaration) when breakdown ``dim`` is a string column with mapped values
        (``segment: {normalize, values}``): the scan then groups by the value as stored and maps the few
        grouped rows (the partials add up over the raw values of one segment), instead of mapping every
        row of the joined table (223k accounts for a breakdown of 100k first wins by segment)."""
        tree = self.cat.parse(self.cat.measure_dimensions(measure)[dim].expr, table)
        if not isinstance(tree, exp.Column) or len(tree.parts) > 2:
            return None
        alias = tree.parts[0].name if len(tree.parts) == 2 else ""
        decl = self.tables.mapping(table, alias, tree.name)
        return None if decl is None else (alias, tree.name, decl)

    def _needed(self, name: str, m: MeasureDef, skip: Collection[str] = ()) -> list[str]:
        """Snippets the measure's rows are read with (``skip``: breakdown columns grouped by stored value)."""
        sqls = [m.expr, m.filter, m.time or self.defs.tables[m.table].time, m.first_per]
        if m.snapshot:
            sqls += [m.snapshot.from_, m.snapshot.to]
        dims = self.cat.measure_dimensions(name)
        sqls += [dims[d].expr for d, c in zip(self.q.dimensions, self.dim_cols) if d in dims and c not in skip]
        sqls += [dims[d].expr for d, _ in self.q.filters if d in dims]
        fields = table_fields(self.cat, m.table) if self.q.condition is not None else {}
        sqls += [fields[c.dim].expr for c in conds(self.q.condition) if c.dim in fields]
        return [s for s in sqls if s]

    # -- assembly ------------------------------------------------------------------------------
    def build(self) -> tuple[str, dict[str, str], dict[str, tuple[str, str]]]:
        mcols = {m: f"m{i}" for i, m in enumerate(self.measures)}
        ccols = {c: (f"c{i}", f"c{i}_base") for i, c in enumerate(self.conversions)}
        self.split = splits(self)
        if self.split:
            return split_ctes(self, mcols, ccols), mcols, ccols
        out_cols = [*(a for col in mcols.values() for a in (col, col + "_n")), *(a for pair in ccols.values() for a in pair)]
        ctes = [self.periods_cte()]
        sources: list[tuple[str, dict[str, str]]] = []  # (cte, {output column: its column there})
        for i, names in enumerate(self.scans()):
            ctes += self.scan_ctes(i, names)
            sources.append((f"w{i}", {a: f"{v}{k}" for k, n in enumerate(names)
                                      for a, v in ((mcols[n], "v"), (mcols[n] + "_n", "n"))}))
        for i, name in enumerate(self.conversions):
            ctes += conversion_ctes(self, i, name)
            sources.append((f"cw{i}", {ccols[name][1]: "base", ccols[name][0]: "conv"}))
        dims = "".join(f"{d}, " for d in self.dim_cols)
        branches = [f"SELECT pid, {dims}g, " + ", ".join(
            f"CAST({cols[a]} AS DOUBLE) AS {a}" if a in cols else f"CAST(NULL AS DOUBLE) AS {a}" for a in out_cols)
            + f" FROM {src}" for src, cols in sources]
        ctes.append("u AS (" + " UNION ALL ".join(branches) + ")")
        sums = []
        for m, col in mcols.items():
            additive = self.defs.measures[m].agg in ADDITIVE
            sums.append(f"COALESCE(SUM({col}), 0) AS {col}" if additive else f"SUM({col}) AS {col}")
            sums.append(f"COALESCE(SUM({col}_n), 0) AS {col}_n")
        for conv, base in ccols.values():
            sums += [f"COALESCE(SUM({conv}), 0) AS {conv}", f"COALESCE(SUM({base}), 0) AS {base}"]
        ctes.append(f"a AS (SELECT pid, {dims}g, {', '.join(sums)} FROM u GROUP BY pid, {dims}g)")
        self.empty = self.empty_head(out_cols, sums)
        return ("WITH " + ",\n".join(ctes)) if sources else self.empty, mcols, ccols  # a constant reads no table

    def empty_head(self, ucols: list[str], sums: list[str]) -> str:
        """The head of the statement for windows no row falls in: each window's total over no rows (counts
        and sums 0, averages and extremes NULL), from ``periods`` alone. The answer's statement returns
        rows for windows with data only (no spine row per window to group: a few ms less on every
        answer); ``complete`` runs this one, rarely, when a window came back without its total."""
        u, a = windows_only(ucols, self.dim_cols, sums)
        return f"WITH {self.periods_cte()},\n{u},\n{a}"

    def metric_sql(self, name: str, mcols: dict[str, str], ccols: dict[str, tuple[str, str]]) -> str:
        m = self.defs.metrics[name]
        if isinstance(m, CumulativeMetric):  # its windows were widened (compile_cumulative)
            m = m.per_window()
        if isinstance(m, SimpleMetric):
            return f"a.{mcols[m.measure]}"
        if isinstance(m, RatioMetric):
            return _div(f"a.{mcols[m.numerator]}", f"a.{mcols[m.denominator]}")
        if isinstance(m, ConversionMetric):
            conv, base = ccols[name]
            return _div(f"a.{conv}", f"a.{base}")
        if isinstance(m, ConstantMetric):
            return repr(float(m.value))
        if isinstance(m, DerivedMetric):
            tree = sqlglot.parse_one(m.expr, read=self.cat.dialect)

            def safe_div(node: exp.Expression) -> exp.Expression:
                if isinstance(node, exp.Div):
                    return sqlglot.parse_one(_div(node.this.sql("duckdb"), node.expression.sql("duckdb")), read="duckdb")
                return node

            def swap(node: exp.Expression) -> exp.Expression:
                if isinstance(node, exp.Column) and not node.table:
                    if node.name == "period_days":
                        return sqlglot.parse_one("CAST(p.days AS DOUBLE)")
                    return exp.paren(sqlglot.parse_one(self.metric_sql(node.name, mcols, ccols), read="duckdb"))
                return node

            # Divisions first (their operands are still metric names), then metric names -> SQL.
            return tree.transform(safe_div).transform(swap).sql("duckdb")
        raise AssertionError(f"unhandled metric type {type(m).__name__}")


def _div(num: str, den: str) -> str:
    # Always floating division, and a zero denominator gives NULL (no value) on every engine.
    return f"CAST({num} AS DOUBLE) / NULLIF(CAST({den} AS DOUBLE), 0)"


def _exact_percentiles(tree: exp.Expression, dialect: str) -> exp.Expression:
    """Keep medians and percentiles exact on every engine.

    SQLGlot renders DuckDB's QUANTILE_CONT for Spark as a form Spark rejects (or as
    PERCENTILE_APPROX, which changes numbers); Spark's exact aggregate is PERCENTILE(x, p).
    BigQuery has no exact percentile aggregate at all, so say so instead of answering roughly.
    """
    if dialect not in ("spark", "spark2", "databricks", "bigquery"):
        return tree

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, (exp.PercentileCont, exp.Quantile)):
            if dialect == "bigquery":
                raise QueryError("median and percentile measures cannot be computed exactly on BigQuery "
                                 "(no exact percentile aggregate); use avg, or run this metric on another engine")
            return exp.Anonymous(this="PERCENTILE", expressions=[node.this.copy(), node.expression.copy()])
        return node

    return tree.transform(swap)


def compile_query(cat: Catalog, cal: Calendar, query: MetricQuery, dialect: str = "duckdb", *,
                  base_dir: Path | None = None, also: tuple[str, ...] = ()) -> Compiled:
    """The statement for ``query`` in ``dialect`` (a SQLGlot dialect name), with its parameters.

    ``also``: more metrics over the same windows, breakdown and filters, computed by the same statement
    (each table still read once, for the union of the measures) into columns ``value1``, ``value2``...;
    ``Compiled.metric_cols`` names them (``multi.view`` picks one metric's answer out of the rows).
    The windows are widened for ``query.metric`` only: ``also`` metrics must have the same widened windows."""
    query = widen(cat, query)  # a cumulative metric's windows run from its start to their end
    b = _Builder(cat, cal, query, base_dir, also)
    head, mcols, ccols = b.build()
    metric_cols = {query.metric: "value"}
    selects = [f"{b.metric_sql(query.metric, mcols, ccols)} AS value"]
    for j, extra in enumerate(also, start=1):
        metric_cols[extra] = f"value{j}"
        selects.append(f"{b.metric_sql(extra, mcols, ccols)} AS value{j}")
    subs = list(dict.fromkeys(sub for name in (query.metric, *also) for sub in cat.metric_refs(name)[1]))
    for i, sub in enumerate(subs):
        metric_cols[sub] = f"s{i}"  # a sub-metric asked for itself too keeps its own column: views stay simple
        selects.append(f"{b.metric_sql(sub, mcols, ccols)} AS s{i}")
    comps = [f"a.{c}" for c in mcols.values()] + [f"a.{c}_n" for c in mcols.values()]
    comps += [f"a.{c}" for pair in ccols.values() for c in pair]
    dims = "".join(f", a.{d}" for d in b.dim_cols)
    days = " JOIN periods AS p ON a.pid = p.pid" if any("p.days" in s for s in selects) else ""  # period_days
    final = f"SELECT a.pid, a.g{dims}, {', '.join(selects + comps)} FROM a{days}"
    # no ORDER BY: the assembler orders what it shows (breakdown by value, series by date), and a sort of a
    # few dozen rows is an operator the engine plans and runs on every answer
    # DuckDB runs the statement as written, another engine transpiled (statement.for_engine); people see
    # it laid out (statement.pretty: `--sql`, explain, KPI.sql). The empty windows' statement stays DuckDB
    # text either way (no aggregate a dialect rewrites): complete() has it transpiled only when needed.
    sql = for_engine(f"{head}\n{final}", dialect, lambda tree: _exact_percentiles(tree, dialect))
    return Compiled(sql, dict(b.params), dialect, mcols, ccols, metric_cols,
                    b.dim_cols, f"{b.empty}\n{final}", tuple(sorted({s.pid for s in query.slots})))

