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

``rollup_serve_sql.serve_sql`` then writes the statement that answers from the plan's parts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from .catalog import Catalog
from .compile import MetricQuery
from .compile_cumulative import widen
from .compile_scan import prorated
from .filters import conds
from .models import ConversionMetric, Definitions
from .periods import Period
from .rollup_sql import ADDITIVE_AGGS, EXACT_AGGS, Part


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
    dated = data_grain(defs, item)
    if prorates(defs, item, part):
        return None  # each row's share of the window by days, as the raw path takes it (serve_sql)
    if dated != "day" and (dated not in ("month", "quarter", "year") or not all(_whole(p, dated) for p in periods)):
        # rows dated once a month: how a window that cuts a month counts (refuse) is the raw path's
        return f"cannot cut {item}'s rows, dated by {dated}, at a window edge"
    if not all(_whole(p, part.grain) for p in periods):
        return f"is by {part.grain} and a window is not whole {part.grain}s"
    return None


def prorates(defs: Definitions, item: str, part: Part) -> bool:
    """A sum over rows dated by a coarse grain with ``partial: prorate``, stored with one key per row's
    date (a day part, or a part of the data's own grain): any window takes each key's share by days."""
    m = defs.measures.get(item) if part.conversion is None else None
    return m is not None and prorated(defs, m) and part.grain in ("day", data_grain(defs, item))


def data_grain(defs: Definitions, item: str) -> str:
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
