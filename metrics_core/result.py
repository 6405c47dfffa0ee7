"""What an answer is: typed, frozen result objects (pure data; the facade fills them).

``MetricResult`` is the public shape every consumer (CLI, Slack bot, Sheets sync) reads.
``to_json()`` is the ``kpi query --json`` contract.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import pandas as pd

from .periods import Period

Better = Literal["higher", "lower"]
FormatKind = Literal["number", "currency", "percent", "days", "months", "ratio"]


@dataclass(frozen=True)
class Component:
    """One input of a metric: a measure (numerator, denominator, a sum...) or a sub-metric."""

    name: str  # measure or metric name
    role: str  # "numerator", "denominator", "value", "base", "converted", or a metric name
    label: str
    value: float | None
    formatted: str
    rows: int | None = None  # rows behind it in the window (sample size), when known
    description: str = ""


@dataclass(frozen=True)
class Comparison:
    kind: Literal["previous", "last-year", "custom"]
    period: Period
    value: float | None
    formatted: str
    absolute: float | None
    relative: float | None  # 0.12 means +12 %
    improved: bool | None  # change in the direction `better` says is good; None when flat/unknown
    components: tuple[Component, ...] = ()


@dataclass(frozen=True)
class TargetStatus:
    target: float
    formatted: str
    status: Literal["met", "missed", "on_track", "behind", "ahead"]
    attainment: float | None  # value / target
    projected: float | None = None  # for to-date windows of additive metrics: value at this pace
    projected_formatted: str | None = None
    where: dict[str, str] = field(default_factory=dict)


def as_number(x: Any) -> float | None:
    """A plain float, or None for missing, NaN and infinite values (what JSON and people can read)."""
    if x is None:
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) or math.isinf(f) else f


@dataclass(frozen=True)
class MetricResult:
    metric: str
    label: str
    description: str
    format: FormatKind
    currency: str | None
    better: Better
    period: Period
    as_of: date
    value: float | None
    formatted: str
    components: tuple[Component, ...] = ()
    comparison: Comparison | None = None
    target: TargetStatus | None = None
    dimensions: tuple[str, ...] = ()
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    breakdown: pd.DataFrame | None = None  # one row per dimension value(s): dims..., value, formatted, <components>, previous
    series: pd.DataFrame | None = None  # one row per grain bucket: start, end, label, value, formatted, <components>
    grain: str | None = None
    sample_size: int | None = None  # rows behind the value (denominator rows for ratios)
    small_sample: bool = False
    counted: str = ""  # "412 won deals of 1,508 closed deals", what the number counts
    sql: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    dialect: str = "duckdb"
    cached: bool = False
    notes: tuple[str, ...] = ()  # fine print: prorated windows, left-out buckets, maturing cohorts
    maturing: float | None = None  # conversions: share of the base rows whose window is still open

    @property
    def period_text(self) -> str:
        return self.period.text

    def to_json(self) -> dict[str, Any]:
        """The ``kpi query --json`` object (stable keys; see README "JSON output")."""
        cmp = self.comparison
        out: dict[str, Any] = {
            "metric": self.metric,
            "label": self.label,
            "description": self.description,
            "format": self.format,
            "period": self.period.to_json(),
            "as_of": self.as_of.isoformat(),
            "value": as_number(self.value),
            "formatted": self.formatted,
            "counted": self.counted,
            "previous": None,
            "change": {"absolute": None, "relative": None},
            "components": {c.role: {"name": c.name, "label": c.label, "value": as_number(c.value),
                                    "formatted": c.formatted, "rows": c.rows}
                           for c in self.components},
            "target": None,
            "filters": {k: list(v) for k, v in self.filters.items()},
            "sample_size": self.sample_size,
            "small_sample": self.small_sample,
            "maturing": as_number(self.maturing),
            "notes": list(self.notes),
        }
        if cmp is not None:
            out["previous"] = {"kind": cmp.kind, "period": cmp.period.to_json(), "value": as_number(cmp.value),
                               "formatted": cmp.formatted}
            out["change"] = {"absolute": as_number(cmp.absolute), "relative": as_number(cmp.relative),
                             "improved": cmp.improved}
        if self.target is not None:
            t = self.target
            out["target"] = {"value": t.target, "formatted": t.formatted, "status": t.status,
                             "attainment": as_number(t.attainment), "projected": as_number(t.projected)}
        if self.dimensions:
            out["dimensions"] = list(self.dimensions)
            out["rows"] = _records(self.breakdown, [*self.dimensions, "value", "formatted", "previous", "sample_size",
                                                    "small_sample", "maturing"])
        if self.series is not None:
            out["grain"] = self.grain
            out["series"] = _records(self.series, ["start", "end", "label", *self.dimensions, "value", "formatted",
                                                   "to_date", "sample_size", "small_sample", "maturing"])
        return out


def _records(df: pd.DataFrame | None, cols: list[str]) -> list[dict[str, Any]]:
    if df is None:
        return []
    keep = [c for c in cols if c in df.columns]
    rows = []
    for rec in df[keep].to_dict("records"):
        clean = {}
        for k, v in rec.items():
            if isinstance(v, date):
                clean[k] = v.isoformat()
            elif k in ("value", "previous", "maturing"):
                clean[k] = as_number(v)
            elif v is None or (isinstance(v, float) and math.isnan(v)):
                clean[k] = None
            elif k == "small_sample":
                clean[k] = bool(v)
            elif k == "sample_size":
                clean[k] = int(v)
            else:
                clean[k] = v
        rows.append(clean)
    return rows
