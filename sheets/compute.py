"""Workbook config + a KPI -> report data for every tab (calls the core; no Sheets I/O).

Each (metric, grain, count, breakdown) is asked once with ``kpi.trend``, which computes all its
periods in one query; a metric shown on two tabs with the same shape is computed once. Columns
come from the first answer's series and every other metric is matched to them by period start,
so a metric with no data in a month leaves that cell blank rather than shifting the row.
"""

from __future__ import annotations

import math
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable, Iterable

from metrics_core.i18n import active_locale

from .config import TabConfig
from .report import MetricDoc, MetricRow, PeriodColumn, TabData

NO_VALUE = "(none)"


@dataclass
class Computer:
    """Asks the core, remembering answers for the duration of one sync."""

    kpi: Any
    as_of: date | None = None
    on_step: Callable[[str], None] = lambda label: None
    workers: int = 4  # the warehouse runs one query while the next one compiles
    _answers: dict[tuple, Any] = field(default_factory=dict)

    def prefetch(self, tabs: Iterable[TabConfig]) -> None:
        """Ask every distinct question of ``tabs`` once, ``workers`` at a time (KPI reads are thread-safe):
        each trend, then, where a tab shows the Why column, its last period's change, in the same task."""
        tabs = list(tabs)
        todo = list(dict.fromkeys(self._key(m, t) for t in tabs for m in t.metrics))
        whys = {self._key(m, t) for t in tabs if t.targets and not t.breakdown for m in t.metrics}

        def task(key: tuple[str, str, int, tuple[str, ...]]) -> None:
            if key not in self._answers:
                self._answers[key] = self._ask(key)
            if key in whys:
                self.why(key[0], self._answers[key])

        if self.workers <= 1 or len(todo) <= 1:
            for k in todo:
                task(k)
            return
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="kpi-sheets") as pool:
            list(pool.map(task, todo))

    @staticmethod
    def _key(metric: str, tab: TabConfig) -> tuple[str, str, int, tuple[str, ...]]:
        return metric, tab.grain, tab.periods, (tab.breakdown.by,) if tab.breakdown else ()

    def _ask(self, key: tuple[str, str, int, tuple[str, ...]]) -> Any:
        metric, grain, count, by = key
        self.on_step(f"{metric} by {grain}" + (f" and {by[0]}" if by else ""))
        return self.kpi.trend(metric, grain=grain, count=count, by=by, as_of=self.as_of)

    def why(self, metric: str, result: Any) -> str | None:
        """The biggest factor of the last period's change in words; None when it cannot be split
        (one measure, a value of zero, no earlier value), so the cell stays blank."""
        from metrics_core.errors import KpiUserError

        p = result.period
        key = ("why", metric, p.start, p.end)
        if key not in self._answers and self._one_measure(metric):
            self._answers[key] = None  # kpi.why would answer the question, then refuse: nothing to split
        if key not in self._answers:
            try:
                self._answers[key] = self.kpi.why(f"{metric} {p.start}..{p.end} vs previous", as_of=self.as_of).headline
            except KpiUserError:
                self._answers[key] = None
        return self._answers[key]

    def _one_measure(self, metric: str) -> bool:
        """A simple metric (one measure) or a constant: ``kpi.why`` splits only products and ratios."""
        info = getattr(self.kpi, "metric_info", None)
        return info is not None and info(metric).type in ("simple", "constant")

    def trend(self, metric: str, tab: TabConfig) -> Any:
        key = self._key(metric, tab)
        if key not in self._answers:
            self._answers[key] = self._ask(key)
        return self._answers[key]


def steps(tabs: Iterable[TabConfig]) -> int:
    """How many core calls a sync makes (for the progress bar)."""
    return len({Computer._key(m, t) for t in tabs for m in t.metrics})


def compute_tab(comp: Computer, tab: TabConfig, updated: datetime, timezone: str) -> TabData:
    results = [comp.trend(m, tab) for m in tab.metrics]
    periods = _columns(results[0])
    by = tab.breakdown.by if tab.breakdown else None
    groups = _groups(tab, results) if by else ()
    rows: list[MetricRow] = []
    for metric, result in zip(tab.metrics, results):
        targets = _targets(result, by) if tab.targets else {}
        for group in groups or (None,):
            values = _values(result.series_columns, periods, by, group)
            target, status = targets.get(group, (None, None))
            why = comp.why(metric, result) if tab.targets and group is None else None
            rows.append(MetricRow(metric, result.label, result.format, result.currency, values, group,
                                  target, status, _decimals(comp.kpi, metric),
                                  _maturing(result.series_columns, periods, by, group), why,
                                  tuple(result.notes) if group == (groups or (None,))[0] else (),
                                  _excluded(result.series_columns, periods, by, group),
                                  _small(result.series_columns, periods, by, group)))
    return TabData(tab.id, tab.name, tab.grain, periods, tuple(rows), updated, timezone, by=by,
                   style=tab.breakdown.style if tab.breakdown else "blocks", groups=groups, targets=tab.targets,
                   locale=active_locale() or "en_US")


def _targets(result: Any, by: str | None) -> dict[str | None, tuple[float | None, str | None]]:
    """Target and status of the current (last) period: trend's current slot is that period. By group,
    only targets set for the group (``where: {segment: Enterprise}``) count, as in the core's breakdowns."""
    if by is None:
        t = result.target
        return {None: (t.target, t.status)} if t is not None else {}
    rows = result.breakdown_columns
    if rows is None or "target_value" not in rows or by not in rows:
        return {}
    return {_group(r[by]): (_float(r["target_value"]),
                            r.get("target_status") if isinstance(r.get("target_status"), str) else None)
            for r in _records(rows) if _float(r["target_value"]) is not None}


def _columns(result: Any) -> tuple[PeriodColumn, ...]:
    seen: dict[date, PeriodColumn] = {}
    for rec in _records(result.series_columns):
        start, end = _day(rec["start"]), _day(rec["end"])
        seen.setdefault(start, PeriodColumn(str(rec["label"]), start, end))
    return tuple(sorted(seen.values(), key=lambda p: p.start))


def _groups(tab: TabConfig, results: list[Any]) -> tuple[str, ...]:
    assert tab.breakdown is not None
    if tab.breakdown.values:
        return tuple(tab.breakdown.values)
    found = {_group(v) for r in results if r.series_columns is not None and tab.breakdown.by in r.series_columns
             for v in r.series_columns[tab.breakdown.by]}
    return tuple(sorted(found))


def _values(series: Any, periods: tuple[PeriodColumn, ...], by: str | None,
            group: str | None) -> tuple[float | None, ...]:
    by_start: dict[date, float | None] = {}
    if series is not None and len(series):
        for rec in _records(series):
            if by is None or _group(rec[by]) == group:
                by_start[_day(rec["start"])] = _float(rec["value"])
    return tuple(by_start.get(p.start) for p in periods)


def _maturing(series: Any, periods: tuple[PeriodColumn, ...], by: str | None, group: str | None) -> tuple[bool, ...]:
    """Per period, whether a conversion's cohort is still inside its window (a rate that may still rise)."""
    if series is None or not len(series) or "maturing" not in series:
        return ()
    open_: dict[date, bool] = {}
    for rec in _records(series):
        if by is None or _group(rec[by]) == group:
            share = _float(rec["maturing"])
            open_[_day(rec["start"])] = bool(share and share > 0)
    return tuple(open_.get(p.start, False) for p in periods)


def _excluded(series: Any, periods: tuple[PeriodColumn, ...], by: str | None,
              group: str | None) -> tuple[str | None, ...]:
    """Per period, the sentences saying which rows of that cell were left out (None: none were)."""
    if series is None or not len(series) or "excluded" not in series:
        return ()
    said: dict[date, str] = {}
    for rec in _records(series):
        if (by is None or _group(rec[by]) == group) and isinstance(rec["excluded"], (list, tuple)) and rec["excluded"]:
            said[_day(rec["start"])] = "\n".join(str(e["note"]) for e in rec["excluded"])
    return tuple(said.get(p.start) for p in periods)


def _small(series: Any, periods: tuple[PeriodColumn, ...], by: str | None, group: str | None) -> tuple[int | None, ...]:
    """Per period, the rows behind a cell that rests on fewer than ``defaults.small_sample`` (None: enough,
    or no number: a blank cell has nothing to warn about, and whether a group that counted no rows has a
    row at all depends on the statement: the raw one may keep it, a rollup's does not)."""
    if series is None or not len(series) or "small_sample" not in series:
        return ()
    few: dict[date, int] = {}
    for rec in _records(series):
        if (by is None or _group(rec[by]) == group) and rec["small_sample"] in (True,) and _float(rec["value"]) is not None:
            few[_day(rec["start"])] = int(_float(rec["sample_size"]) or 0)
    return tuple(few.get(p.start) for p in periods)


def _records(table: Any) -> list[dict[str, Any]]:
    """A result's rows as dicts: its plain ``Columns`` (no pandas on the sync's path), or a DataFrame."""
    return table.records() if hasattr(table, "records") else table.to_dict("records")


def _decimals(kpi: Any, metric: str) -> int | None:
    """``format.decimals`` of the metric in the definitions (MetricResult does not carry it)."""
    metrics = getattr(getattr(kpi, "definitions", None), "metrics", None) or {}
    fmt = getattr(metrics.get(metric), "format", None)
    return getattr(fmt, "decimals", None)


def _group(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NO_VALUE
    return str(value)


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if hasattr(value, "date"):  # pandas Timestamp
        return value.date()
    return date.fromisoformat(str(value)[:10])


def _float(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) or math.isinf(f) else f


_KEPT: "weakref.WeakKeyDictionary[Any, dict[str, tuple[tuple, Any]]]" = weakref.WeakKeyDictionary()
_KEPT_LOCK = threading.Lock()


def _per_data_version(kpi: Any, name: str, key: tuple, compute: Callable[[], Any]) -> Any:
    """``compute()``, kept like a rollup for the data it read: while the engine's data version (a DuckDB
    file's stamp, PostgreSQL's WAL position) and ``key`` are the same, the next sync reuses it instead of
    scanning the tables again. With rollups off (``--no-rollups``) or an engine that gives no version,
    every sync computes it anew."""
    backend = getattr(kpi, "backend", None) if getattr(kpi, "use_rollups", False) else None
    version = backend.data_version() if backend is not None and hasattr(backend, "data_version") else None
    key = (*key, version)
    if version is not None:
        with _KEPT_LOCK:
            hit = _KEPT.get(kpi, {}).get(name)
        if hit is not None and hit[0] == key:
            return hit[1]
    value = compute()
    if version is not None and backend.data_version() == version:  # the data did not change while it ran
        with _KEPT_LOCK:
            _KEPT.setdefault(kpi, {})[name] = (key, value)
    return value


def data_quality(kpi: Any, as_of: date) -> Any:
    """``kpi doctor``'s report for the Data quality tab (every table scanned), per data version, day and language."""
    return _per_data_version(kpi, "doctor", (as_of, active_locale()), lambda: kpi.doctor(as_of=as_of))


def data_through(kpi: Any) -> date | None:
    """The status tab's "data through" date (the newest event in the metric time columns), per data version."""
    return _per_data_version(kpi, "freshness", (), kpi.freshness)


def metric_docs(kpi: Any) -> list[MetricDoc]:
    """The Definitions tab's rows, from ``kpi.metrics()`` (hidden metrics are not listed there)."""
    return [MetricDoc(m.name, m.label, m.description, m.formula, m.format, m.currency, m.better, m.owner)
            for m in kpi.metrics()]
