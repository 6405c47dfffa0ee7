"""Cumulative and rolling metrics (``type: cumulative``) on the ten-deal CRM of test_metrics_handmade,
against numbers worked out by hand below; the same expectations on DuckDB, PostgreSQL and Spark.

Won deals by close day (amount): D6 2025-12-01 (7,000), D1 2026-01-10 (1,000), D3 2026-02-20 (10,000),
D2 2026-03-05 (3,000), D8 2026-04-20 (5,000), D10 2026-05-11 (1,500). Lost: D4 2026-03-31, D7 2026-04-05.
Segments: A1 (D1 D2) SMB; A2 (D3 D8) and A4 (D6) Enterprise; A3 (D10) SMB.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics_core import KPI
from metrics_core.backends.duckdb import DuckDBBackend
from metrics_core.compile_cumulative import EPOCH, widened
from metrics_core.errors import DefinitionError
from metrics_core.models import CumulativeMetric
from metrics_core.periods import Period
from test_metrics_handmade import AS_OF, DATA, FIXTURE, _duck

CUMULATIVE = """
  running_won_revenue: {type: cumulative, measure: won_amount_sum, format: currency}
  won_revenue_2026: {measure: won_amount_sum, since: 2026-01-01, format: currency}
  won_90d: {measure: won, window: 90 days}
  win_rate_90d: {numerator: won, denominator: closed, window: 90 days, format: percent}
  win_rate_3m: {numerator: won, denominator: closed, window: 3 months, format: percent}
"""
TEXT = FIXTURE.read_text() + CUMULATIVE  # metrics: is the fixture's last section
WON = {date(2025, 12, 1): 7000, date(2026, 1, 10): 1000, date(2026, 2, 20): 10000, date(2026, 3, 5): 3000,
       date(2026, 4, 20): 5000, date(2026, 5, 11): 1500}


def duck_kpi() -> KPI:
    backend = DuckDBBackend(":memory:")
    backend.connection.execute(DATA)
    return KPI.from_text(TEXT, backend=backend)


@pytest.fixture(scope="module", params=["duckdb", "postgres", "spark"])
def kpi(request: pytest.FixtureRequest) -> KPI:
    if request.param == "duckdb":
        return duck_kpi()
    from warehouse.replicate import copy_to_postgres, copy_to_spark

    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        copy_to_postgres(_duck(), url)
        return KPI.from_text(TEXT, connection=url)
    spark = request.getfixturevalue("spark_session")
    copy_to_spark(_duck(), spark)
    return KPI.from_text(TEXT, connection="spark://local[2]")


def test_running_total_series_and_previous(kpi: KPI) -> None:
    r = kpi.query("running_won_revenue 2026-Q1 grain month", as_of=AS_OF)
    assert r.value == 7000 + 1000 + 10000 + 3000  # everything won up to Mar 31
    assert list(r.series["value"]) == [8000, 18000, 21000]  # at Jan 31: D6 + D1; Feb 28: + D3; Mar 31: + D2
    assert r.comparison.value == 7000  # at Dec 31, 2025: D6 only
    assert r.comparison.absolute == 14000


def test_running_total_since_a_day(kpi: KPI) -> None:
    assert kpi.query("won_revenue_2026 2026-Q1", as_of=AS_OF).value == 1000 + 10000 + 3000  # not D6 (2025)
    assert kpi.query("won_revenue_2026 2026-04", as_of=AS_OF).value == 14000 + 5000  # + D8 on Apr 20
    assert kpi.query("won_revenue_2026 2025-12", as_of=AS_OF).value == 0  # ends before the start: nothing yet


def test_running_total_by_segment_and_vs_last_year(kpi: KPI) -> None:
    r = kpi.query("running_won_revenue 2026-Q1 by segment", as_of=AS_OF)
    got = {row["segment"]: row["value"] for _, row in r.breakdown.iterrows()}
    assert got == {"Enterprise": 7000 + 10000, "SMB": 1000 + 3000}  # D6 D3 | D1 D2
    r = kpi.query("running_won_revenue 2026-Q2 vs last-year", as_of=AS_OF)
    assert r.value == 21000 + 5000 + 1500  # to Jun 30, 2026: + D8, D10
    assert r.comparison.period.end == date(2025, 6, 30) and r.comparison.value == 0  # nothing won by then


@pytest.mark.parametrize("day, expected", [
    # the 90 days ending Feb 28 are Dec 1 .. Feb 28 (31 + 31 + 28): D6 on Dec 1 is the first day inside
    ("2026-02-28", 3),
    # ending Mar 1: Dec 2 .. Mar 1, so D6 has left the window: D1 D3
    ("2026-03-01", 2),
    # ending Mar 5: D2 closes on the window's last day: D1 D3 D2
    ("2026-03-05", 3),
    ("2026-03-04", 2),
])
def test_trailing_window_edges(kpi: KPI, day: str, expected: int) -> None:
    assert kpi.query(f"won_90d {day}..{day}", as_of=AS_OF).value == expected


def test_trailing_ratio_is_a_ratio_of_sums(kpi: KPI) -> None:
    r = kpi.query("win_rate_90d 2026-Q1 grain month", as_of=AS_OF)
    # Jan 31: Nov 2 .. Jan 31 won D6 D1, lost none = 2/2; Feb 28: Dec 1 .. Feb 28 won D6 D1 D3 = 3/3;
    # Mar 31: Jan 1 .. Mar 31 won D1 D3 D2, lost D4 (Mar 31, the last day) = 3/4
    assert list(r.series["value"]) == pytest.approx([1.0, 1.0, 0.75])
    assert r.value == pytest.approx(3 / 4)
    assert [c.value for c in r.components] == [3, 4]
    # April: Jan 31 .. Apr 30 won D3 D2 D8, lost D4 D7 = 3/5. The average of the three monthly
    # rates inside would be (1 + 2/3 + 1/2) / 3 = 0.722..., which is not what a trailing rate is.
    assert kpi.query("win_rate_90d 2026-04", as_of=AS_OF).value == pytest.approx(3 / 5)
    # 3 months ending Apr 30 = Feb 1 .. Apr 30: the same deals, 3/5
    assert kpi.query("win_rate_3m 2026-04", as_of=AS_OF).value == pytest.approx(3 / 5)


# -- DuckDB only: properties, definitions, rollups ---------------------------------------------------

@pytest.fixture(scope="module")
def duck() -> KPI:
    return duck_kpi()


@settings(max_examples=25, deadline=None)
@given(end=st.dates(date(2025, 11, 1), date(2026, 6, 30)), days=st.integers(1, 200))
def test_any_trailing_window_counts_the_days_before_its_end(duck: KPI, end: date, days: int) -> None:
    """won over the trailing N days = the won deals closed in [end - N + 1, end], counted in Python."""
    m = CumulativeMetric(measure="won", window=f"{days} days")
    p = widened(m, Period("x", "range", end, end))
    assert (p.start, p.end) == (end - timedelta(days=days - 1), end)
    expected = sum(1 for d in WON if p.start <= d <= end)
    kpi = KPI.from_text(TEXT.replace("window: 90 days}", f"window: {days} days}}", 1), backend=duck._backend)
    assert kpi.query(f"won_90d {end}..{end}", as_of=AS_OF).value == expected


def test_months_back_clamps_the_day() -> None:
    m = CumulativeMetric(measure="won", window="3 months")
    assert widened(m, Period("x", "range", date(2026, 5, 30), date(2026, 5, 30))).start == date(2026, 2, 28)
    running = CumulativeMetric(measure="won")
    assert widened(running, Period("x", "range", date(2026, 1, 1), date(2026, 1, 31))).start == EPOCH


@pytest.mark.parametrize("snippet, message", [
    ("{type: cumulative, measure: won, numerator: won, denominator: closed}", "give measure:, or numerator: and denominator:"),
    ("{type: cumulative, numerator: won}", "needs both numerator: and denominator:"),
    ("{measure: won, since: 2026-01-01, window: 90 days}", "not both"),
    ("{measure: won, window: 90 fortnights}", "90 fortnights"),
    ("{expr: won_90d * 2}", "a derived metric cannot use it"),
])
def test_bad_cumulative_definitions_are_one_line_errors(snippet: str, message: str) -> None:
    with pytest.raises(DefinitionError) as e:
        KPI.from_text(TEXT + f"  broken: {snippet}\n")
    assert message in str(e.value) and "broken" in str(e.value)


@pytest.mark.parametrize("snippet, message", [
    ("{measure: spend, window: 90 days}", "a window of days cuts its months"),
    ("{measure: spend, since: 2026-01-15}", "since: must be the first day of a month"),
])
def test_a_span_may_not_cut_rows_dated_by_month(snippet: str, message: str) -> None:
    """Spend declared grain: month (one row on each 1st): 90 days would cut its months, Jan 15 is inside one."""
    text = TEXT.replace("    source: spend\n", "    source: spend\n    grain: month\n", 1)
    KPI.from_text(text + "  spend_3m: {measure: spend, window: 3 months}\n")  # whole months: fine
    with pytest.raises(DefinitionError) as e:
        KPI.from_text(text + f"  broken: {snippet}\n")
    assert message in str(e.value) and "broken" in str(e.value)


def test_explain_says_what_is_summed(duck: KPI) -> None:
    assert duck.metric_info("win_rate_90d").formula == "won / closed over the trailing 90 days"
    assert duck.metric_info("won_revenue_2026").formula == "running total of won_amount_sum since 2026-01-01"
    assert duck.metric_info("running_won_revenue").formula == "running total of won_amount_sum since the data begins"


def test_rollups_serve_exactly_or_fall_back(tmp_path: Path) -> None:
    from test_rollups import AS_OF as R_AS_OF, YAML, answer, setup

    text = YAML.replace("rollups:\n", "  running_revenue: {measure: revenue, since: 2025-01-01}\n"
                                      "  win_rate_90d: {numerator: won, denominator: closed, window: 90 days}\n"
                                      "rollups:\n", 1)
    served, raw, _ = setup(tmp_path, text)
    for q in ("running_revenue 2026-Q1 grain month vs last-year", "running_revenue 2026-Q1 by segment",
              "win_rate_90d 2026-Q1 grain month", "win_rate_90d 2026-03-01..2026-03-10 by segment"):
        assert answer(served, q) == answer(raw, q), q
    first = served.query("running_revenue 2026-Q1", as_of=R_AS_OF, use_cache=False).sql.splitlines()[0]
    assert first == "-- answered from rollup by_month"  # Jan 1, 2025 .. Mar 31, 2026: whole months
    first = served.query("win_rate_90d 2026-Q1", as_of=R_AS_OF, use_cache=False).sql.splitlines()[0]
    assert first == "-- answered from rollup by_day"  # Jan 1 .. Mar 31 is whole months, Oct 3 .. Dec 31 is not
