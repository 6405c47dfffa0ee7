"""`kpi rollups suggest`: rollups proposed from the metrics and what is asked of them (layer: facade; pure).

What people ask is read from the definitions themselves: every metric (for its totals), the
Sheets tabs (their metrics and breakdown) and the Slack digests and alerts (metrics and ``by``).
The sections are read as raw data, so the core never imports bot/ or sheets/. Measures are grouped
by the table they read (conversions go with their base measure's table); each group becomes one
day rollup keeping the dimensions those questions break down by::

    rollups:
      deals_daily:
        measures: [won_deals, closed_deals, ...]
        dimensions: [region, segment]     # sheets 'KPIs by segment'; slack digest 'monday-sales'
        grain: day
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .catalog import Catalog
from .models import ConversionMetric, Definitions
from .rollup_sql import ADDITIVE_AGGS, SNAPSHOT_AGGS


@dataclass
class Suggestion:
    name: str
    table: str
    measures: list[str] = field(default_factory=list)
    conversions: list[str] = field(default_factory=list)
    dimensions: list[str] = field(default_factory=list)
    why: list[str] = field(default_factory=list)  # where the dimensions were asked for
    left_out: list[str] = field(default_factory=list)  # measures no rollup can serve exactly


def asked(defs: Definitions, raw: Any) -> list[tuple[str, tuple[str, ...], str]]:
    """(metric, dimensions, where it is asked) from the sheets: and slack: sections."""
    out = [(name, (), "") for name, m in defs.metrics.items() if not m.hidden]
    sheets = raw.get("sheets") if isinstance(raw, dict) else None
    for tab in (sheets or {}).get("tabs") or []:
        if not isinstance(tab, dict):
            continue
        by = (tab.get("breakdown") or {}).get("by") if isinstance(tab.get("breakdown"), dict) else None
        dims = tuple([by] if isinstance(by, str) else by or [])
        out += [(m, dims, f"sheets tab '{tab.get('name', '?')}'") for m in tab.get("metrics") or []]
    slack = raw.get("slack") if isinstance(raw, dict) else None
    for digest in (slack or {}).get("digests") or []:
        if isinstance(digest, dict):
            by = digest.get("by") or []
            dims = tuple([by] if isinstance(by, str) else by)
            out += [(m, dims, f"slack digest '{digest.get('name', '?')}'") for m in digest.get("metrics") or []]
    for alert in (slack or {}).get("alerts") or []:
        if isinstance(alert, dict) and alert.get("metric"):
            by = alert.get("by") or []
            out.append((alert["metric"], tuple([by] if isinstance(by, str) else by), f"slack alert '{alert.get('name', '?')}'"))
    return [(m, d, w) for m, d, w in out if m in defs.metrics]


def suggest(defs: Definitions, raw: Any) -> list[Suggestion]:
    from .rollup_serve import needed

    cat = Catalog(defs)
    groups: dict[str, Suggestion] = {}
    for metric, dims, where in asked(defs, raw):
        measures, conversions = needed(cat, metric)
        items = [(m, defs.measures[m].table) for m in measures]
        items += [(c, defs.measures[defs.metrics[c].base.measure].table) for c in conversions]  # type: ignore[union-attr]
        for item, table in items:
            s = groups.setdefault(table, Suggestion(f"{table}_daily", table))
            if item in defs.measures and not _rollable(defs, item):
                if item not in s.left_out:
                    s.left_out.append(item)
                continue
            target = s.conversions if item in defs.metrics and isinstance(defs.metrics[item], ConversionMetric) else s.measures
            if item not in target:
                target.append(item)
            for d in dims:  # only breakdowns the metric allows (its `dimensions:` list)
                if d in cat.table_dimensions(table) and d in cat.metric_dimensions(metric) and d not in s.dimensions:
                    s.dimensions.append(d)
                    if where and where not in s.why:
                        s.why.append(where)
    return [s for s in groups.values() if s.measures or s.conversions]


def _rollable(defs: Definitions, measure: str) -> bool:
    m = defs.measures[measure]
    return m.agg in (SNAPSHOT_AGGS if m.snapshot else ADDITIVE_AGGS)


def as_yaml(suggestions: list[Suggestion]) -> str:
    lines = ["rollups:", "  store: local"]
    for s in suggestions:
        lines.append(f"  {s.name}:")
        if s.measures:
            lines.append(f"    measures: [{', '.join(s.measures)}]")
        if s.conversions:
            lines.append(f"    conversions: [{', '.join(s.conversions)}]")
        dims = f"    dimensions: [{', '.join(sorted(s.dimensions))}]"
        lines.append(dims + (f"    # asked by {'; '.join(s.why)}" if s.why else ""))
        lines.append("    grain: day")
        if s.left_out:
            lines.append(f"    # left out (only exact at one bucket, so answered from the raw tables): {', '.join(s.left_out)}")
    return "\n".join(lines) + "\n"
