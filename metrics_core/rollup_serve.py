"""Answer a question from rollups when that is provably equal to raw SQL (layer: compile; pure).

``match`` decides, measure by measure, which stored part can serve it, or says why none can::

    plan = match(cat, query, candidates)      # candidates: built parts, in definition order
    plan.parts   -> {"won_deals": Part(deals_daily__0), ...}   or   plan.misses -> ["won_deals: ..."]

The rules (a question is served only when every measure and conversion it reads is):
- the part stores the measure (or the conversion), is fresh (same data version) and keeps every
  dimension the question breaks down or filters by (any filter: =, !=, >, or ... is a function of
  the dimension's value, so applied to the part's column it keeps exactly the raw rows' buckets;
  a filter on a column that is no rollup dimension, like ``amount > 50000``, falls back to raw);
- count, sum, avg (as sum/count), min, max: every window is whole buckets of the part's grain
  (a day rollup serves any window; a month rollup serves months, quarters, fiscal years);
- a snapshot: the window's edge (end, or start for ``at: start``) is a bucket boundary; the
  running sum of +1/-1 over everything keyed before the edge is the open count there;
- a conversion: windows of whole buckets (rows go by base time, targets are never clipped);
- count_distinct, median, percentile: only at the part's exact grain: no dimensions anywhere
  and every window exactly one bucket.

``serve_sql`` then writes one statement with the compiler's output shape (pid, g, d0.., value,
m0, m0_n, c0, c0_base, s0..), so the answer is assembled exactly like a raw one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import sqlglot

from .catalog import Catalog
from .compile import Compiled, MetricQuery, _Builder
from .compile_cumulative import widen
from .compile_filters import condition_sql, table_fields
from .compile_scan import grain_span, prorated
from .compile_values import value_condition
from .filters import conds
from .models import ConversionMetric, Definitions
from .periods import Period
from .rollup_sql import ADDITIVE_AGGS, EXACT_AGGS, Part

NULLS_ARE_ZERO = ("count", "count_distinct", "sum")  # the compiler's COALESCE(SUM(...), 0)


@dataclass(frozen=True)
class Candidate:
    """A built part the store offers: where its rows are, and whether it may serve now."""

    part: Part
    relation: str  # DuckDB-flavoured SQL naming its rows: a table, or read_parquet('...')
    fresh: bool = True
    why_stale: str = ""


@dataclass
class Plan:
    parts: dict[str, Candidate] = field(default_factory=dict)  # measure or conversion -> candidate
    misses: list[str] = field(default_factory=list)

    @property
    def served(self) -> bool:
        return not self.misses and bool(self.parts)

    @property
    def rollups(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.part.rollup for c in self.parts.values()))


def needed(cat: Catalog, metric: str) -> tuple[list[str], list[str]]:
    """(measures, conversion metrics) a metric reads, in the compiler's order."""
    measures: list[str] = []
    conversions: list[str] = []

    def walk(name: str, seen: tuple[str, ...]) -> None:
        if name in seen:
            return
        m = cat.defs.metrics[name]
        if isinstance(m, ConversionMetric):
            conversions.append(name) if name not in conversions else None
            return
        ms, subs = cat.metric_refs(name)
        measures.extend(x for x in ms if x not in measures)
        for sub in subs:
            walk(sub, (*seen, name))

    walk(metric, ())
    return measures, conversions


def is_boundary(d: date, grain: str) -> bool:
    if grain == "day":
        return True
    if grain == "month":
        return d.day == 1
    if grain == "quarter":
        return d.day == 1 and d.month in (1, 4, 7, 10)
    if grain == "year":
        return d.day == 1 and d.month == 1
    raise AssertionError(grain)


def _next_boundary(d: date, grain: str) -> date:
    step = {"day": 0, "month": 1, "quarter": 3, "year": 12}[grain]
    if step == 0:
        return d + timedelta(days=1)
    month = d.month - 1 + step
    return date(d.year + month // 12, month % 12 + 1, 1)


def _whole(p: Period, grain: str) -> bool:
    return is_boundary(p.start, grain) and is_boundary(p.end_exclusive, grain)


def _one_bucket(p: Period, grain: str) -> bool:
    return is_boundary(p.start, grain) and _next_boundary(p.start, grain) == p.end_exclusive


def why_not(defs: Definitions, query: MetricQuery, item: str, c: Candidate) -> str | None:
    """None when ``c`` serves ``item`` (a measure or conversion) for ``query``; else the reason."""
    part = c.part
    if item not in part.measures and item != part.conversion:
        return f"does not store {item}"
    if not c.fresh:
        return c.why_stale or "is stale"
    wanted = [*query.dimensions, *(d for d, _ in query.filters), *(c.dim for c in conds(query.condition))]
    missing = [d for d in dict.fromkeys(wanted) if d not in part.dimensions]
    if missing:
        return f"lacks dimension {', '.join(repr(d) for d in missing)}"
    periods = [s.period for s in query.slots]
    m = defs.measures.get(item) if part.conversion is None else None
    if m is not None and m.snapshot:
        edges = [p.end_exclusive if m.snapshot.at == "end" else p.start for p in periods]
        if not all(is_boundary(e, part.grain) for e in edges):
            return f"is by {part.grain} and a window edge falls inside one"
        return None
    if m is not None and m.agg in EXACT_AGGS:
        if part.dimensions or wanted:
            return f"{m.agg} is exact only at the rollup's grain, which has no dimensions here"
        if not all(_one_bucket(p, part.grain) for p in periods):
            return f"{m.agg} is exact only for windows of exactly one {part.grain}"
        return None
    if m is not None and m.agg not in ADDITIVE_AGGS:
        return f"{m.agg} cannot be rolled up"
    dated = _data_grain(defs, item)
    if _prorates(defs, item, part):
        return None  # each row's share of the window by days, as the raw path takes it (serve_sql)
    if dated != "day" and (dated not in ("month", "quarter", "year") or not all(_whole(p, dated) for p in periods)):
        # rows dated once a month: how a window that cuts a month counts (refuse) is the raw path's
        return f"cannot cut {item}'s rows, dated by {dated}, at a window edge"
    if not all(_whole(p, part.grain) for p in periods):
        return f"is by {part.grain} and a window is not whole {part.grain}s"
    return None


def _prorates(defs: Definitions, item: str, part: Part) -> bool:
    """A sum over rows dated by a coarse grain with ``partial: prorate``, stored with one key per row's
    date (a day part, or a part of the data's own grain): any window takes each key's share by days."""
    m = defs.measures.get(item) if part.conversion is None else None
    return m is not None and prorated(defs, m) and part.grain in ("day", _data_grain(defs, item))


def _data_grain(defs: Definitions, item: str) -> str:
    """How finely the rows behind ``item`` are dated (tables/measures ``grain:``; day when not declared)."""
    m = defs.measures.get(item)
    if m is None:  # a conversion goes by its base measure
        c = defs.metrics.get(item)
        m = defs.measures.get(c.base.measure) if isinstance(c, ConversionMetric) else None
    if m is None:
        return "day"
    return getattr(m, "grain", None) or getattr(defs.tables[m.table], "grain", "day") or "day"


def match(cat: Catalog, query: MetricQuery, candidates: list[Candidate]) -> Plan:
    """The first candidate (definition order) that serves each measure and conversion, or why not."""
    plan = Plan()
    query = widen(cat, query)
    measures, conversions = needed(cat, query.metric)
    for item in [*measures, *conversions]:
        reasons = []
        for c in candidates:
            why = why_not(cat.defs, query, item, c)
            if why is None:
                plan.parts[item] = c
                break
            if not why.startswith("does not store"):
                reasons.append(f"{c.part.rollup} {why}")
        else:
            plan.misses.append(f"{item}: " + ("; ".join(reasons) if reasons else "no rollup stores it"))
    return plan


def _reagg(defs: Definitions, items: list[str], column: str) -> str:
    """How a part column re-aggregates over buckets: MIN/MAX for those measures, else SUM."""
    name, _, kind = column.rpartition("__")
    agg = defs.measures[name].agg if name in items and name in defs.measures else "sum"
    return agg.upper() if kind == "v" and agg in ("min", "max") else "SUM"


class _Exprs:
    """The compiler's metric expressions over the ``a`` columns (shared, so both paths agree)."""

    metric_sql = _Builder.metric_sql

    def __init__(self, cat: Catalog) -> None:
        self.cat, self.defs = cat, cat.defs


def serve_sql(cat: Catalog, query: MetricQuery, plan: Plan, dialect: str) -> Compiled:
    """One statement answering ``query`` from the plan's parts, in the compiler's output shape."""
    defs = cat.defs
    query = widen(cat, query)
    measures, conversions = needed(cat, query.metric)
    mcols = {m: f"m{i}" for i, m in enumerate(measures)}
    ccols = {c: (f"c{i}", f"c{i}_base") for i, c in enumerate(conversions)}
    dim_cols = tuple(f"d{i}" for i in range(len(query.dimensions)))
    params: dict[str, Any] = {}
    periods = " UNION ALL ".join(
        f"SELECT {s.pid} AS pid, DATE '{s.period.start.isoformat()}' AS lo_d, "
        f"DATE '{s.period.end_exclusive.isoformat()}' AS hi_d, {s.period.days} AS days" for s in query.slots)
    ctes = [f"periods AS ({periods})"]

    def outputs(item: str) -> dict[str, str]:
        """u column -> the part column that feeds it."""
        if item in ccols:
            return {ccols[item][0]: "conv_n", ccols[item][1]: "base_n"}
        col = mcols[item]
        if defs.measures[item].agg == "avg":
            return {col + "_s": f"{item}__s", col + "_c": f"{item}__c", col + "_n": f"{item}__n"}
        return {col: f"{item}__v", col + "_n": f"{item}__n"}

    out_cols = [u for item in [*measures, *conversions] for u in outputs(item)]
    by_part: dict[str, list[str]] = {}
    for item, c in plan.parts.items():
        by_part.setdefault(c.part.name, []).append(item)
    if dim_cols:
        sel_dims = ", ".join(dim_cols) + f", GROUPING({dim_cols[0]}) AS g"
        group = f"GROUP BY GROUPING SETS ((pid, {', '.join(dim_cols)}), (pid))"
    else:
        sel_dims, group = "0 AS g", "GROUP BY pid"
    branches = []
    for j, (pname, items) in enumerate(by_part.items()):
        c = plan.parts[items[0]]
        snap = defs.measures[items[0]].snapshot if c.part.kind == "snapshot" else None
        join = ("r.k <= p.hi_d" if snap.at == "end" else "r.k <= p.lo_d") if snap else "r.k >= p.lo_d AND r.k < p.hi_d"
        wanted = {u: src for item in items for u, src in outputs(item).items()}
        # literal bounds let DuckDB skip Parquet row groups (and every engine rows) before the join
        hi = max(s.period.end_exclusive for s in query.slots)
        edges = sorted({s.period.end_exclusive if snap.at == "end" else s.period.start for s in query.slots}) if snap else []
        first = f"DATE '{min(s.period.start for s in query.slots).isoformat()}'"
        lo = f"r.k >= {first}"
        shared: dict[str, str] = {}  # prorated columns: u -> the share of its key's period inside the window
        cut = [item for item in items if _prorates(defs, item, c.part)]
        if cut:  # a row dated by month counts in every window its month overlaps, by its share of days
            start, end = grain_span("r.k", _data_grain(defs, cut[0]))
            join, lo = f"{start} < p.hi_d AND {end} > p.lo_d", f"{end} > {first}"
            share = (f"CAST(DATE_DIFF('day', GREATEST({start}, p.lo_d), LEAST({end}, p.hi_d)) AS DOUBLE) "
                     f"/ DATE_DIFF('day', {start}, {end})")
            shared = {u: share for item in cut for u in outputs(item)}
        where = [f"r.k < DATE '{edges[-1].isoformat()}'"] if snap else [lo, f"r.k < DATE '{hi.isoformat()}'"]
        for dim, values in query.filters:
            where.append(value_condition(f"r.d_{dim}", values, params))
        if query.condition is not None:  # on the part's dimension columns, which hold the raw values
            fields = table_fields(cat, defs.measures[items[0]].table if items[0] in defs.measures
                                  else defs.measures[defs.metrics[items[0]].base.measure].table)
            where.append(condition_sql(query.condition, lambda d: (f"r.d_{d}", fields[d].kind), params))
        # First fold the part to (key, the question's dimensions), filters applied: a few thousand rows
        # instead of every dimension combination, before each window adds up its keys.
        # A snapshot's open count at an edge adds up every key before it: its keys are first folded onto
        # the next edge (a few rows per dimension value instead of one per day of the whole history).
        key = ("CASE " + " ".join(f"WHEN r.k < DATE '{e.isoformat()}' THEN DATE '{e.isoformat()}'" for e in edges)
               + " END") if snap else "r.k"
        kd = ", ".join([key, *(f"r.d_{d}" for d in query.dimensions)])
        folded = ", ".join([f"{key} AS k", *(f"r.d_{d} AS {col}" for d, col in zip(query.dimensions, dim_cols)),
                            *(f"{_reagg(defs, items, src)}(r.{src}) AS {u}" for u, src in wanted.items())])
        where_sql = (" WHERE " + " AND ".join(where)) if where else ""
        part_rows = f"(SELECT {folded} FROM {c.relation} AS r{where_sql} GROUP BY {kd})"
        inner = ", ".join(["p.pid", *(f"r.{col}" for col in dim_cols),
                           *(f"r.{u} * {shared[u]} AS {u}" if u in shared else f"r.{u}" for u in wanted)])
        sums = ", ".join(f"{_reagg(defs, items, src)}({u}) AS {u}" for u, src in wanted.items())
        ctes.append(f"q{j} AS (SELECT pid, {sel_dims}, {sums} FROM (SELECT {inner} FROM {part_rows} AS r "
                    f"JOIN periods AS p ON {join}) AS x {group})")
        dims = "".join(f"{d}, " for d in dim_cols)
        branches.append(f"SELECT pid, {dims}g, " + ", ".join(
            f"CAST({u} AS DOUBLE) AS {u}" if u in wanted else f"CAST(NULL AS DOUBLE) AS {u}" for u in out_cols)
            + f" FROM q{j}")
    null_dims = "".join(f"NULL AS {d}, " for d in dim_cols)
    total = 1 if dim_cols else 0
    branches.append(f"SELECT pid, {null_dims}{total} AS g, "
                    + ", ".join(f"CAST(NULL AS DOUBLE) AS {u}" for u in out_cols) + " FROM periods")
    ctes.append("u AS (" + " UNION ALL ".join(branches) + ")")
    aggs, present = [], []
    for m, col in mcols.items():
        agg = defs.measures[m].agg
        if agg == "avg":
            aggs.append(f"CAST(SUM({col}_s) AS DOUBLE) / NULLIF(SUM({col}_c), 0) AS {col}")
        elif agg in ("min", "max"):
            aggs.append(f"{agg.upper()}({col}) AS {col}")
        elif agg in NULLS_ARE_ZERO:
            aggs.append(f"COALESCE(SUM({col}), 0) AS {col}")
        else:
            aggs.append(f"SUM({col}) AS {col}")
        aggs.append(f"COALESCE(SUM({col}_n), 0) AS {col}_n")
        present.append(f"COALESCE(SUM({col}_n), 0)")
    for conv, base in ccols.values():
        aggs += [f"COALESCE(SUM({conv}), 0) AS {conv}", f"COALESCE(SUM({base}), 0) AS {base}"]
        present.append(f"COALESCE(SUM({base}), 0)")
    dims = "".join(f"{d}, " for d in dim_cols)
    # A breakdown row exists in raw SQL only where some measure counted a row (or a conversion had a base row).
    having = f" HAVING g = 1 OR {' + '.join(present)} > 0" if dim_cols else ""
    ctes.append(f"a AS (SELECT pid, {dims}g, {', '.join(aggs)} FROM u GROUP BY pid, {dims}g{having})")
    exprs = _Exprs(cat)
    metric_cols = {query.metric: "value"}
    selects = [f"{exprs.metric_sql(query.metric, mcols, ccols)} AS value"]
    _, subs = cat.metric_refs(query.metric)
    for i, sub in enumerate(subs):
        metric_cols[sub] = f"s{i}"
        selects.append(f"{exprs.metric_sql(sub, mcols, ccols)} AS s{i}")
    comps = [f"a.{c}" for c in mcols.values()] + [f"a.{c}_n" for c in mcols.values()]
    comps += [f"a.{c}" for pair in ccols.values() for c in pair]
    adims = "".join(f", a.{d}" for d in dim_cols)
    text = (f"WITH {', '.join(ctes)}\nSELECT a.pid, a.g{adims}, {', '.join(selects + comps)} FROM a "
            f"JOIN periods AS p ON a.pid = p.pid ORDER BY a.pid, a.g DESC{adims}")
    sql = sqlglot.parse_one(text, read="duckdb").sql(dialect=dialect, pretty=True)
    return Compiled(sql, params, dialect, mcols, ccols, metric_cols, dim_cols)
