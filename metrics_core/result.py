"""What an answer is: typed, frozen result objects (pure data; the facade fills them).

``MetricResult`` is the public shape every consumer (CLI, Slack bot, Sheets sync) reads.
``to_json()`` is the ``kpi query --json`` contract. Tables are plain columns (``Columns``), so
answering never imports pandas; DataFrames are built on first use for API users:

    r.breakdown_columns.records()   # [{"segment": "SMB", "value": 0.32, ...}, ...]  (no pandas)
    r.breakdown, r.series           # the same rows as DataFrames, built once on demand
    r.to_pandas()                   # the answer's table: series, else breakdown, else one row
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from .columns import Columns
from .periods import Period

if TYPE_CHECKING:
    import pandas as pd

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
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)  # the plain dim in (values) filters
    # every filter as kpi reads it back, when some go beyond dim in (values): "segment != SMB and (...)"
    where: str = ""
    # one row per dimension value(s): dims..., value, formatted, previous, change, target, status, <components>
    breakdown_columns: Columns | None = None
    # one row per grain bucket: start, end, label, to_date, dims..., value, formatted
    series_columns: Columns | None = None
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
    excluded: tuple[Any, ...] = ()  # Excluded (measure, reason, count, note): rows left out; their notes are in notes

    @property
    def period_text(self) -> str:
        return self.period.text

    @cached_property
    def breakdown(self) -> "pd.DataFrame | None":
        """``breakdown_columns`` as a DataFrame (imports pandas; built once)."""
        return None if self.breakdown_columns is None else self.breakdown_columns.to_pandas()

    @cached_property
    def series(self) -> "pd.DataFrame | None":
        """``series_columns`` as a DataFrame (imports pandas; built once)."""
        return None if self.series_columns is None else self.series_columns.to_pandas()

    def to_pandas(self) -> "pd.DataFrame":
        """The answer as one DataFrame: the series when there is one, else the breakdown, else one
        row (period start/end, value, formatted, previous)."""
        if self.series_columns is not None:
            return self.series_columns.to_pandas()
        if self.breakdown_columns is not None:
            return self.breakdown_columns.to_pandas()
        prev = self.comparison.value if self.comparison is not None else None
        return Columns({"start": [self.period.start], "end": [self.period.end], "value": [self.value],
                        "formatted": [self.formatted], "previous": [prev]}).to_pandas()

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
            "where": self.where or None,
            "sample_size": self.sample_size,
            "small_sample": self.small_sample,
            "maturing": as_number(self.maturing),
            "notes": list(self.notes),
            "excluded": [e.to_json() for e in self.excluded],
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
            out["rows"] = _records(self.breakdown_columns, [*self.dimensions, "value", "formatted", "previous", "sample_size",
                                                    "small_sample", "maturing", "excluded"])
        if self.series_columns is not None:
            out["grain"] = self.grain
            out["series"] = _records(self.series_columns, ["start", "end", "label", *self.dimensions, "value", "formatted",
                                                   "to_date", "sample_size", "small_sample", "maturing", "excluded"])
        return out


def _records(table: Columns | None, cols: list[str]) -> list[dict[str, Any]]:
    if table is None:
        return []
    keep = [c for c in cols if c in table]
    rows = []
    for full in table.records():
        rec = {k: full[k] for k in keep}
        clean = {}
        for k, v in rec.items():
            if isinstance(v, date):
                clean[k] = v.isoformat()
            elif k in ("value", "previous", "maturing"):
                clean[k] = as_number(v)
            elif k == "excluded":
                clean[k] = [dict(e) for e in v or ()]
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
