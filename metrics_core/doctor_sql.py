"""`kpi doctor`'s checks as SQL (layer: compile; pure: definitions + a day -> statements).

Every data check is one aggregate over one logical table that flags rows by a condition and
returns, per offending value, how many rows, how many fall in the checked period and two example
ids; one more row (bad = 0) counts the rest of the rows in scope:

    bad | v (offending value) | n | np (of n in the period) | id_lo | id_hi

Everything is built from validated identifiers (quoted by SQLGlot) and the definitions' own
snippets (parsed and column-checked by the catalog); the statement is written in DuckDB's dialect
and transpiled to the engine's by the caller. Checks that need no data (a filter comparing a mapped
column with a value its mapping never produces) are found here too, see ``never_matching_filters``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlglot import exp

from .catalog import Catalog
from .compile_tables import TableSQL, _lit, _q
from .models import ColumnDef, MeasureDef
from .periods import Calendar, Period, utc_bounds

NUMERIC_AGGS = ("sum", "avg", "min", "max", "median", "percentile")


@dataclass(frozen=True)
class Probe:
    """One data check: the statement and what its flagged rows mean."""

    check: str  # unmapped_value | join_unmatched | no_time | no_value | negative_value | future_date
    #             | date_order | duplicate_key | blank_dimension
    table: str
    subject: str  # the column, join alias, measure or dimension checked
    sql: str  # DuckDB text; columns bad, v, n, np, id_lo, id_hi
    measures: tuple[str, ...]  # measures whose numbers the flagged rows change
    dims: tuple[str, ...] = ()  # dimensions whose breakdown rows they change
    timed: bool = True  # False: the rows have no date, so nothing is counted per period
    detail: dict = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class NeverMatches:
    """A filter comparing a mapped column with a value the mapping never produces."""

    where: str  # "measures.won_deals.filter"
    table: str
    column: str
    value: str
    produced: tuple[str, ...]  # what the mapping can produce
    measures: tuple[str, ...]


class DoctorSQL:
    """Builds the probes for one definitions set, one as-of day and one checked period."""

    def __init__(self, cat: Catalog, tables: TableSQL, cal: Calendar, as_of: date, period: Period) -> None:
        self.cat, self.tables, self.cal, self.as_of, self.period = cat, tables, cal, as_of, period
        self.defs = cat.defs

    # -- shared pieces ----------------------------------------------------------------------------
    def used_tables(self) -> list[str]:
        """Tables measures read, then every table they join (in definition order)."""
        used = {m.table for m in self.defs.measures.values() if m.table in self.defs.tables}
        for name in list(used):
            used |= {j.table for j in self.defs.tables[name].joins.values() if j.table in self.defs.tables}
        return [t for t in self.defs.tables if t in used]

    def measures_on(self, table: str) -> tuple[str, ...]:
        return tuple(n for n, m in self.defs.measures.items() if m.table == table)

    def measure_time(self, m: MeasureDef) -> str | None:
        return m.snapshot.from_ if m.snapshot else (m.time or self.defs.tables[m.table].time)

    def time_columns(self, table: str) -> list[str]:
        """Date/timestamp columns that place this table's rows in periods (measure times, snapshot ends)."""
        cols: list[str] = []
        for m in self.defs.measures.values():
            if m.table == table:
                cols += [c for c in (self.measure_time(m), m.snapshot.to if m.snapshot else None) if c]
        t = self.defs.tables[table]
        if t.time:
            cols.append(t.time)
        return [c for c in dict.fromkeys(cols) if self.cat.column_type(table, c) in ("date", "timestamp")]

    def table_time(self, table: str) -> str | None:
        """The column that places a table's rows in periods: its time, else its measures' first."""
        cols = self.time_columns(table)
        t = self.defs.tables[table].time
        return t if t in cols else (cols[0] if cols else None)

    def _in_period(self, table: str, column: str | None, alias: str = "t") -> str:
        if not column:
            return "FALSE"
        c = f"{alias}.{_q(column)}"
        if self.cat.column_type(table, column) == "timestamp":
            lo, hi = utc_bounds(self.period, self.cal)
            return f"{c} >= TIMESTAMP '{lo:%Y-%m-%d %H:%M:%S}' AND {c} < TIMESTAMP '{hi:%Y-%m-%d %H:%M:%S}'"
        return f"{c} >= DATE '{self.period.start.isoformat()}' AND {c} < DATE '{self.period.end_exclusive.isoformat()}'"

    def _after_today(self, table: str, column: str) -> str:
        c = f"t.{_q(column)}"
        if self.cat.column_type(table, column) == "timestamp":
            day = Period("today", "day", self.as_of, self.as_of)
            return f"{c} >= TIMESTAMP '{utc_bounds(day, self.cal)[1]:%Y-%m-%d %H:%M:%S}'"
        return f"{c} > DATE '{self.as_of.isoformat()}'"

    def _id(self, table: str) -> str:
        pk = self.defs.tables[table].primary_key
        return f"t.{_q(pk)}" if pk and pk in self.defs.tables[table].columns else "NULL"

    def _from(self, table: str, snippets: list[str | None]) -> str:
        """The table staged with the columns (and joins) the snippets read."""
        t = self.defs.tables[table]
        extra = [c for c in (t.primary_key, t.time) if c and c in t.columns]
        return self.tables.from_clause(MeasureDef(table=table, agg="count"), [s for s in snippets if s] + extra)

    @staticmethod
    def flagged(from_sql: str, cond: str, value: str, ident: str, in_period: str, scope: str = "TRUE") -> str:
        """One GROUP BY (no windows: Spark pays a shuffle for each): per offending value its rows, rows in
        the period and the smallest and largest id; one more row (bad = 0) for the rest of the scope."""
        f0 = (f"SELECT CAST({value} AS VARCHAR) AS v, CAST({ident} AS VARCHAR) AS id, "
              f"CASE WHEN {cond} THEN 1 ELSE 0 END AS bad, CASE WHEN {in_period} THEN 1 ELSE 0 END AS inp "
              f"FROM {from_sql} WHERE {scope}")
        return ("SELECT bad, CASE WHEN bad = 1 THEN v END AS v, COUNT(*) AS n, SUM(inp) AS np, MIN(id) AS id_lo, "
                f"MAX(id) AS id_hi FROM ({f0}) AS f0 GROUP BY bad, CASE WHEN bad = 1 THEN v END")

    @staticmethod
    def batch(sqls: list[str]) -> str:
        """Probes in one statement, each row tagged with its probe's index (one round trip, one job)."""
        return " UNION ALL ".join(f"SELECT {i} AS probe_, q{i}.* FROM ({sql}) AS q{i}" for i, sql in enumerate(sqls))

    # -- the probes -------------------------------------------------------------------------------
    def probes(self) -> list[Probe]:
        out: list[Probe] = []
        for table in self.used_tables():
            out += self.unmapped_values(table)
            out += self.unmatched_joins(table)
            out += self.duplicate_keys(table)
            out += self.blank_dimensions(table)
            out += self.future_dates(table)
            out += self.date_order(table)
        for name in self.defs.measures:
            if self.defs.measures[name].table in self.defs.tables:
                out += self.dropped_rows(name)
        return out

    def unmapped_values(self, table: str) -> list[Probe]:
        t = self.defs.tables[table]
        out = []
        for col, c in t.columns.items():
            if c.type != "string" or not c.values:
                continue
            raw = self._raw(c, col)
            key = f"LOWER(TRIM({raw}))" if c.normalize else raw
            known = [src.strip().lower() if c.normalize else src for src in c.values]
            known += [(dst.strip().lower() if c.normalize else dst) for dst in c.values.values() if dst is not None]
            known_sql = ", ".join(_lit(k) for k in dict.fromkeys(known))
            time = self.table_time(table)
            cols = [f"{key} AS raw_"] + [f"{self.tables.column_sql(t.columns[x], x)} AS {_q(x)}"
                                         for x in dict.fromkeys(k for k in (t.primary_key, time) if k and k in t.columns)]
            src = f"(SELECT {', '.join(cols)} FROM {self.tables.source_sql(t.source)}) AS t"
            cond = f"t.raw_ IS NOT NULL AND TRIM(t.raw_) <> '' AND t.raw_ NOT IN ({known_sql})"
            sql = self.flagged(src, cond, "t.raw_", self._id(table), self._in_period(table, time))
            uses = self._measures_reading(table, col)
            dims = tuple(d for d, dd in self.cat.table_dimensions(table).items() if col in _cols(self.cat, dd.expr, table))
            out.append(Probe("unmapped_value", table, col, sql, uses, dims, time is not None,
                             {"default": c.default, "known": tuple(dict.fromkeys(known))}))
        return out

    @staticmethod
    def _raw(c: ColumnDef, name: str) -> str:
        if c.expr:
            return exp.maybe_parse(c.expr, dialect="duckdb").sql("duckdb")
        return _q(c.from_ or name)

    def unmatched_joins(self, table: str) -> list[Probe]:
        t = self.defs.tables[table]
        out = []
        for alias, j in t.joins.items():
            if j.table not in self.defs.tables:
                continue
            locals_ = list(j.on)
            remote = next(iter(j.on.values()))
            from_sql = self._from(table, [*locals_, f"{alias}.{remote}", self.table_time(table)])
            local_sql = [f"{'j_' + k.rpartition('.')[0] if '.' in k else 't'}.{_q(k.rpartition('.')[2])}" for k in locals_]
            cond = f"j_{alias}.{_q(remote)} IS NULL"
            scope = " AND ".join(f"{x} IS NOT NULL" for x in local_sql)
            value = local_sql[0] if len(local_sql) == 1 else " || '/' || ".join(f"CAST({x} AS VARCHAR)" for x in local_sql)
            sql = self.flagged(from_sql, cond, value, self._id(table), self._in_period(table, self.table_time(table)), scope)
            dims = tuple(d for d, dd in self.cat.table_dimensions(table).items()
                         if any(r.startswith(f"{a}.") for a in self._aliases_after(table, alias)
                                for r in _qualified(self.cat, dd.expr, table)))
            out.append(Probe("join_unmatched", table, alias, sql, self.measures_on(table), dims,
                             self.table_time(table) is not None, {"joined": j.table, "keys": [f"{k} = {j.table}.{v}" for k, v in j.on.items()],
                              "remote": remote}))
        return out

    def _aliases_after(self, table: str, alias: str) -> list[str]:
        """The alias and every join that starts from it (office through owner)."""
        return [a for a in self.defs.tables[table].joins if alias in self.cat.join_path(table, a)]

    def duplicate_keys(self, table: str) -> list[Probe]:
        t = self.defs.tables[table]
        if not t.primary_key or t.primary_key not in t.columns:
            return []
        pk = _q(t.primary_key)
        staged = self.tables.stage(table, [t.primary_key])
        from_sql = f"(SELECT s.*, COUNT(*) OVER (PARTITION BY s.{pk}) AS dup_n_ FROM {staged} AS s) AS t"
        sql = self.flagged(from_sql, f"t.dup_n_ > 1 AND t.{pk} IS NOT NULL", f"t.{pk}", f"t.{pk}", "FALSE")
        return [Probe("duplicate_key", table, t.primary_key, sql, self.measures_on(table), timed=False)]

    def blank_dimensions(self, table: str) -> list[Probe]:
        if not self.measures_on(table):
            return []
        out = []
        time = self.table_time(table)
        for dim, d in self.cat.table_dimensions(table).items():
            expr = self.tables.expr(d.expr, table)
            from_sql = self._from(table, [d.expr, time])
            cond = f"({expr}) IS NULL OR TRIM(CAST({expr} AS VARCHAR)) = ''"
            sql = self.flagged(from_sql, cond, "NULL", self._id(table), self._in_period(table, time))
            out.append(Probe("blank_dimension", table, dim, sql, self.measures_on(table), (dim,), time is not None))
        return out

    def future_dates(self, table: str) -> list[Probe]:
        out = []
        for col in self.time_columns(table):
            from_sql = self._from(table, [col])
            uses = self._measures_reading(table, col, times_only=True)
            sql = self.flagged(from_sql, self._after_today(table, col), f"CAST(t.{_q(col)} AS DATE)", self._id(table), "FALSE")
            out.append(Probe("future_date", table, col, sql, uses, timed=False))
        return out

    def date_order(self, table: str) -> list[Probe]:
        """Pairs of dates that must come in order: a snapshot's from/to, date_diff(start, end) in an expr."""
        pairs: dict[tuple[str, str], list[str]] = {}
        for name, m in self.defs.measures.items():
            if m.table != table:
                continue
            if m.snapshot and m.snapshot.to:
                pairs.setdefault((m.snapshot.from_, m.snapshot.to), []).append(name)
            if m.expr:
                for node in self.cat.parse(m.expr, table).find_all(exp.DateDiff):
                    a, b = node.expression, node.this
                    if isinstance(a, exp.Column) and isinstance(b, exp.Column) and not a.table and not b.table:
                        pairs.setdefault((a.name, b.name), []).append(name)
        out = []
        for (first, then), uses in pairs.items():
            from_sql = self._from(table, [first, then])
            cond = f"t.{_q(then)} < t.{_q(first)}"
            sql = self.flagged(from_sql, cond, "NULL", self._id(table), self._in_period(table, then))
            out.append(Probe("date_order", table, f"{then} < {first}", sql, tuple(dict.fromkeys(uses)),
                             detail={"first": first, "then": then}))
        return out

    def dropped_rows(self, name: str) -> list[Probe]:
        """Rows a measure's filter keeps but that it cannot count: no date, no value, a negative value."""
        m = self.defs.measures[name]
        time = self.measure_time(m)
        from_sql = self._from(m.table, [m.filter, m.expr, time])
        scope = self.tables.expr(m.filter, m.table) if m.filter else "TRUE"
        ident = self._id(m.table)
        out = []
        if time and not m.snapshot:  # a snapshot row with no start has not started: not dropped
            tcol = f"t.{_q(time)}"
            out.append(Probe("no_time", m.table, name,
                             self.flagged(from_sql, f"{tcol} IS NULL", "NULL", ident, "FALSE", scope), (name,),
                             timed=False, detail={"column": time}))
        if m.expr and m.agg != "count":
            x = self.tables.expr(m.expr, m.table)
            live = f"({scope}) AND t.{_q(time)} IS NOT NULL" if time else scope
            inp = self._in_period(m.table, time)
            out.append(Probe("no_value", m.table, name, self.flagged(from_sql, f"({x}) IS NULL", "NULL", ident, inp, live),
                             (name,), timed=time is not None, detail={"expr": m.expr}))
            tree = self.cat.parse(m.expr, m.table)
            if (m.agg in NUMERIC_AGGS and isinstance(tree, exp.Column) and not tree.table
                    and self.cat.column_type(m.table, tree.name) in ("number", "integer")):
                out.append(Probe("negative_value", m.table, name,
                                 self.flagged(from_sql, f"({x}) < 0", f"({x})", ident, inp, live), (name,),
                                 timed=time is not None, detail={"expr": m.expr}))
        return out

    def _measures_reading(self, table: str, column: str, *, times_only: bool = False) -> tuple[str, ...]:
        out = []
        for name, m in self.defs.measures.items():
            if m.table != table:
                continue
            times = {self.measure_time(m), m.snapshot.to if m.snapshot else None, m.first_per}
            reads = set(times)
            if not times_only:
                for s in (m.filter, m.expr):
                    if s:
                        reads |= _cols(self.cat, s, table)
            if column in reads:
                out.append(name)
        return tuple(out)

    # -- freshness and grain ------------------------------------------------------------------------
    def newest_sql(self, table: str) -> str | None:
        """Newest day in each time column of the table (one row per column: col, newest, rows)."""
        cols = self.time_columns(table)
        if not cols:
            return None
        from_sql = self._from(table, cols)
        parts = [f"SELECT {_lit(c)} AS col, MAX(CAST(t.{_q(c)} AS DATE)) AS newest, COUNT(t.{_q(c)}) AS n, "
                 f"SUM(CASE WHEN EXTRACT(DAY FROM t.{_q(c)}) <> 1 THEN 1 ELSE 0 END) AS off_first, "
                 f"COUNT(DISTINCT CAST(t.{_q(c)} AS DATE)) AS days FROM {from_sql}" for c in cols]
        return " UNION ALL ".join(parts)

    # -- static checks ----------------------------------------------------------------------------
    def never_matching_filters(self) -> list[NeverMatches]:
        out = []
        for name, m in self.defs.measures.items():
            if m.filter and m.table in self.defs.tables:
                out += self._never(m.filter, m.table, f"measures.{name}.filter", (name,))
        return out

    def _never(self, sql: str, table: str, where: str, uses: tuple[str, ...]) -> list[NeverMatches]:
        out = []
        tree = self.cat.parse(sql, table)
        for node in tree.find_all(exp.EQ, exp.NEQ, exp.In):
            col = node.this
            if not isinstance(col, exp.Column):
                continue
            lits = ([node.expression] if not isinstance(node, exp.In) else list(node.expressions))
            target = self.cat.resolve(table, col.table, col.name)
            if target is None:
                continue
            c = self.defs.tables[target[0]].columns[target[1]]
            if not c.values:
                continue
            targets = [v for v in c.values.values() if v is not None]
            produced = tuple(dict.fromkeys(targets + ([c.default] if c.default is not None else [])))
            # Without a default, unmapped values pass through, so only a mapped source value is sure
            # never to survive ('Won' when {won: won} and normalize turn it into 'won').
            sources = {(k.strip().lower() if c.normalize else k) for k in c.values}
            for lit in lits:
                if not (isinstance(lit, exp.Literal) and lit.is_string) or lit.this in produced:
                    continue
                key = lit.this.strip().lower() if c.normalize else lit.this
                if c.default is not None or key in sources:
                    out.append(NeverMatches(where, target[0], target[1], lit.this, produced, uses))
        return out


def _cols(cat: Catalog, sql: str, table: str) -> set[str]:
    from .expressions import column_refs

    return {r.name for r in column_refs(cat.parse(sql, table)) if not r.qualifier}


def _qualified(cat: Catalog, sql: str, table: str) -> list[str]:
    from .expressions import column_refs

    return [f"{r.qualifier}.{r.name}" for r in column_refs(cat.parse(sql, table)) if r.qualifier]
