"""Plain-words explanations of metrics, and the data-freshness probe (layer: facade helpers; pure)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .catalog import Catalog
from .compile_tables import TableSQL
from .models import ConversionMetric, Definitions, DerivedMetric, MeasureDef, RatioMetric, SimpleMetric

if TYPE_CHECKING:
    from .api import Explanation, MetricInfo


def describe_measure(defs: Definitions, name: str) -> str:
    m: MeasureDef = defs.measures[name]
    what = {"count": "number of rows", "count_distinct": f"number of distinct {m.expr}", "sum": f"sum of {m.expr}",
            "avg": f"average of {m.expr}", "min": f"minimum of {m.expr}", "max": f"maximum of {m.expr}",
            "median": f"median of {m.expr}", "percentile": f"p{int((m.p or 0) * 100)} of {m.expr}"}[m.agg]
    parts = [f"{what} in {m.table}"]
    if m.filter:
        parts.append(f"where {m.filter}")
    if m.first_per:
        parts.append(f"(only the first such row per {m.first_per})")
    if m.snapshot:
        s = m.snapshot
        parts.append(f"open at the period {s.at}: {s.from_} before it" + (f" and {s.to} not yet" if s.to else ""))
    else:
        parts.append(f"placed in a period by {m.time or defs.tables[m.table].time}")
    return " ".join(parts)


def explain_metric(defs: Definitions, cat: Catalog, info: "MetricInfo", sql: str) -> "Explanation":
    from .api import Explanation

    m = defs.metrics[info.name]
    comps: list[tuple[str, str]] = []
    if isinstance(m, SimpleMetric):
        comps.append((m.measure, describe_measure(defs, m.measure)))
    elif isinstance(m, RatioMetric):
        comps += [(m.numerator, describe_measure(defs, m.numerator)), (m.denominator, describe_measure(defs, m.denominator))]
    elif isinstance(m, ConversionMetric):
        comps += [(m.base.measure, describe_measure(defs, m.base.measure)),
                  (m.target.measure, describe_measure(defs, m.target.measure) + f", matched on {m.target.entity}")]
    elif isinstance(m, DerivedMetric):
        comps += [(sub, defs.metrics[sub].description or info.formula) for sub in cat.metric_refs(info.name)[1]]
    lines = [f"{info.label} ({info.name}, {info.type})", "", info.description or "(no description)", "",
             f"formula:     {info.formula}", f"format:      {info.format}" + (f" {info.currency}" if info.format == "currency" else ""),
             f"better:      {info.better}", f"breakdowns:  {', '.join(info.dimensions) or 'none'}"]
    if m.synonyms:
        lines.append(f"also called: {', '.join(m.synonyms)}")
    if m.targets:
        lines.append("targets:     " + "; ".join(
            f"{t.value:g} per {t.period}" + (f" where {t.where}" if t.where else "") for t in m.targets))
    if comps:
        lines += ["", "components:"] + [f"  {n}: {d}" for n, d in comps]
    return Explanation(info, "\n".join(lines), tuple(comps), sql)


def freshness_sql(cat: Catalog, tables: TableSQL) -> str | None:
    """One statement: the latest date in any time column a measure uses (as a DATE)."""
    seen: set[tuple[str, str]] = set()
    parts = []
    for m in cat.defs.measures.values():
        cols = [m.snapshot.from_] if m.snapshot else [m.time or cat.defs.tables[m.table].time]
        for col in cols:
            if col and (m.table, col) not in seen:
                seen.add((m.table, col))
                staged = tables.stage(m.table, [col])
                parts.append(f"SELECT MAX(CAST(t.\"{col}\" AS DATE)) AS d FROM {staged} AS t")
    if not parts:
        return None
    return "SELECT MAX(d) AS latest FROM (" + " UNION ALL ".join(parts) + ") AS x"
