"""Cumulative and rolling metrics as widened windows (layer: compile; pure).

A cumulative metric is valued at each window's end: a running total counts everything from its
``since:`` day (or from ``EPOCH``, "since the data begins") to the end, a trailing window the last
``window:`` before the end. So the statement is the ordinary one for the per-window metric (the
measure, or the ratio of two measures) with every window of the question widened::

    running_won_revenue (since 2026-01-01), Q3 by month:
        Jul  2026-07-01..2026-07-31  ->  2026-01-01..2026-07-31
        Aug  2026-08-01..2026-08-31  ->  2026-01-01..2026-08-31
    win_rate_90d (window: 90 days), last-month = November 2026:
        2026-11-01..2026-11-30       ->  2026-09-02..2026-11-30  (the 90 days ending Nov 30)

The widened windows overlap, which the scans already allow (each window adds up its segments), so a
series, its total and the comparison (``vs last-year``: the same widening of a year earlier) still
come from one pass over the rows, and a ratio is of the two sums over the same span, never an
average of daily rates. Rollups serve the widened windows by their usual rules (a day rollup serves
any window; a month rollup only windows of whole months, else the answer is read from the raw tables).
"""

from __future__ import annotations

import calendar
from dataclasses import replace
from datetime import date, timedelta
from typing import TYPE_CHECKING

from .formatting import fmt_count, fmt_date
from .i18n import _, ngettext
from .models import CumulativeMetric
from .periods import Period

if TYPE_CHECKING:
    from .catalog import Catalog
    from .compile import MetricQuery

EPOCH = date(1900, 1, 1)  # "since the data begins": rows dated before this day are not counted
ONE_DAY = timedelta(days=1)


def _months_back(d: date, k: int) -> date:
    """``d`` moved back ``k`` months, the day clamped to the month's length (May 31 - 3 months = Feb 28)."""
    idx = d.year * 12 + d.month - 1 - k
    y, m = divmod(idx, 12)
    return date(y, m + 1, min(d.day, calendar.monthrange(y, m + 1)[1]))


def window_start(m: CumulativeMetric, end_exclusive: date) -> date:
    """The first day a cumulative metric counts for a window ending the day before ``end_exclusive``."""
    span = m.window_span
    if span is None:
        return m.since or EPOCH
    n, unit = span
    match unit:
        case "day":
            return end_exclusive - timedelta(days=n)
        case "week":
            return end_exclusive - timedelta(days=7 * n)
        case "month":
            return _months_back(end_exclusive, n)
        case "quarter":
            return _months_back(end_exclusive, 3 * n)
        case "year":
            return _months_back(end_exclusive, 12 * n)
    raise AssertionError(f"unhandled window unit {unit!r}")


def widened(m: CumulativeMetric, p: Period) -> Period:
    """The span the metric counts for window ``p``: from its start (since / the trailing edge) to ``p``'s end.

    A window ending before ``since`` counts nothing yet: it becomes the day before ``EPOCH``."""
    start = window_start(m, p.end_exclusive)
    if start > p.end:
        start = end = EPOCH - ONE_DAY
        return Period(p.text, "range", start, end, p.to_date)
    return Period(p.text, "range", start, p.end, p.to_date)


def widen(cat: "Catalog", query: "MetricQuery") -> "MetricQuery":
    """``query`` with each window widened when its metric is cumulative (else unchanged; idempotent)."""
    m = cat.defs.metrics.get(query.metric)
    if not isinstance(m, CumulativeMetric):
        return query
    return replace(query, slots=tuple(replace(s, period=widened(m, s.period)) for s in query.slots))


def _span_words(count: int, unit: str, locale: str) -> str:
    n = fmt_count(count, locale)
    match unit:
        case "day":
            return ngettext("{n} day", "{n} days", count).format(n=n)
        case "week":
            return ngettext("{n} week", "{n} weeks", count).format(n=n)
        case "month":
            return ngettext("{n} month", "{n} months", count).format(n=n)
        case "quarter":
            return ngettext("{n} quarter", "{n} quarters", count).format(n=n)
        case "year":
            return ngettext("{n} year", "{n} years", count).format(n=n)
    raise AssertionError(f"unhandled window unit {unit!r}")


def cumulative_note(label: str, m: CumulativeMetric, locale: str) -> str:
    """The line an answer carries so a reader knows the value is not the period's own."""
    span = m.window_span
    if span is not None:
        # TRANSLATORS: e.g. "Win rate (90 days) counts the trailing 90 days up to the end of each period."
        return _("{metric} counts the trailing {window} up to the end of each period.").format(
            metric=label, window=_span_words(*span, locale))
    if m.since is None:
        # TRANSLATORS: e.g. "ARR is a running total since the data begins, at the end of each period."
        return _("{metric} is a running total since the data begins, at the end of each period.").format(metric=label)
    # TRANSLATORS: e.g. "Won revenue is a running total since Jan 1, 2026, at the end of each period."
    return _("{metric} is a running total since {day}, at the end of each period.").format(
        metric=label, day=fmt_date(m.since, locale))


def describe(m: CumulativeMetric) -> str:
    """The formula in words for ``kpi explain``: 'running total of won_amount since 2026-01-01'."""
    what = m.measure if m.measure is not None else f"{m.numerator} / {m.denominator}"
    if m.window is not None:
        return f"{what} over the trailing {' '.join(m.window.split())}"
    return f"running total of {what} since " + (m.since.isoformat() if m.since else "the data begins")


__all__ = ["EPOCH", "widen", "widened", "window_start", "describe", "cumulative_note"]
