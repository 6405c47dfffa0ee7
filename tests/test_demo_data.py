"""Tests for metrics_core.demo_data: determinism, date bounds, consistency, dirt."""
from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from metrics_core.demo_data import generate

UNTIL = dt.date(2025, 6, 1)  # first of month: the hardest case for "this month is not empty"
TABLES = ("crm_offices", "crm_users", "crm_accounts", "crm_leads", "crm_deals", "spend")


def _build(**kwargs) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    generate(con, deals=3000, until=UNTIL, **kwargs)
    return con


@pytest.fixture(scope="module")
def con():
    return _build()


def one(con, sql: str):
    return con.execute(sql).fetchall()[0][0]


def test_counts_and_progress():
    steps = []
    con = duckdb.connect()
    counts = generate(con, deals=3000, until=UNTIL, progress=lambda step, frac: steps.append(frac))
    assert counts["crm_deals"] == 3000 and counts["crm_leads"] == 15000
    assert all(counts[t] > 0 and one(con, f"SELECT count(*) FROM {t}") == counts[t] for t in TABLES)
    assert steps == sorted(steps) and steps[-1] == 1.0


def test_deterministic(con):
    other = _build()
    for t in TABLES:
        assert con.execute(f"FROM {t} ORDER BY ALL").fetchall() == other.execute(f"FROM {t} ORDER BY ALL").fetchall(), t
    changed = _build(seed=8)
    assert con.execute("FROM crm_deals ORDER BY ALL").fetchall() != changed.execute("FROM crm_deals ORDER BY ALL").fetchall()


def test_no_date_after_until(con):
    checks = {
        "crm_leads": ["CAST(created_at AS DATE)"],
        "crm_deals": ["created_at", "closed_at"],
        "crm_accounts": ["created_at", "customer_since", "churned_at"],
        "spend": ["month"],
    }
    for table, cols in checks.items():
        for col in cols:
            assert one(con, f"SELECT count(*) FROM {table} WHERE {col} > DATE '{UNTIL}'") == 0, (table, col)
    assert one(con, "SELECT count(*) FROM crm_deals WHERE (closed_at IS NULL) <> "
                    "(stage IN ('Prospecting','Qualification','Proposal','Negotiation'))") == 0


def test_current_month_has_leads_and_wins(con):
    month = f"DATE '{UNTIL.replace(day=1)}'"
    assert one(con, f"SELECT count(*) FROM crm_leads WHERE created_at >= {month}") > 0
    assert one(con, f"SELECT count(*) FROM crm_deals WHERE stage = 'Closed Won' AND closed_at >= {month}") > 0
    assert one(con, f"SELECT count(*) FROM spend WHERE month = {month}") > 0


def test_growth(con):
    counts = con.execute("SELECT year(created_at) y, count(*) FROM crm_leads WHERE created_at >= DATE '2022-06-01' "
                         "AND created_at < DATE '2025-06-01' GROUP BY y ORDER BY y").fetchall()
    first_year = one(con, "SELECT count(*) FROM crm_leads WHERE created_at < DATE '2023-06-01'")
    last_year = one(con, "SELECT count(*) FROM crm_leads WHERE created_at >= DATE '2024-06-01'")
    assert counts and 1.5 < last_year / first_year < 2.2  # ~35 %/year over two years


def test_customer_since_matches_first_win(con):
    mismatches = one(con, """
        WITH w AS (SELECT account_id, min(closed_at) AS first_win FROM crm_deals
                   WHERE lower(trim(stage)) IN ('closed won', 'won') AND closed_at IS NOT NULL GROUP BY 1)
        SELECT count(*) FROM crm_accounts a LEFT JOIN w USING (account_id)
        WHERE a.customer_since IS DISTINCT FROM w.first_win""")
    assert mismatches == 0
    assert one(con, "SELECT count(*) FROM crm_accounts WHERE churned_at <= customer_since "
                    "OR (churned_at IS NOT NULL AND customer_since IS NULL)") == 0
    assert one(con, "SELECT count(*) FROM crm_accounts WHERE churned_at IS NOT NULL") > 0


def test_win_rate(con):
    rate = one(con, "SELECT count(*) FILTER (WHERE stage = 'Closed Won') / count(*) FROM crm_deals "
                    "WHERE closed_at IS NOT NULL AND deal_type = 'new_business'")
    assert 0.15 <= rate <= 0.35


def test_deal_types_follow_the_first_win(con):
    """Renewals and expansions come only after an account's first win; new business never does."""
    assert one(con, """SELECT count(*) FROM crm_deals d JOIN crm_accounts a USING (account_id)
                       WHERE (d.deal_type = 'new_business') <> (a.customer_since IS NULL OR d.created_at <= a.customer_since)""") == 0
    shares = dict(con.execute("SELECT deal_type, count(*) / sum(count(*)) OVER () FROM crm_deals GROUP BY 1").fetchall())
    assert set(shares) == {"new_business", "expansion", "renewal"} and shares["new_business"] > 0.5


def test_renewals_won_far_more_often_than_new_business(con):
    rates = dict(con.execute("SELECT deal_type, count(*) FILTER (WHERE lower(stage) IN ('closed won', 'won')) / count(*) "
                             "FROM crm_deals WHERE closed_at IS NOT NULL GROUP BY 1").fetchall())
    assert 0.7 < rates["renewal"] < 0.9 and rates["new_business"] < rates["expansion"] < rates["renewal"]


def test_reps_belong_to_one_team_each(con):
    teams = dict(con.execute("SELECT team, count(*) FROM crm_users GROUP BY 1").fetchall())
    assert set(teams) == {"SMB Americas", "SMB International", "Mid-Market", "Enterprise", "Account Management"}
    assert 10 <= sum(teams.values()) <= 30 and min(teams.values()) >= 1
    assert one(con, "SELECT count(DISTINCT name) = count(*) FROM crm_users")
    twenty = duckdb.connect()
    generate(twenty, deals=20_000, until=UNTIL)
    assert one(twenty, "SELECT count(*) FROM crm_users") == 20


def test_referential_integrity(con):
    orphans = {
        "deal account": "FROM crm_deals WHERE account_id NOT IN (SELECT account_id FROM crm_accounts)",
        "deal lead": "FROM crm_deals WHERE lead_id IS NOT NULL AND lead_id NOT IN (SELECT lead_id FROM crm_leads)",
        "deal owner": "FROM crm_deals WHERE owner_id NOT IN (SELECT user_id FROM crm_users)",
        "lead owner": "FROM crm_leads WHERE owner_id NOT IN (SELECT user_id FROM crm_users)",
        "lead account": "FROM crm_leads WHERE account_id NOT IN (SELECT account_id FROM crm_accounts)",
        "user office": "FROM crm_users WHERE office_id NOT IN (SELECT office_id FROM crm_offices)",
    }
    for name, sql in orphans.items():
        assert one(con, f"SELECT count(*) {sql}") == 0, name
    # A deal from a lead inherits its account; the lead's segment/region are the account's.
    assert one(con, """SELECT count(*) FROM crm_deals d JOIN crm_leads l USING (lead_id)
                       JOIN crm_accounts a ON a.account_id = d.account_id
                       WHERE l.account_id <> d.account_id OR l.segment <> a.segment OR l.region <> a.region
                          OR d.created_at < CAST(l.created_at AS DATE)
                          OR d.created_at > CAST(l.created_at AS DATE) + 30""") == 0
    # New business: the team of the account's segment (SMB by region); renewals and expansions: account
    # management (compare on the clean spelling).
    assert one(con, """SELECT count(*) FROM crm_deals d JOIN crm_users u ON u.user_id = d.owner_id
                       JOIN crm_accounts a USING (account_id)
                       WHERE a.segment IN ('SMB', 'Mid-Market', 'Enterprise') AND u.team <> CASE
                         WHEN d.deal_type <> 'new_business' THEN 'Account Management'
                         WHEN a.segment <> 'SMB' THEN a.segment
                         WHEN a.region IN ('North America', 'LATAM') THEN 'SMB Americas'
                         ELSE 'SMB International' END""") == 0


def test_converted_exactly_for_leads_with_deal(con):
    assert one(con, """SELECT count(*) FROM crm_leads l
                       WHERE (l.status = 'converted') <> (l.lead_id IN (SELECT lead_id FROM crm_deals
                                                                        WHERE lead_id IS NOT NULL))""") == 0
    share = one(con, "SELECT count(lead_id) / count(*) FROM crm_deals")
    assert 0.8 < share < 0.9


def test_dirty_rows_present(con):
    assert one(con, "SELECT count(*) FROM crm_deals WHERE stage NOT IN ('Prospecting','Qualification','Proposal',"
                    "'Negotiation','Closed Won','Closed Lost')") > 0
    assert one(con, "SELECT count(*) FROM crm_accounts WHERE segment NOT IN ('SMB','Mid-Market','Enterprise')") > 0
    assert one(con, "SELECT count(*) FROM crm_deals WHERE closed_at < created_at") > 0
    assert one(con, "SELECT count(*) FROM crm_leads WHERE source NOT IN ('webinar','organic','paid_search',"
                    "'referral','outbound','event','partner')") > 0


def test_column_types(con):
    types = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                             "WHERE table_name = 'crm_leads'").fetchall())
    assert types["created_at"] == "TIMESTAMP"
    deals = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                             "WHERE table_name = 'crm_deals'").fetchall())
    assert deals["amount"] == "DOUBLE" and deals["closed_at"] == "DATE"
    assert one(con, "SELECT min(deal_id) FROM crm_deals") == "D00000001"
    assert one(con, "SELECT min(account_id) FROM crm_accounts") == "A0000001"
