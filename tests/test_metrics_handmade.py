"""Every metric type on a ten-deal CRM, against numbers worked out by hand below; the same
expectations on DuckDB, a real PostgreSQL server and Spark in local mode.

The data (see ``DATA``) with the calendar in America/New_York, fiscal year from February:

    deal  account lead owner created     closed      stage (raw)     amount
    D1    A1 SMB  L1   U1    2026-01-01  2026-01-10  Closed Won      1,000   A1's first win
    D2    A1 SMB  L2   U1    2026-02-01  2026-03-05  closed won      3,000
    D3    A2 Ent  L3   U2    2026-01-15  2026-02-20  Won            10,000   A2's first win
    D4    A3 smb  L4   U2    2026-02-01  2026-03-31  Closed Lost       500
    D5    A3 smb  -    U1    2026-03-01  (open)      Proposal        2,000
    D6    A4 ENT  -    U1    2025-11-01  2025-12-01  Closed Won      7,000   A4's first win
    D7    A4 ENT  L5   U1    2026-03-20  2026-04-05  Closed-Lost       800
    D8    A2 Ent  -    U1    2026-04-01  2026-04-20   Closed Won     5,000
    D9    A1 SMB  -    U1    2026-03-25  (open)      Negotiation     (none)
    D10   A3 smb  L7   U1    2026-03-01  2026-05-11  Closed Won      1,500   A3's first win; L7 + 90 days

Leads (UTC): L1 2025-12-20, L2 01-05, L3 01-10, L4 01-20, L5 03-15, L6 2026-04-01 02:00 (= Mar 31
22:00 in New York, so March), L7 02-10. Offices: U1 Berlin, U2 Austin.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from metrics_core import KPI
from metrics_core.backends.duckdb import DuckDBBackend

FIXTURE = Path(__file__).parent / "fixtures" / "handmade.yaml"
AS_OF = date(2026, 5, 10)  # "last-quarter" = 2026-Q1, its previous = 2025-Q4

DATA = """
CREATE TABLE offices AS SELECT * FROM (VALUES ('O1', 'Berlin'), ('O2', 'Austin')) t(office_id, name);
CREATE TABLE reps AS SELECT * FROM (VALUES ('U1', 'O1'), ('U2', 'O2')) t(user_id, office_id);
CREATE TABLE accounts AS SELECT account_id, segment, CAST(cs AS DATE) AS customer_since, CAST(ch AS DATE) AS churned_at
FROM (VALUES ('A1', 'SMB', '2026-01-10', NULL), ('A2', 'Enterprise', '2026-02-20', '2026-05-15'),
             ('A3', ' smb', '2026-05-11', NULL), ('A4', 'ENT', '2025-12-01', '2026-04-02')) t(account_id, segment, cs, ch);
CREATE TABLE leads AS SELECT lead_id, CAST(ts AS TIMESTAMP) AS created_at, source, segment
FROM (VALUES ('L1', '2025-12-20 15:00:00', 'Webinar', 'SMB'), ('L2', '2026-01-05 10:00:00', 'webinar', 'SMB'),
             ('L3', '2026-01-10 12:00:00', 'paid search', 'Enterprise'), ('L4', '2026-01-20 09:00:00', 'referral', 'SMB'),
             ('L5', '2026-03-15 08:00:00', 'webinar', 'Enterprise'), ('L6', '2026-04-01 02:00:00', 'organic', 'SMB'),
             ('L7', '2026-02-10 12:00:00', 'organic', 'Enterprise')) t(lead_id, ts, source, segment);
CREATE TABLE raw_deals AS SELECT d AS "Deal ID", a AS "Account", l AS "Lead", o AS "Owner", CAST(c AS DATE) AS "Created",
       cl AS "Close Date", st AS "Deal Stage", am AS "Amount"
FROM (VALUES
  ('D1', 'A1', 'L1', 'U1', '2026-01-01', '01/10/2026', 'Closed Won', '$1,000.00'),
  ('D2', 'A1', 'L2', 'U1', '2026-02-01', '03/05/2026', 'closed won', '$3,000.00'),
  ('D3', 'A2', 'L3', 'U2', '2026-01-15', '02/20/2026', 'Won', '$10,000.00'),
  ('D4', 'A3', 'L4', 'U2', '2026-02-01', '03/31/2026', 'Closed Lost', '$500.00'),
  ('D5', 'A3', NULL, 'U1', '2026-03-01', '', 'Proposal', '$2,000.00'),
  ('D6', 'A4', NULL, 'U1', '2025-11-01', '12/01/2025', 'Closed Won', '$7,000.00'),
  ('D7', 'A4', 'L5', 'U1', '2026-03-20', '04/05/2026', 'Closed-Lost', '$800.00'),
  ('D8', 'A2', NULL, 'U1', '2026-04-01', '04/20/2026', ' Closed Won ', '$5,000.00'),
  ('D9', 'A1', NULL, 'U1', '2026-03-25', NULL, 'Negotiation', ''),
  ('D10', 'A3', 'L7', 'U1', '2026-03-01', '05/11/2026', 'Closed Won', '$1,500.00')
) t(d, a, l, o, c, cl, st, am);
CREATE TABLE spend AS SELECT CAST(m AS DATE) AS month, kind, segment, CAST(amount AS DOUBLE) AS amount
FROM (VALUES ('2025-12-01', 'marketing', 'SMB', 700), ('2026-01-01', 'marketing', 'SMB', 1000),
             ('2026-01-01', 'sales', 'SMB', 500), ('2026-02-01', 'marketing', 'Enterprise', 2000),
             ('2026-03-01', 'marketing', 'SMB', 300), ('2026-03-01', 'other', 'SMB', 999),
             ('2026-04-01', 'marketing', 'SMB', 400)) t(m, kind, segment, amount);
"""


def _duck() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute(DATA)
    return con


@pytest.fixture(scope="module", params=["duckdb", "postgres", "spark"])
def kpi(request: pytest.FixtureRequest) -> KPI:
    text = FIXTURE.read_text()
    if request.param == "duckdb":
        backend = DuckDBBackend(":memory:")
        backend.connection.execute(DATA)
        return KPI.from_text(text, backend=backend)
    from warehouse.replicate import copy_to_postgres, copy_to_spark

    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        copy_to_postgres(_duck(), url)
        return KPI.from_text(text, connection=url)
    spark = request.getfixturevalue("spark_session")
    copy_to_spark(_duck(), spark)
    return KPI.from_text(text, connection="spark://local[2]")


def value(kpi: KPI, q: str, as_of: date = AS_OF) -> float | None:
    return kpi.query(q, as_of=as_of).value


def rows(kpi: KPI, q: str, as_of: date = AS_OF) -> dict:
    r = kpi.query(q, as_of=as_of)
    dim = r.dimensions[0]
    return {row[dim]: (None if pd.isna(row["value"]) else row["value"]) for _, row in r.breakdown.iterrows()}


# -- ratio of one table, comparison, breakdowns, filters, targets -------------------------------

def test_win_rate_last_quarter_with_previous_and_components(kpi: KPI) -> None:
    r = kpi.query("win_rate last-quarter", as_of=AS_OF)
    assert (r.period.start, r.period.end) == (date(2026, 1, 1), date(2026, 3, 31))
    assert r.value == pytest.approx(3 / 4)  # won D1 D2 D3; lost D4
    num, den = r.components
    assert (num.value, den.value) == (3, 4)
    assert r.comparison.period.start == date(2025, 10, 1)
    assert r.comparison.value == pytest.approx(1.0)  # Q4 2025: D6 won, nothing lost
    assert r.comparison.absolute == pytest.approx(-0.25)
    assert r.comparison.improved is False
    assert r.target.target == 0.8 and r.target.status == "missed"
    assert r.counted == "3 won deals of 4 closed deals"


def test_win_rate_breakdowns_through_joins(kpi: KPI) -> None:
    # segment via deal -> account, with ' smb' and 'ENT' cleaned by the value mapping
    assert rows(kpi, "win_rate last-quarter by segment") == pytest.approx({"SMB": 2 / 3, "Enterprise": 1.0})
    # office via deal -> owner -> office (two hops)
    assert rows(kpi, "win_rate last-quarter by office") == pytest.approx({"Berlin": 1.0, "Austin": 1 / 2})
    r = kpi.query("win_rate last-quarter by segment", as_of=AS_OF)
    ent = r.breakdown.set_index("segment").loc["Enterprise"]
    assert ent["previous"] == pytest.approx(1.0)  # D6 (A4 'ENT') in Q4
    assert (ent["target_value"], ent["target_status"]) == (0.5, "met")


def test_filters_are_case_insensitive_and_combine(kpi: KPI) -> None:
    assert value(kpi, "win_rate last-quarter where segment=smb") == pytest.approx(2 / 3)
    assert value(kpi, "win_rate last-quarter where source=webinar") == pytest.approx(1.0)  # D1 (L1 'Webinar'), D2
    assert value(kpi, "win_rate last-quarter where segment in (smb, enterprise)") == pytest.approx(0.75)
    small = kpi.query("win_rate last-quarter where segment=SMB", as_of=AS_OF)
    assert small.small_sample and small.sample_size == 3  # the denominator: 3 closed SMB deals


def test_fiscal_quarter_and_year_ago(kpi: KPI) -> None:
    # FY2027 Q1 = Feb 1 .. Apr 30 2026: won D2 D3 D8, lost D4 D7
    assert value(kpi, "win_rate fy2027-q1") == pytest.approx(3 / 5)
    r = kpi.query("win_rate 2026-Q1 vs last-year", as_of=AS_OF)
    assert r.comparison.period.start == date(2025, 1, 1) and r.comparison.value is None
    assert r.comparison.relative is None


# -- ratio across two tables, timezone ----------------------------------------------------------

def test_conversion_rate_across_tables_and_timezone(kpi: KPI) -> None:
    # won deals closed in Q1 (3) / leads created in Q1 in New York time (L2 L3 L4 L5 L6 L7 = 6)
    assert value(kpi, "conversion_rate last-quarter") == pytest.approx(3 / 6)
    assert rows(kpi, "conversion_rate last-quarter by segment") == pytest.approx({"SMB": 2 / 3, "Enterprise": 1 / 3})
    assert value(kpi, "new_leads 2026-03") == 2  # L5, and L6 at 22:00 on Mar 31 in New York
    assert value(kpi, "new_leads 2026-04") == 0
    q4 = rows(kpi, "conversion_rate 2025-Q4 by segment")
    assert q4["SMB"] == 0 and q4["Enterprise"] is None  # 1 won / 0 leads: no value, not an error


def test_lead_to_win_within_90_days(kpi: KPI) -> None:
    # Q1 leads: L2 -> D2 won after 59 days, L3 -> D3 after 41, L7 -> D10 after exactly 90: 3 of 6
    r = kpi.query("lead_to_win_rate last-quarter", as_of=AS_OF)
    assert r.value == pytest.approx(3 / 6)
    assert [c.value for c in r.components] == [3, 6]
    assert r.comparison.value == pytest.approx(1.0)  # Q4: L1 -> D1 after 21 days


# -- simple measures of every aggregation ---------------------------------------------------------

@pytest.mark.parametrize("metric, expected", [
    ("won_deals", 3), ("avg_deal_size", 14000 / 3), ("revenue", 14000), ("median_deal", 3000),
    ("p90_deal", 3000 + 0.8 * 7000), ("smallest_deal", 1000), ("largest_deal", 10000), ("winning_accounts", 2),
    ("sales_cycle_days", (9 + 32 + 36) / 3), ("new_customers", 2), ("open_deals", 4), ("gross_margin", 0.75),
])
def test_simple_metrics_q1(kpi: KPI, metric: str, expected: float) -> None:
    assert value(kpi, f"{metric} last-quarter") == pytest.approx(expected)


def test_first_won_deal_per_account_and_cac(kpi: KPI) -> None:
    assert value(kpi, "new_customers 2025-Q4") == 1  # A4 (D6)
    assert value(kpi, "new_customers 2026-Q2") == 1  # A3 (D10); D8 is A2's second win
    r = kpi.query("cac last-quarter", as_of=AS_OF)
    assert r.value == pytest.approx(3800 / 2)  # 1000 + 500 + 2000 + 300 (not 'other' 999) / A1, A2
    assert r.comparison.value == pytest.approx(700 / 1)
    assert rows(kpi, "cac last-quarter by segment") == pytest.approx({"SMB": 1800, "Enterprise": 2000})


def test_open_deals_snapshot_at_period_end(kpi: KPI) -> None:
    assert value(kpi, "open_deals 2026-03") == 4  # D5 D9 open; D7 D10 closed later; D4 closed on Mar 31
    assert value(kpi, "open_deals 2026-02") == 2  # D2 (closed Mar 5), D4 (Mar 31); D5 D10 created Mar 1
    assert value(kpi, "open_deals 2025-Q4") == 0


def test_series_by_month(kpi: KPI) -> None:
    r = kpi.query("won_deals 2026-Q1 grain month", as_of=AS_OF)
    assert list(r.series["value"]) == [1, 1, 1]  # D1 Jan, D3 Feb, D2 Mar
    assert [d.month for d in r.series["start"]] == [1, 2, 3]
    assert r.value == 3


def test_additive_target_pace_to_date(kpi: KPI) -> None:
    r = kpi.query("won_deals this-month", as_of=date(2026, 4, 25))
    assert r.value == 1  # D8 on Apr 20
    assert r.target.projected == pytest.approx(1 * 30 / 25)
    assert r.target.status == "behind"  # target 2 a month


# -- derived metrics ------------------------------------------------------------------------------

def test_churn_clv_and_ratios_q2(kpi: KPI) -> None:
    churn = 2 / 3  # A4 (Apr 2) and A2 (May 15) of A1 A2 A4 customers on Apr 1
    annual = churn * 365 / 91
    avg = (5000 + 1500) / 2  # D8, D10
    clv = avg * 0.75 / annual
    cac = 400 / 1  # April spend / A3
    assert value(kpi, "churn_rate 2026-Q2") == pytest.approx(churn)
    assert value(kpi, "annual_churn 2026-Q2") == pytest.approx(annual)
    assert value(kpi, "clv 2026-Q2") == pytest.approx(clv)
    assert value(kpi, "ltv_cac 2026-Q2") == pytest.approx(clv / cac)
    assert value(kpi, "cac_payback_months 2026-Q2") == pytest.approx(cac / (avg / 12 * 0.75))


def test_pipeline_velocity_q1(kpi: KPI) -> None:
    # 4 open deals x 0.75 x 14000/3 / (77/3 days)
    r = kpi.query("pipeline_velocity last-quarter", as_of=AS_OF)
    assert r.value == pytest.approx(4 * 0.75 * 14000 / 77)
    assert {c.name for c in r.components} == {"open_deals", "win_rate", "avg_deal_size", "sales_cycle_days"}


def test_trend_with_a_filter(kpi: KPI) -> None:
    # won deals by month, SMB accounts only: D1 Jan, D2 Mar (D3 is Enterprise); April: none (D8 is A2)
    r = kpi.trend("won_deals", grain="month", count=4, where={"segment": ["smb"]}, as_of=date(2026, 4, 30))
    assert [d.month for d in r.series["start"]] == [1, 2, 3, 4]
    assert list(r.series["value"]) == [1, 0, 1, 0]


# -- windows that overlap or leave gaps, and the first_per and snapshot paths ---------------------

def test_overlapping_windows_count_each_row_in_each(kpi: KPI) -> None:
    r = kpi.query("won_deals 2026-Q1 vs 2026-03", as_of=AS_OF)
    assert (r.value, r.comparison.value) == (3, 1)  # the quarter: D1 D3 D2; March inside it: D2


def test_distinct_count_of_a_window_is_not_the_sum_of_its_buckets(kpi: KPI) -> None:
    r = kpi.query("winning_accounts 2026-Q1 grain month", as_of=AS_OF)
    assert list(r.series["value"]) == [1, 1, 1]  # Jan A1, Feb A2, Mar A1
    assert r.value == 2  # A1 and A2, once each


def test_median_of_a_window_from_its_rows(kpi: KPI) -> None:
    r = kpi.query("median_deal 2026-Q1 grain month", as_of=AS_OF)
    assert list(r.series["value"]) == [1000, 10000, 3000]
    assert r.value == 3000


def test_comparison_a_year_back_skips_the_months_between(kpi: KPI) -> None:
    r = kpi.query("won_deals 2026-Q1 vs last-year", as_of=AS_OF)
    assert (r.value, r.comparison.value) == (3, 0)  # D6 (Dec 2025) lies between the windows


def test_first_won_deal_by_an_attribute_of_the_deal_itself(kpi: KPI) -> None:
    # by segment an account's first win time is enough; by source the first deal's own lead decides
    assert rows(kpi, "new_customers last-quarter by segment") == {"SMB": 1, "Enterprise": 1}
    assert rows(kpi, "new_customers last-quarter by source") == {"Webinar": 1, "paid_search": 1}  # D1 L1, D3 L3


def test_first_wins_are_read_up_to_the_end_of_the_last_window(kpi: KPI) -> None:
    # rows after the last window are not read (a later first win is in no window); a comparison after
    # the asked period moves that end: 2026-Q1's first wins count although the asked quarter ends before
    r = kpi.query("new_customers 2025-Q4 vs 2026-Q1", as_of=AS_OF)
    assert (r.value, r.comparison.value) == (1, 2)  # A4 (D6 Dec 1); A1 (D1 Jan 10), A2 (D3 Feb 20)
    r = kpi.query("new_customers 2026-04 vs 2026-05", as_of=AS_OF)
    assert (r.value, r.comparison.value) == (0, 1)  # April: D8 is A2's second win; May: A3 (D10)
    # the first row itself (by its lead): A1's first win is D1 (L1 'Webinar'), not D2 (Mar 5, L2)
    assert rows(kpi, "new_customers 2026-01 by source") == {"Webinar": 1}
    assert rows(kpi, "new_customers 2026-03 by source") == {}  # D2 is A1's second win


def test_open_deals_at_each_bucket_end(kpi: KPI) -> None:
    r = kpi.query("open_deals 2026-Q1 grain month", as_of=AS_OF)
    assert list(r.series["value"]) == [1, 2, 4]  # Jan 31: D3; Feb 28: D2 D4; Mar 31: D5 D9 D7 D10
    assert r.value == 4


# -- fine print: coarse grains, maturing conversions, per-row samples ----------------------------

def variant(kpi: KPI, old: str, new: str, extra: str = "") -> KPI:
    """The same engine and data under edited definitions (spend declared monthly, say)."""
    from metrics_core import parse_definitions

    text = FIXTURE.read_text()
    assert old in text
    return KPI(parse_definitions(text.replace(old, new, 1) + extra), backend=kpi.backend)


SPEND = "    columns: {month: date, kind: string, segment: string, amount: number}\n"
SPEND_TOTAL = "  spend_total: {measure: spend, format: currency}\n"


def test_monthly_spend_prorated_by_days(kpi: KPI) -> None:
    """Spend rows are dated on the 1st of their month; marketing+sales: Feb 2,000, Mar 300, Apr 400."""
    k = variant(kpi, SPEND, SPEND + "    grain: month\n    partial: prorate\n", SPEND_TOTAL)
    r = k.query("spend_total 2026-03-16..2026-04-15", as_of=AS_OF)
    assert r.value == pytest.approx(300 * 16 / 31 + 400 * 15 / 30)  # 16 of March's 31 days, 15 of April's 30
    # the previous 31 days, Feb 13 .. Mar 15: 16 of February's 28 days, 15 of March's 31
    assert r.comparison.value == pytest.approx(2000 * 16 / 28 + 300 * 15 / 31)
    assert r.notes == ("spend is dated by month: Mar 16\u2009–\u2009Apr 15, 2026, Feb 13\u2009–\u2009Mar 15, 2026 "
                       "get the share of each one they cover, by days.",)
    assert k.query("spend_total 2026-Q1", as_of=AS_OF).value == pytest.approx(1000 + 500 + 2000 + 300)
    weeks = k.query("spend_total 2026-03 grain week", as_of=AS_OF).series
    assert list(weeks["value"]) == pytest.approx([300 * d / 31 for d in (1, 7, 7, 7, 7, 2)])  # Mar 1 is a Sunday
    # cac over a week cut from one month: 7/31 of March's spend, no new customer -> no value
    assert k.query("cac 2026-03-02..2026-03-08", as_of=AS_OF).components[0].value == pytest.approx(300 * 7 / 31)


def test_monthly_spend_refused_for_windows_that_cut_a_month(kpi: KPI) -> None:
    from metrics_core import QueryError

    k = variant(kpi, SPEND, SPEND + "    grain: month\n", SPEND_TOTAL)
    with pytest.raises(QueryError) as e:
        k.query("cac 2026-03-02..2026-03-08", as_of=AS_OF)
    assert str(e.value) == ("cac reads spend, which is dated by month: ask for whole months "
                            "(Mar 2\u2009–\u20098, 2026 cuts one).")
    assert k.query("cac 2026-Q1", as_of=AS_OF).value == pytest.approx(3800 / 2)  # whole months: as before
    weeks = k.query("spend_total 2026-02-01..2026-02-28 grain week", as_of=AS_OF)  # every week cuts February
    assert weeks.series is None and weeks.value == pytest.approx(2000) and "left out" in weeks.notes[0]
    t = k.trend("spend_total", grain="month", count=3, as_of=AS_OF)  # Mar, Apr whole; May 1-10 cut: left out
    assert [str(s) for s in t.series["start"]] == ["2026-03-01", "2026-04-01"]
    assert t.value is None and t.notes == ("spend is dated by month: May 1\u2009–\u200910, 2026 left out "
                                           "(they cut one).",)
    # a comparison that cuts a month is left out, not the answer: Feb 1-28 vs the 28 days before
    feb = k.query("spend_total 2026-02-01..2026-02-28", as_of=AS_OF)
    assert feb.value == pytest.approx(2000) and feb.comparison is None


def test_lead_to_win_rate_maturing_share(kpi: KPI) -> None:
    """As of May 10 a 90-day window is open for leads created from Feb 10: in Q1 that is L5 (Mar 15),
    L6 (Mar 31 in New York) and L7 (Feb 10) of the six Q1 leads L2 L3 L4 L5 L6 L7."""
    r = kpi.query("lead_to_win_rate last-quarter by source", as_of=AS_OF)
    assert r.maturing == pytest.approx(3 / 6)
    assert r.notes == ("50.0% of these leads were created less than 90 days before 2026-05-10: their 90-day "
                       "window is still open, so the rate may still rise.",)
    rows = {row["source"]: (row["maturing"], row["sample_size"], row["small_sample"]) for row in r.to_json()["rows"]}
    # webinar: L2 (closed) L5 (open); organic: L6 L7 (open); paid_search L3, referral L4 (closed)
    assert rows == {"webinar": (0.5, 2, True), "organic": (1.0, 2, True), "paid_search": (0.0, 1, True),
                    "referral": (0.0, 1, True)}
    series = kpi.query("lead_to_win_rate 2026-01-01..2026-03-31 grain month", as_of=AS_OF).to_json()["series"]
    assert [(b["label"], b["maturing"], b["sample_size"]) for b in series] == [
        ("Jan 2026", 0.0, 3), ("Feb 2026", 1.0, 1), ("Mar 2026", 1.0, 2)]
    # a series broken down: each (month, source) its own share (the chart and the Sheets blocks draw them)
    cells = kpi.query("lead_to_win_rate 2026-01-01..2026-03-31 grain month by source", as_of=AS_OF).to_json()["series"]
    assert sorted((b["label"], b["source"], b["maturing"]) for b in cells) == [
        ("Feb 2026", "organic", 1.0), ("Jan 2026", "paid_search", 0.0), ("Jan 2026", "referral", 0.0),
        ("Jan 2026", "webinar", 0.0), ("Mar 2026", "organic", 1.0), ("Mar 2026", "webinar", 1.0)]
    closed = kpi.query("lead_to_win_rate 2025-Q4", as_of=AS_OF)
    assert closed.maturing == 0.0 and closed.notes == ()
    assert kpi.query("win_rate last-quarter", as_of=AS_OF).maturing is None  # not a conversion


def test_a_maturing_conversion_is_answered_in_one_statement(kpi: KPI, monkeypatch: pytest.MonkeyPatch) -> None:
    """The open parts of the windows ride in the answer's own statement (pids from 1000 on, dropped before
    the answer is assembled): one statement besides the fine-print counts, the same shares as the
    separate statement the multi-metric path runs, and no extra window in the series."""
    ran: list[str] = []
    real = type(kpi.backend).run
    monkeypatch.setattr(type(kpi.backend), "run", lambda self, sql, params: (ran.append(sql), real(self, sql, params))[1])
    text = "lead_to_win_rate 2026-01-01..2026-03-31 by source grain month"
    r = kpi.query(text, as_of=AS_OF, use_cache=False)
    assert len([sql for sql in ran if "no_time" not in sql]) == 1
    separate = kpi._maturing(kpi.plan(text, as_of=AS_OF), False)  # the answer's windows and open parts apart
    assert len([sql for sql in ran if "no_time" not in sql]) == 2
    assert r.maturing == pytest.approx(separate.maturing) == pytest.approx(3 / 6)
    assert {b["label"] for b in r.to_json()["series"]} == {"Jan 2026", "Feb 2026", "Mar 2026"}
    rows = {row["source"]: row["maturing"] for row in r.to_json()["rows"]}
    assert rows == {k: pytest.approx(v) for k, v in separate.maturing_rows.items() for k in [k[0]]}


def test_small_sample_flag_on_every_breakdown_row(kpi: KPI) -> None:
    """small_sample is 4 in the fixture: Q1 win rate rests on 4 closed deals, SMB on 3, Enterprise on 1."""
    r = kpi.query("win_rate last-quarter by segment", as_of=AS_OF)
    assert (r.sample_size, r.small_sample) == (4, False)
    rows = {row["segment"]: (row["sample_size"], row["small_sample"]) for row in r.to_json()["rows"]}
    assert rows == {"SMB": (3, True), "Enterprise": (1, True)}
