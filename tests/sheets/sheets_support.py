"""Helpers of the Sheets tests (a module with a unique name: with pytest's prepend import mode,
``from conftest import ...`` could pick another package's conftest)."""

from __future__ import annotations

from datetime import date, datetime, timezone

from sheets.report import MetricRow, PeriodColumn, TabData

SHEET_ID = "1kpiTestSheet"


def monthly_tab(values: dict[str, list[float | None]] | None = None, key: str = "monthly",
                title: str = "KPIs by month") -> TabData:
    """Two metrics x three months, the last to date."""
    values = values or {"win_rate": [0.25, 0.3, 0.284], "avg_deal_size": [12000.0, 15230.4, None]}
    periods = (PeriodColumn("Sep 2026", date(2026, 9, 1), date(2026, 9, 30)),
               PeriodColumn("Oct 2026", date(2026, 10, 1), date(2026, 10, 31)),
               PeriodColumn("Nov 2026 to date", date(2026, 11, 1), date(2026, 11, 27)))
    meta = {"win_rate": ("Win rate", "percent", None), "avg_deal_size": ("Average deal size", "currency", "USD"),
            "sales_cycle_days": ("Sales cycle", "days", None)}
    rows = tuple(MetricRow(m, meta[m][0], meta[m][1], meta[m][2], tuple(v),
                           target=0.3 if m == "win_rate" else None, status="behind" if m == "win_rate" else None,
                           why="closed deals 1,410 → 1,502 (−1.6 pp)" if m == "win_rate" else None)
                 for m, v in values.items())
    return TabData(key, title, "month", periods, rows, datetime(2026, 11, 27, 9, 15, tzinfo=timezone.utc), "UTC")


def segment_tab(groups: tuple[str, ...] = ("Enterprise", "SMB")) -> TabData:
    base = monthly_tab()
    rows = tuple(MetricRow(r.metric, r.label, r.format, r.currency, tuple((v or 0) + i for v in r.values), group=g)
                 for i, g in enumerate(groups) for r in base.rows)
    return TabData("by-segment", "KPIs by segment", "month", base.periods, rows, base.updated, "UTC",
                   by="segment", groups=groups, targets=False)


class StubKPI:
    """Stands in for ``metrics_core.api.KPI`` with the same methods the sync calls, answering from a
    dict ``{metric: {period_start: value}}`` (or ``{metric: {(group, start): value}}`` when asked by)."""

    META = {"win_rate": ("Win rate", "percent", None, ("segment",)),
            "avg_deal_size": ("Average deal size", "currency", "USD", ("segment",)),
            "sales_cycle_days": ("Sales cycle", "days", None, ())}

    def __init__(self, data: dict, sheets: dict | None = None, as_of: date = date(2026, 11, 27)):
        from types import SimpleNamespace

        self.data, self.as_of, self.calls = data, as_of, []
        self.definitions = SimpleNamespace(sections={"sheets": sheets} if sheets else {},
                                           calendar=SimpleNamespace(timezone="UTC"))
        self.source = "tests/definitions.yaml"

    def _result(self, metric: str, series=None, target=None):
        from metrics_core.periods import Period
        from metrics_core.result import MetricResult

        label, fmt, cur, _ = self.META[metric]
        p = Period("this-month", "month", date(2026, 11, 1), self.as_of, to_date=True)
        return MetricResult(metric, label, "", fmt, cur, "higher", p, self.as_of, None, "–",
                            series_columns=series, target=target)

    def trend(self, metric, *, grain="month", count=12, by=(), as_of=None):
        from metrics_core.columns import Columns
        from metrics_core.periods import Calendar, period_label, trailing

        self.calls.append(("trend", metric, grain, count, tuple(by)))
        cal = Calendar()
        recs = []
        for p in trailing(grain, count, cal, as_of or self.as_of):
            for group in (self.groups(metric) if by else [None]):
                key = (group, p.start) if by else p.start
                rec = {"start": p.start, "end": p.end, "label": period_label(p, cal),
                       "value": self.data.get(metric, {}).get(key), "formatted": ""}
                if by:
                    rec[by[0]] = group
                recs.append(rec)
        target = self.ask(metric).target if metric == "win_rate" and not by else None
        return self._result(metric, series=Columns.from_records(recs), target=target)

    def why(self, text, *, as_of=None):
        """Win rate's change is split (a fixed headline); the others cannot be, as for a one-measure metric."""
        from types import SimpleNamespace

        from metrics_core.errors import QueryError

        self.calls.append(("why", text))
        if not text.startswith("win_rate "):
            raise QueryError(f"{text.split()[0]} is one measure, with nothing to split it into")
        return SimpleNamespace(headline="closed deals 1,410 → 1,502 (−1.6 pp)")

    def groups(self, metric):
        return sorted({k[0] for k in self.data.get(metric, {}) if isinstance(k, tuple)})

    def ask(self, metric, period="", *, by=(), where=None, compare="previous", grain=None, as_of=None):
        from metrics_core.result import TargetStatus

        return self._result(metric, target=TargetStatus(0.3, "30.0%", "behind", 0.9))

    def metrics(self):
        from metrics_core.api import MetricInfo

        return [MetricInfo(m, lab, f"What {lab} means", "ratio", (), fmt, cur, "higher", dims, f"{m} formula",
                           "sales-ops") for m, (lab, fmt, cur, dims) in self.META.items()]

    def freshness(self):
        return date(2026, 11, 26)
