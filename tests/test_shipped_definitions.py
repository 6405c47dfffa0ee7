"""The shipped definitions.yaml on the demo data: reps and teams, new business apart from renewals and
expansions, breakdowns only where they make sense. Every number is checked against a plain DuckDB
query written here, over the raw CRM tables (the stage spellings cleaned by hand, as the YAML does)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from metrics_core import KPI, QueryError, parse_definitions
from metrics_core.backends.duckdb import DuckDBBackend
from metrics_core.demo_data import generate
from metrics_core.errors import DefinitionError
from metrics_core.rollup_suggest import suggest

REPO = Path(__file__).resolve().parent.parent
AS_OF = date(2026, 11, 27)
Q3 = "closed_at BETWEEN DATE '2026-07-01' AND DATE '2026-09-30'"
WON = "lower(trim(stage)) IN ('closed won', 'won')"
CLOSED = "lower(trim(stage)) IN ('closed won', 'won', 'closed lost', 'closed-lost')"


@pytest.fixture(scope="module")
def kpi() -> KPI:
    backend = DuckDBBackend(":memory:")
    generate(backend.connection, deals=20_000, until=date(2026, 11, 30))
    return KPI.from_path(REPO / "definitions.yaml", backend=backend)


def sql(kpi: KPI, text: str) -> list[tuple]:
    return kpi.backend.connection.execute(text).fetchall()


def test_avg_deal_size_counts_new_business_only(kpi: KPI) -> None:
    (new, everything), = sql(kpi, f"""SELECT avg(amount) FILTER (WHERE deal_type = 'new_business'), avg(amount)
                                      FROM crm_deals WHERE {WON} AND amount IS NOT NULL AND {Q3}""")
    assert kpi.query("avg_deal_size last-quarter", as_of=AS_OF).value == pytest.approx(new)
    assert kpi.query("avg_deal_size_all last-quarter", as_of=AS_OF).value == pytest.approx(everything)
    assert abs(new - everything) > 1000  # the demo data keeps them apart, or this test proves nothing


def test_cac_payback_uses_the_new_business_deal_size(kpi: KPI) -> None:
    (spend,), = sql(kpi, "SELECT sum(amount) FROM spend WHERE month BETWEEN DATE '2026-07-01' AND DATE '2026-09-01'")
    (customers,), = sql(kpi, f"""SELECT count(*) FROM crm_accounts WHERE customer_since BETWEEN DATE '2026-07-01'
                                 AND DATE '2026-09-30'""")
    (deal_size,), = sql(kpi, f"SELECT avg(amount) FROM crm_deals WHERE {WON} AND amount IS NOT NULL "
                             f"AND deal_type = 'new_business' AND {Q3}")
    payback = kpi.query("cac_payback_months last-quarter", as_of=AS_OF).value
    assert payback == pytest.approx(spend / customers / (deal_size / 12 * 0.75))


@pytest.mark.parametrize("by, column", [("owner", "u.name"), ("team", "u.team")])
def test_win_rate_by_owner_and_team(kpi: KPI, by: str, column: str) -> None:
    hand = dict(sql(kpi, f"""SELECT {column}, count(*) FILTER (WHERE {WON}) / count(*) FROM crm_deals d
                             JOIN crm_users u ON u.user_id = d.owner_id
                             WHERE {CLOSED} AND deal_type = 'new_business' AND {Q3} GROUP BY 1"""))
    r = kpi.query(f"win_rate last-quarter by {by}", as_of=AS_OF)
    got = {row[by]: row["value"] for row in r.to_json()["rows"] if row["value"] is not None}
    assert len(got) >= 4 and got == pytest.approx(hand)


def test_renewals_are_won_about_as_often_as_customers_stay(kpi: KPI) -> None:
    """Over the last year, each segment's renewal rate is within 6 points of 1 - its churn rate."""
    year = "2025-12-01..2026-11-30"
    renewals = {row["segment"]: row["value"] for row in
                kpi.query(f"renewal_win_rate {year} by segment", as_of=AS_OF).to_json()["rows"]}
    churn = {row["segment"]: row["value"] for row in
             kpi.query(f"customer_churn_rate {year} by segment", as_of=AS_OF).to_json()["rows"]}
    assert set(renewals) == set(churn) == {"SMB", "Mid-Market", "Enterprise"}
    for segment, rate in renewals.items():
        assert rate == pytest.approx(1 - churn[segment], abs=0.06), segment


@pytest.mark.parametrize("question, allowed", [
    ("win_rate last-quarter by stage", "allowed: industry, office, owner, region, segment, size_band, source, team"),
    ("win_rate last-quarter by deal_type", "allowed: industry, office, owner"),
    ("avg_deal_size last-quarter by size_band", "allowed: industry, office, owner, region, segment, source, team"),
    ("cac_payback_months last-quarter by owner", "it can use: segment"),  # a derived metric: as cac allows
])
def test_breakdowns_that_make_no_sense_are_refused(kpi: KPI, question: str, allowed: str) -> None:
    with pytest.raises(QueryError, match=allowed) as e:
        kpi.query(question, as_of=AS_OF)
    assert "\n" not in str(e.value)


def test_values_and_rollup_suggestions_follow_the_allowed_list(kpi: KPI) -> None:
    with pytest.raises(QueryError, match="not a meaningful breakdown"):
        kpi.values("stage", metric="win_rate")
    assert kpi.values("team", metric="win_rate", period="last-quarter", as_of=AS_OF).rows
    raw = {"sheets": {"tabs": [{"name": "t", "metrics": ["win_rate"], "breakdown": {"by": "stage"}}]}}
    deals = next(s for s in suggest(kpi.definitions, raw) if s.table == "deals")
    assert "stage" not in deals.dimensions


BASE = """
version: 1
tables:
  deals:
    source: crm_deals
    time: closed_at
    columns: {deal_id: string, closed_at: date, stage: string, segment: string}
measures:
  won: {table: deals, agg: count, filter: "stage = 'won'"}
  closed: {table: deals, agg: count}
metrics:
  win_rate:
    numerator: won
    denominator: closed
    dimensions: [segment]
"""


@pytest.mark.parametrize("extra, message", [
    ("  other:\n    numerator: won\n    denominator: closed\n    dimensions: [segmnt]\n",
     "x.yaml:19: metrics.other.dimensions.0: dimension 'segmnt' cannot break down measure 'won'"),
    ("  double:\n    expr: win_rate * 2\n    dimensions: [stage]\n",
     "x.yaml:18: metrics.double.dimensions.0: dimension 'stage' is not allowed for metric 'win_rate'"),
])
def test_dimension_lists_are_checked_with_file_and_line(extra: str, message: str) -> None:
    with pytest.raises(DefinitionError) as e:
        parse_definitions(BASE + extra, source="x.yaml")
    assert message in str(e.value)


def test_doctor_names_only_metrics_that_break_down_by_a_blank_dimension(kpi: KPI) -> None:
    """Deals without a lead have no source: that moves `win_rate by source`, not cac (by segment only) or the
    renewal rate (renewals are not broken down by source), though both read the deals table."""
    blank = next(f for f in kpi.doctor(as_of=AS_OF).findings if (f.check, f.table, f.subject) == ("blank_dimension", "deals", "source"))
    assert {"win_rate", "avg_deal_size", "pipeline_velocity"} <= set(blank.metrics)
    assert not {"cac", "cac_payback_months", "renewal_win_rate", "clv"} & set(blank.metrics)
