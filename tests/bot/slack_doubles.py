"""Hand-built results and a small KPI double for the bot's tests (no database).

``make_result`` builds a MetricResult as the core would, so renderers are golden-tested on fixed
numbers; ``FakeKPI`` answers the facade calls the bot makes, with a knob for a slow backend and one
for an internal failure. End-to-end tests use the real ``KPI`` (see test_end_to_end.py).
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import date
from types import SimpleNamespace
from typing import Any

import pandas as pd

from metrics_core.api import Explanation, MetricInfo
from metrics_core.columns import Columns
from metrics_core.errors import QueryError, hint_for
from metrics_core.periods import Calendar, previous_period, resolve_period
from metrics_core.result import Comparison, Component, MetricResult, TargetStatus

AS_OF = date(2026, 11, 27)
CAL = Calendar()
REGIONS = ("North America", "EMEA", "APAC", "LATAM")

INFOS = {
    "win_rate": MetricInfo("win_rate", "Win rate", "Won deals over closed deals", "ratio", ("winrate", "close rate"),
                           "percent", None, "higher", ("region", "segment", "source"), "won_deals / closed_deals"),
    "cac": MetricInfo("cac", "CAC", "Customer acquisition cost", "ratio", ("acquisition cost",), "currency", "USD",
                      "lower", ("region", "segment"), "spend / new_customers"),
    "sales_cycle_days": MetricInfo("sales_cycle_days", "Sales cycle", "Days from created to won", "simple", (),
                                   "days", None, "lower", ("region",), "avg(closed_at - created_at)"),
}


def make_result(metric: str = "win_rate", period: str = "last-quarter", *, value: float | None = 0.412,
                previous: float | None = 0.381, target: float | None = 0.45, rows: int = 0,
                dims: tuple[str, ...] = (), small: bool = False) -> MetricResult:
    info = INFOS[metric]
    p = resolve_period(period, CAL, AS_OF)
    fmt = lambda v: _fmt(v, info.format)  # noqa: E731
    cmp = None
    if previous is not None:
        rel = (value - previous) / previous if value is not None else None
        cmp = Comparison("previous", previous_period(p, CAL), previous, fmt(previous),
                         None if value is None else value - previous, rel,
                         None if rel is None else (rel > 0) == (info.better == "higher"))
    tgt = None
    if target is not None and value is not None:
        tgt = TargetStatus(target, fmt(target), "behind" if value < target else "ahead", value / target)
    breakdown = _breakdown(rows, dims, fmt) if dims else None
    return MetricResult(
        metric=metric, label=info.label, description=info.description, format=info.format,  # type: ignore[arg-type]
        currency=info.currency, better=info.better, period=p, as_of=AS_OF, value=value, formatted=fmt(value),  # type: ignore[arg-type]
        components=(Component("won_deals", "numerator", "Won deals", 412, "412", 412),
                    Component("closed_deals", "denominator", "Closed deals", 1000, "1,000", 1000)),
        comparison=cmp, target=tgt, dimensions=dims, breakdown_columns=breakdown, sample_size=23 if small else 1000,
        small_sample=small, counted="412 won deals of 1,000 closed deals")


def _breakdown(rows: int, dims: tuple[str, ...], fmt: Any) -> Columns:
    recs = []
    for i in range(rows):
        rec = {d: (REGIONS[i % 4] if j == 0 else f"{d}-{i:03d}") for j, d in enumerate(dims)}
        if len(dims) == 1 and rows > 4:
            rec[dims[0]] = f"{dims[0]} <{i:03d}> & co"
        value = round(0.5 - i * 0.0007, 4)
        recs.append({**rec, "value": value, "formatted": fmt(value), "previous": round(value - 0.01, 4)})
    return Columns.from_records(recs)


def _fmt(v: float | None, kind: str) -> str:
    if v is None:
        return "–"
    return {"percent": f"{v * 100:.1f}%", "currency": f"${v:,.0f}", "days": f"{v:.1f} days"}.get(kind, f"{v:,.2f}")


def make_trend(metric: str = "win_rate", count: int = 12) -> MetricResult:
    base = make_result(metric, "this-year")
    months = pd.date_range("2025-12-01", periods=count, freq="MS")
    series = pd.DataFrame({"start": months.date, "end": (months + pd.offsets.MonthEnd(0)).date,
                           "label": months.strftime("%b %Y"), "value": [0.35 + 0.005 * i for i in range(count)]})
    return replace(base, series_columns=Columns.from_pandas(series), grain="month")


class FakeKPI:
    """The facade calls the bot makes. ``delay``: seconds each query sleeps; ``gate``: an Event each query
    waits for (a backend as slow as the test wants, deterministically); ``boom``: raise a bug."""

    def __init__(self, *, slack: dict | None = None, delay: float = 0.0, boom: bool = False, rows: int = 4,
                 value: float = 0.412, gate: Any = None) -> None:
        self.definitions = SimpleNamespace(sections={"slack": slack} if slack else {}, metrics=INFOS,
                                           calendar=SimpleNamespace(to_calendar=lambda: CAL),
                                           locale=SimpleNamespace(locale="en_US"))
        self.delay, self.boom, self.rows, self.value, self.gate = delay, boom, rows, value, gate
        self.queries: list[str] = []

    def metrics(self) -> list[MetricInfo]:
        return list(INFOS.values())

    def metric_info(self, name: str) -> MetricInfo:
        for info in INFOS.values():
            if name.lower() in (info.name, *info.synonyms):
                return info
        raise QueryError(f"unknown metric '{name}'{hint_for(name, INFOS)}")

    def match_metric(self, words: str) -> MetricInfo | None:
        text = words.lower().replace("_", " ")
        for info in INFOS.values():
            if any(n.replace("_", " ") in text for n in (info.name, *info.synonyms, info.label.lower())):
                return info
        return None

    def plan(self, text: str, *, as_of: date | None = None) -> Any:
        """The core's parse, reduced to what the bot reads: metric, dimensions, grain."""
        words = text.split()
        dims = tuple(text.split(" by ", 1)[1].split()[0].split(",")) if " by " in text else ()
        grain = text.split(" grain ", 1)[1].split()[0] if " grain " in text else None
        return SimpleNamespace(query=SimpleNamespace(metric=self.metric_info(words[0]).name, dimensions=dims, filters=(),
                                                   condition=None),
                               grain=grain)

    def metrics_in(self, text: str) -> tuple[str, ...]:
        """The metrics a question names (the double knows one per question, as its ``plan``)."""
        return (self.plan(text).query.metric,)

    def query(self, text: str, *, as_of: date | None = None, use_cache: bool = True) -> MetricResult:
        self.queries.append(text)
        if self.delay:
            time.sleep(self.delay)
        if self.gate is not None:
            assert self.gate.wait(60), "the test never opened the gate"
        if self.boom:
            raise RuntimeError("backend exploded")
        words = text.split()
        metric = self.metric_info(words[0]).name
        period = words[1] if len(words) > 1 and words[1] != "by" else "last-month"
        resolve_period(period, CAL, as_of or AS_OF)  # a bad period is a QueryError, as in the core
        dims = tuple(text.split(" by ", 1)[1].split()[0].split(",")) if " by " in text else ()
        return make_result(metric, period, rows=self.rows, dims=dims, value=self.value)

    def trend(self, metric: str, *, grain: str = "month", count: int = 12, by: Any = (), where: Any = None,
              as_of: Any = None, condition: Any = None) -> MetricResult:
        return make_trend(metric, count)

    def explain(self, name: str, *, as_of: date | None = None) -> Explanation:
        info = self.metric_info(name)
        return Explanation(info, f"{info.label}: {info.description}.", (("won_deals", "deals in Closed Won"),),
                           "SELECT count(*) FILTER (WHERE won) / count(*) FROM deals")

    def freshness(self) -> date | None:
        return date(2026, 11, 26)
