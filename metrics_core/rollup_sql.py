"""A rollup's parts and the SQL that builds them (layer: compile; pure: no driver, no I/O).

A rollup names measures, conversions, dimensions and a grain. It is stored as one table per
*part*: the measures that read the same rows placed by the same time (like one scan of the
compiler), a snapshot measure, or a conversion. Every part has one row per (bucket key ``k``,
dimensions) with re-aggregable partials:

    plain      k = local day (or month, quarter, year start) of the time column;
               count/sum/min/max -> <m>__v; avg -> <m>__s, <m>__c; <m>__n rows counted; rows_ all rows
    snapshot   +1 on the local day of `from`, -1 on the later of the days of `from` and `to`:
               open at a period edge E = the sum of everything keyed before E (over all history)
    conversion base rows per day: base_n, and conv_n of them followed by a target event in time

Keys are local DATEs: timestamps are converted to the calendar's time zone once, here, so a
question's window is a plain key range. Dimension columns are ``d_<name>``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import sqlglot
from sqlglot import exp

from .catalog import Catalog
from .compile import _exact_percentiles
from .compile_tables import TableSQL
from .models import ConversionMetric, Definitions, MeasureDef, RollupDef

ADDITIVE_AGGS = ("count", "sum", "avg", "min", "max")  # re-aggregable from partials at any coarser grain
EXACT_AGGS = ("count_distinct", "median", "percentile")  # only at the rollup's own grain
SNAPSHOT_AGGS = ("count", "sum", "avg")  # a running sum of deltas


@dataclass(frozen=True)
class Part:
    """One stored table of a rollup."""

    rollup: str
    index: int
    kind: str  # "plain" | "snapshot" | "conversion"
    table: str  # the logical table its rows come from (a conversion: the base measure's)
    measures: tuple[str, ...]  # plain/snapshot: the measures stored; conversion: ()
    conversion: str | None
    dimensions: tuple[str, ...]
    grain: str

    @property
    def name(self) -> str:
        return f"{self.rollup}__{self.index}"

    def columns(self, defs: Definitions, measure: str) -> tuple[str, ...]:
        agg = defs.measures[measure].agg
        return (f"{measure}__s", f"{measure}__c") if agg == "avg" else (f"{measure}__v",)


def placement(defs: Definitions, name: str) -> tuple:
    """Measures with the same placement read the same rows (the compiler's scan grouping)."""
    m = defs.measures[name]
    time_col = None if m.snapshot else (m.time or defs.tables[m.table].time)
    return (m.table, time_col, m.snapshot.model_dump_json() if m.snapshot else None, m.first_per,
            m.filter if m.first_per else None)


def parts_of(defs: Definitions, name: str, r: RollupDef) -> list[Part]:
    groups: dict[tuple, list[str]] = {}
    for meas in r.measures:  # a snapshot measure is a part of its own (one running sum each)
        key = placement(defs, meas)
        groups.setdefault((*key, meas) if key[2] else key, []).append(meas)
    out: list[Part] = []
    for key, names in groups.items():
        kind = "snapshot" if key[2] else "plain"
        out.append(Part(name, len(out), kind, key[0], tuple(names), None, tuple(r.dimensions), r.grain))
    for conv in r.conversions:
        c: ConversionMetric = defs.metrics[conv]  # type: ignore[assignment]
        out.append(Part(name, len(out), "conversion", defs.measures[c.base.measure].table, (), conv,
                        tuple(r.dimensions), r.grain))
    return out


def definition_hash(defs: Definitions, part: Part) -> str:
    """Changes whenever anything that decides the part's numbers changes in definitions.yaml."""
    measures = list(part.measures)
    metrics = {}
    if part.conversion:
        c = defs.metrics[part.conversion]
        metrics[part.conversion] = c.model_dump(mode="json", include={"base", "target", "within"})
        measures += [c.base.measure, c.target.measure]  # type: ignore[union-attr]
    blob = {
        "part": [part.kind, part.table, part.measures, part.conversion, part.dimensions, part.grain],
        "measures": {m: defs.measures[m].model_dump(mode="json", exclude={"label", "description", "format"})
                     for m in measures},
        "metrics": metrics,
        "tables": {n: t.model_dump(mode="json", exclude={"description"}) for n, t in sorted(defs.tables.items())},
        "calendar": defs.calendar.model_dump(mode="json"),
        "dialect": defs.sql_dialect,
    }
    return hashlib.sha256(json.dumps(blob, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _time_col(defs: Definitions, m: MeasureDef) -> str:
    return m.time or defs.tables[m.table].time  # type: ignore[return-value]


class BuildSQL:
    """The SELECT that builds one part, in the engine's dialect."""

    def __init__(self, cat: Catalog, part: Part, base_dir: Path | None = None) -> None:
        self.cat, self.defs, self.part = cat, cat.defs, part
        self.tables = TableSQL(cat, base_dir)
        self.zone = self.defs.calendar.timezone

    # -- keys ----------------------------------------------------------------------------------
    def local_day(self, table: str, column: str) -> str:
        """The local DATE of a time column (timestamps are naive UTC; converted once, at build)."""
        col = self.tables.expr(column, table)
        if self.cat.column_type(table, column) != "timestamp":
            return f"CAST({col} AS DATE)"
        if self.zone == "UTC":
            return f"CAST({col} AS DATE)"
        return f"KPI_LOCAL_DAY({col})"  # rendered per dialect in render()

    def bucket(self, day_sql: str) -> str:
        if self.part.grain == "day":
            return day_sql
        return f"CAST(DATE_TRUNC('{self.part.grain}', {day_sql}) AS DATE)"

    def _dims(self, measure: str) -> list[str]:
        dims = self.cat.measure_dimensions(measure)
        return [f"{self.tables.expr(dims[d].expr, self.defs.measures[measure].table)} AS d_{d}"
                for d in self.part.dimensions]

    def _needed(self, measure: str, extra: list[str | None]) -> list[str]:
        m = self.defs.measures[measure]
        dims = self.cat.measure_dimensions(measure)
        sqls = [m.expr, m.filter, m.first_per, *extra, *(dims[d].expr for d in self.part.dimensions)]
        return [s for s in sqls if s]

    # -- parts ---------------------------------------------------------------------------------
    def select(self, dialect: str, keys: tuple[date, ...] | None = None) -> str:
        """The part's rows; with ``keys``, only those buckets (an incremental refresh)."""
        text = {"plain": self._plain, "snapshot": self._snapshot, "conversion": self._conversion}[self.part.kind](keys)
        return render(text, dialect, self.zone)

    def _key_filter(self, key_sql: str, keys: tuple[date, ...] | None) -> list[str]:
        if keys is None:
            return []
        listed = ", ".join(f"DATE '{k.isoformat()}'" for k in keys) or "NULL"
        return [f"{key_sql} IN ({listed})"]

    def _plain(self, keys: tuple[date, ...] | None) -> str:
        names = self.part.measures
        first = self.defs.measures[names[0]]
        time_col = _time_col(self.defs, first)
        needed = [s for n in names for s in self._needed(n, [time_col])]
        key = self.bucket(self.local_day(first.table, time_col))
        inner, aggs = [f"{key} AS k", *self._dims(names[0])], []
        for i, name in enumerate(names):
            m = self.defs.measures[name]
            # first_per: from_clause already keeps only each entity's first row passing the filter (and
            # its MIN(time) form keeps no other column to test the filter on again)
            f = self.tables.expr(m.filter, m.table) if m.filter and not m.first_per else None
            inner.append(f"{self.tables.expr(m.expr, m.table) if m.expr else '1'} AS x{i}")
            if f:
                inner.append(f"({f}) AS f{i}")
            x = f"CASE WHEN f{i} THEN x{i} END" if f else f"x{i}"
            aggs += _partials(m, name, x)
            aggs.append(f"COUNT(CASE WHEN f{i} THEN 1 END) AS {name}__n" if f else f"COUNT(*) AS {name}__n")
        where = [f"{self.tables.expr(time_col, first.table)} IS NOT NULL", *self._key_filter(key, keys)]
        dims = "".join(f", d_{d}" for d in self.part.dimensions)
        return (f"SELECT k{dims}, {', '.join(aggs)}, COUNT(*) AS rows_ FROM (SELECT {', '.join(inner)} "
                f"FROM {self.tables.from_clause(first, needed)} WHERE {' AND '.join(where)}) AS r GROUP BY k{dims}")

    def _snapshot(self, keys: tuple[date, ...] | None) -> str:
        name = self.part.measures[0]
        m = self.defs.measures[name]
        s = m.snapshot
        assert s is not None
        t = self.tables.expr
        start = self.bucket(self.local_day(m.table, s.from_))
        sides = [(start, "1", [f"{t(s.from_, m.table)} IS NOT NULL"])]
        if s.to:
            end = self.bucket(f"GREATEST({self.local_day(m.table, s.from_)}, {self.local_day(m.table, s.to)})")
            sides.append((end, "-1", [f"{t(s.from_, m.table)} IS NOT NULL", f"{t(s.to, m.table)} IS NOT NULL"]))
        needed = self._needed(name, [s.from_, s.to])
        f = t(m.filter, m.table) if m.filter else None
        x = t(m.expr, m.table) if m.expr else "1"
        dims = self._dims(name)
        branches = []
        for key, sign, where in sides:
            cols = [f"{key} AS k", *dims]
            val = f"CASE WHEN {f} THEN {x} END" if f else x
            if m.agg == "avg":
                cols += [f"{sign} * CAST({val} AS DOUBLE) AS s_", f"{sign} * CASE WHEN {val} IS NOT NULL THEN 1 ELSE 0 END AS c_"]
            else:
                cols.append(f"{sign} * {val} AS v_")
            cols.append(f"{sign} * {'CASE WHEN ' + f + ' THEN 1 ELSE 0 END' if f else '1'} AS n_")
            branches.append(f"SELECT {', '.join(cols)} FROM {self.tables.from_clause(m, needed)} WHERE {' AND '.join(where)}")
        dcols = "".join(f", d_{d}" for d in self.part.dimensions)
        vals = ([f"SUM(s_) AS {name}__s", f"SUM(c_) AS {name}__c"] if m.agg == "avg"
                else [f"SUM(v_) AS {name}__v"]) + [f"SUM(n_) AS {name}__n"]
        outer_where = " WHERE " + " AND ".join(self._key_filter("k", keys)) if keys is not None else ""
        return (f"SELECT k{dcols}, {', '.join(vals)}, COUNT(*) AS rows_ FROM ({' UNION ALL '.join(branches)}) AS r"
                f"{outer_where} GROUP BY k{dcols}")

    def _conversion(self, keys: tuple[date, ...] | None) -> str:
        c: ConversionMetric = self.defs.metrics[self.part.conversion]  # type: ignore[assignment]
        bm, tm = self.defs.measures[c.base.measure], self.defs.measures[c.target.measure]
        t = self.tables.expr
        b_time, t_time = _time_col(self.defs, bm), _time_col(self.defs, tm)
        b_from = self.tables.from_clause(bm, self._needed(c.base.measure, [b_time, c.base.entity]))
        t_from = self.tables.from_clause(tm, [tm.filter or "", t_time, c.target.entity])
        key = self.bucket(self.local_day(bm.table, b_time))
        b_where = [f"{t(b_time, bm.table)} IS NOT NULL", *([t(bm.filter, bm.table)] if bm.filter else []),
                   *self._key_filter(key, keys)]
        t_where = [f"{t(t_time, tm.table)} IS NOT NULL", *([t(tm.filter, tm.table)] if tm.filter else [])]
        dims = self._dims(c.base.measure)
        base = (f"SELECT {key} AS k, {', '.join([*dims, ''])}{t(c.base.entity, bm.table)} AS ent, "
                f"CAST({t(b_time, bm.table)} AS DATE) AS bt FROM {b_from} WHERE {' AND '.join(f'({w})' for w in b_where)}")
        target = (f"SELECT DISTINCT {t(c.target.entity, tm.table)} AS ent, CAST({t(t_time, tm.table)} AS DATE) AS tt "
                  f"FROM {t_from} WHERE {' AND '.join(f'({w})' for w in t_where)}")
        # the same window test as the compiler's: a target on the base day up to N days later
        hit = (f"SELECT DISTINCT b.ent, b.bt FROM ({base}) AS b JOIN ({target}) AS tg ON tg.ent = b.ent "
               f"AND tg.tt >= b.bt AND tg.tt <= b.bt + INTERVAL {c.within_days} DAY")
        bdims = "".join(f", b.d_{d}" for d in self.part.dimensions)
        return (f"SELECT b.k{bdims}, COUNT(*) AS base_n, COUNT(h.ent) AS conv_n, COUNT(*) AS rows_ "
                f"FROM ({base}) AS b LEFT JOIN ({hit}) AS h ON h.ent = b.ent AND h.bt = b.bt GROUP BY b.k{bdims}")

    # -- what a refresh reads ------------------------------------------------------------------
    def changed_keys_sql(self, dialect: str, column: str, since: str) -> str:
        """Distinct bucket keys of the rows whose change column is past ``since`` (a literal)."""
        names = self.part.measures
        m = self.defs.measures[names[0]]
        time_col = _time_col(self.defs, m)
        key = self.bucket(self.local_day(m.table, time_col))
        base = self.tables.stage(m.table, sorted({time_col, column}))
        text = (f"SELECT DISTINCT {key} AS k FROM {base} AS t WHERE {self.tables.expr(time_col, m.table)} IS NOT NULL "
                f"AND {self.tables.expr(column, m.table)} > {since}")
        return render(text, dialect, self.zone)

    def row_count_sql(self, dialect: str) -> str:
        """All rows the part places in a bucket (its rows_ must add up to this)."""
        m = self.defs.measures[self.part.measures[0]]
        time_col = _time_col(self.defs, m)
        base = self.tables.stage(m.table, [time_col])
        return render(f"SELECT COUNT(*) AS n FROM {base} AS t WHERE {self.tables.expr(time_col, m.table)} IS NOT NULL",
                      dialect, self.zone)


def _partials(m: MeasureDef, name: str, x: str) -> list[str]:
    match m.agg:
        case "count":
            return [f"COUNT({x}) AS {name}__v"]
        case "sum":
            return [f"SUM({x}) AS {name}__v"]
        case "avg":
            return [f"SUM(CAST({x} AS DOUBLE)) AS {name}__s", f"COUNT({x}) AS {name}__c"]
        case "min":
            return [f"MIN({x}) AS {name}__v"]
        case "max":
            return [f"MAX({x}) AS {name}__v"]
        case "count_distinct":
            return [f"COUNT(DISTINCT {x}) AS {name}__v"]
        case "median":
            return [f"QUANTILE_CONT({x}, 0.5) AS {name}__v"]
        case "percentile":
            return [f"QUANTILE_CONT({x}, {float(m.p)}) AS {name}__v"]  # type: ignore[arg-type]
    raise AssertionError(m.agg)


# Per dialect: the local date of a naive-UTC timestamp x in zone z (the zone is a validated IANA name).
_LOCAL_DAY = {
    "duckdb": "CAST(TIMEZONE({z}, TIMEZONE('UTC', CAST(x AS TIMESTAMP))) AS DATE)",
    "postgres": "CAST(TIMEZONE({z}, TIMEZONE('UTC', CAST(x AS TIMESTAMP))) AS DATE)",
    "spark": "CAST(FROM_UTC_TIMESTAMP(CAST(x AS TIMESTAMP), {z}) AS DATE)",
    "databricks": "CAST(FROM_UTC_TIMESTAMP(CAST(x AS TIMESTAMP), {z}) AS DATE)",
    "bigquery": "DATE(CAST(x AS TIMESTAMP), {z})",
    "snowflake": "CAST(CONVERT_TIMEZONE('UTC', {z}, CAST(x AS TIMESTAMP_NTZ)) AS DATE)",
}


def render(text: str, dialect: str, zone: str) -> str:
    """DuckDB-flavoured text -> the dialect, with KPI_LOCAL_DAY(x) written the dialect's own way."""
    tree = sqlglot.parse_one(text, read="duckdb")
    template = _LOCAL_DAY.get(dialect, _LOCAL_DAY["duckdb"]).format(z=exp.Literal.string(zone).sql(dialect))

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Anonymous) and node.name.upper() == "KPI_LOCAL_DAY":
            arg = node.expressions[0]
            local = sqlglot.parse_one(template, read=dialect if dialect in _LOCAL_DAY else "duckdb")
            return local.transform(lambda n: arg.copy() if isinstance(n, exp.Column) and n.name == "x" else n)
        return node

    tree = _exact_percentiles(tree.transform(swap), dialect)
    return tree.sql(dialect=dialect)
