"""What a tab shows, as plain data (pure; the boundary between computing and laying out).

``compute.py`` fills these from ``MetricResult``s; ``layout.py`` turns them into cells. Tests build
them by hand, so the layout is checked without a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class PeriodColumn:
    label: str  # as the calendar names it: "Nov 2026", "Q3 FY2027"
    start: date
    end: date  # inclusive; the last column may end at as_of (to date)


@dataclass(frozen=True)
class MetricRow:
    """One metric's values over the tab's periods, for one breakdown value (``group``) or the total."""

    metric: str
    label: str
    format: str  # number | currency | percent | days | months | ratio
    currency: str | None
    values: tuple[float | None, ...]  # aligned with TabData.periods
    group: str | None = None
    target: float | None = None  # for the last period
    status: str | None = None  # met | missed | on_track | behind | ahead
    decimals: int | None = None  # the metric's format.decimals, when set
    maturing: tuple[bool, ...] = ()  # per period: a conversion cohort still inside its window (shown grey)
    why: str | None = None  # what moved the last period against the one before, in words (``KPI.why``)
    notes: tuple[str, ...] = ()  # the answer's fine print (rows left out, prorated windows): a note on the label
    excluded: tuple[str | None, ...] = ()  # per period: why rows of this cell were left out (a cell note)
    small: tuple[int | None, ...] = ()  # per period: the rows behind a small-sample cell (a cell note), else None


@dataclass(frozen=True)
class TabData:
    key: str  # identity of the managed tab (config key or name)
    title: str  # the tab's name
    grain: str
    periods: tuple[PeriodColumn, ...]
    rows: tuple[MetricRow, ...]
    updated: datetime  # aware, in the calendar's timezone
    timezone: str
    by: str | None = None
    style: str = "blocks"  # blocks | rows
    groups: tuple[str, ...] = ()  # breakdown values in display order
    targets: bool = True
    locale: str = "en_US"  # number formats (symbol, unit words) follow it


@dataclass(frozen=True)
class MetricDoc:
    """One line of the Definitions tab."""

    name: str
    label: str
    description: str
    formula: str
    format: str
    currency: str | None
    better: str
    owner: str | None


@dataclass(frozen=True)
class SyncStatus:
    """What the status tab says about the last run."""

    updated: datetime
    timezone: str
    result: str  # "ok" or "failed: <message>"
    source: str  # definitions path and backend
    as_of: date
    data_through: date | None = None
    tabs: tuple[str, ...] = ()
    extra: tuple[tuple[str, str], ...] = field(default_factory=tuple)
