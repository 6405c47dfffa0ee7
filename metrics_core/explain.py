"""Plain-words explanations of metrics, and the data-freshness probe (layer: facade helpers; pure)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .catalog import Catalog
from .compile_tables import TableSQL
from .i18n import _
from .models import ConversionMetric, CumulativeMetric, Definitions, DerivedMetric, MeasureDef, RatioMetric, SimpleMetric

if TYPE_CHECKING:
    from .api import Explanation, MetricInfo


def describe_measure(defs: Definitions, name: str) -> str:
    m: MeasureDef = defs.measures[name]
    e = m.expr
    what = {"count": _("number of rows"), "count_distinct": _("number of distinct {expr}").format(expr=e),
            "sum": _("sum of {expr}").format(expr=e), "avg": _("average of {expr}").format(expr=e),
            "min": _("minimum of {expr}").format(expr=e), "max": _("maximum of {expr}").format(expr=e),
            "median": _("median of {expr}").format(expr=e),
            "percentile": _("p{percentile} of {expr}").format(percentile=int((m.p or 0) * 100), expr=e)}[m.agg]
    # TRANSLATORS: what a measure aggregates and where, e.g. "number of rows in deals"
    parts = [_("{what} in {table}").format(what=what, table=m.table)]
    if m.filter:
        parts.append(_("where {filter}").format(filter=m.filter))
    if m.first_per:
        parts.append(_("(only the first such row per {entity})").format(entity=m.first_per))
    if m.snapshot:
        s = m.snapshot
        parts.append(_("open at the period {edge}: {start} before it").format(edge=s.at, start=s.from_)
                     + (_(" and {end} not yet").format(end=s.to) if s.to else ""))
    else:
        parts.append(_("placed in a period by {column}").format(column=m.time or defs.tables[m.table].time))
    return " ".join(parts)


def explain_metric(defs: Definitions, cat: Catalog, info: "MetricInfo", sql: str) -> "Explanation":
    from .api import Explanation

    m = defs.metrics[info.name]
    comps: list[tuple[str, str]] = []
    if isinstance(m, CumulativeMetric):
        m = m.per_window()
    if isinstance(m, SimpleMetric):
        comps.append((m.measure, describe_measure(defs, m.measure)))
    elif isinstance(m, RatioMetric):
        comps += [(m.numerator, describe_measure(defs, m.numerator)), (m.denominator, describe_measure(defs, m.denominator))]
    elif isinstance(m, ConversionMetric):
        comps += [(m.base.measure, describe_measure(defs, m.base.measure)),
                  (m.target.measure, describe_measure(defs, m.target.measure)
                   + _(", matched on {entity}").format(entity=m.target.entity))]
    elif isinstance(m, DerivedMetric):
        comps += [(sub, defs.metrics[sub].description or info.formula) for sub in cat.metric_refs(info.name)[1]]
    def field(name: str, value: str) -> str:
        return f"{name + ':':<13}{value}"

    currency = f" {info.currency}" if info.format == "currency" else ""
    lines = [f"{info.label} ({info.name}, {info.type})", "", info.description or _("(no description)"), "",
             field(_("formula"), info.formula), field(_("format"), info.format + currency),
             field(_("better"), {"higher": _("higher"), "lower": _("lower")}.get(info.better, info.better)),
             field(_("breakdowns"), ", ".join(info.dimensions) or _("none"))]
    if m.synonyms:
        lines.append(field(_("also called"), ", ".join(m.synonyms)))
    if m.targets:
        lines.append(field(_("targets"), "; ".join(
            _("{value} per {period}").format(value=f"{t.value:g}", period=t.period)
            + (" " + _("where {filter}").format(filter=t.where) if t.where else "") for t in m.targets)))
    if comps:
        lines += ["", _("components:")] + [f"  {n}: {d}" for n, d in comps]
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
