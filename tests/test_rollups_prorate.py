"""Rollups of rows dated by month with ``partial: prorate`` (spend): any window, even one that cuts a month
(the current month to date, last-week), is served from a day rollup and equals the raw answer, because each
month's stored sum is taken by the share of its days the window covers, as the raw statement takes each row."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics_core.api import KPI
from metrics_core.backends.duckdb import DuckDBBackend

AS_OF = date(2026, 11, 27)
YAML = """
calendar: {timezone: America/New_York}
tables:
  spend:
    source: spend
    time: month
    grain: month
    partial: prorate
    columns: {month: date, segment: string, kind: string, amount: number}
measures:
  spend: {table: spend, agg: sum, expr: amount, filter: "kind = 'marketing'"}
  budget: {table: spend, agg: sum, expr: amount}
metrics:
  spend: {measure: spend}
  marketing_share: {numerator: spend, denominator: budget}
rollups:
  directory: rollups
  spend_daily:
    measures: [spend, budget]
    dimensions: [segment]
"""


@pytest.fixture(scope="module")
def kpis(tmp_path_factory: pytest.TempPathFactory) -> tuple[KPI, KPI]:
    root = tmp_path_factory.mktemp("prorate")
    backend = DuckDBBackend(str(root / "crm.duckdb"))
    backend.connection.execute("CREATE TABLE spend (month DATE, segment VARCHAR, kind VARCHAR, amount DOUBLE)")
    rows = [(date(2024 + m // 12, m % 12 + 1, 1), seg, kind, 1000.0 + 37.5 * m + 11.25 * i + (0.5 if kind == "sales" else 0))
            for m in range(36) for i, seg in enumerate(("SMB", "Enterprise", None)) for kind in ("marketing", "sales")]
    backend.connection.executemany("INSERT INTO spend VALUES (?, ?, ?, ?)", rows)
    served = KPI.from_text(YAML, base_dir=root, backend=backend)
    served.rollups.build()
    return served, KPI.from_text(YAML, base_dir=root, backend=backend, rollups=False)


def _n(v: object) -> object:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else round(float(v), 6)  # type: ignore[arg-type]


def answer(kpi: KPI, text: str) -> tuple:
    r = kpi.query(text, as_of=AS_OF, use_cache=False)
    rows = () if r.breakdown is None else tuple(sorted((str(x[0]), _n(x[1])) for x in r.breakdown.iloc[:, [0, 1]].values))
    series = () if r.series is None else tuple(_n(v) for v in r.series["value"])
    prev = r.comparison.value if r.comparison is not None else None
    return _n(r.value), _n(prev), rows, series, tuple(_n(c.value) for c in r.components), r.notes


@pytest.mark.parametrize("metric", ["spend", "marketing_share"])
@pytest.mark.parametrize("question", ["this-month", "last-week", "2026-03-10..2026-05-20 by segment",
                                      "2026-Q1 grain month", "this-quarter by segment vs last-year",
                                      "2026-02-01..2026-04-15 grain week where segment = SMB"])
def test_windows_that_cut_a_month_are_served_and_equal_raw(kpis: tuple, metric: str, question: str) -> None:
    served, raw = kpis
    text = f"{metric} {question}"
    assert served.query(text, as_of=AS_OF, use_cache=False).sql.startswith("-- answered from rollup spend_daily")
    assert answer(served, text) == answer(raw, text)


def test_a_trend_to_date_is_served(kpis: tuple) -> None:
    served, raw = kpis
    got = served.trend("spend", grain="month", count=12, as_of=AS_OF)
    assert got.sql.startswith("-- answered from rollup spend_daily")
    want = raw.trend("spend", grain="month", count=12, as_of=AS_OF)
    assert [_n(v) for v in got.series["value"]] == [_n(v) for v in want.series["value"]]
    assert _n(got.value) == _n(want.value) and got.value is not None


@settings(max_examples=25, deadline=None)
@given(start=st.dates(date(2024, 1, 1), date(2026, 12, 31)), days=st.integers(0, 200), by=st.booleans())
def test_any_window_gives_the_raw_answer(kpis: tuple, start: date, days: int, by: bool) -> None:
    served, raw = kpis
    text = f"marketing_share {start}..{start + timedelta(days=days)}" + (" by segment" if by else "")
    assert answer(served, text) == answer(raw, text)
