"""`kpi rows`: the records behind a number are exactly the rows the measure counts (DuckDB and
PostgreSQL), on the ten-deal CRM of test_metrics_handmade, plus the url: template and the CLI."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from test_cli import AS_OF as CLI_AS_OF, demo, kpi as run_cli  # noqa: F401  (demo: the CLI's demo fixture)
from test_metrics_handmade import AS_OF, DATA, FIXTURE, _duck

from metrics_core import KPI
from metrics_core.backends.duckdb import DuckDBBackend
from metrics_core.errors import DefinitionError, QueryError
from metrics_core.load import parse_definitions

URL = '    url: "https://crm.example.com/deals/{deal_id}?from={owner_id}"\n'
TEXT = FIXTURE.read_text().replace("      office: office.name\n", "      office: office.name\n" + URL, 1)


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def crm(request: pytest.FixtureRequest) -> KPI:
    if request.param == "duckdb":
        backend = DuckDBBackend(":memory:")
        backend.connection.execute(DATA)
        return KPI.from_text(TEXT, backend=backend)
    from warehouse.replicate import copy_to_postgres

    url = request.getfixturevalue("postgres_url")
    copy_to_postgres(_duck(), url)
    return KPI.from_text(TEXT, connection=url)


# (question, part): every count measure's total is its value; a sum's column adds up to it
COUNTS = [
    ("won_deals last-quarter", None),
    ("won_deals last-quarter where segment=SMB", None),
    ("win_rate last-quarter", "numerator"),
    ("win_rate last-quarter where segment != SMB or amount < 1000", "denominator"),
    ("win_rate fy2027-q1 where office in (Berlin) and closed_at >= 2026-03-01", None),
    ("new_customers last-quarter", None),            # first won deal per account
    ("open_deals last-quarter", None),               # open at the window's end
    ("new_leads 2026-03", None),                     # timestamps cut in New York: L6 is March
    ("lead_to_win_rate last-quarter where source != webinar", "base"),
    ("churn_rate 2026-Q2", "numerator"),
]


@pytest.mark.parametrize("question, part", COUNTS)
def test_the_total_is_the_count(crm: KPI, question: str, part: str | None) -> None:
    r = crm.rows(question, part=part, as_of=AS_OF)
    answer = crm.query(question, as_of=AS_OF)
    want = {c.name: c.value for c in answer.components}.get(r.measure, answer.value)
    assert r.total == want and len(r.rows) == r.total


@pytest.mark.parametrize("question, part", [("revenue last-quarter", None),
                                            ("revenue last-quarter where amount >= 2,000 or segment = smb", None),
                                            ("cac last-quarter", "numerator")])  # spend dated by month, whole months
def test_the_value_column_adds_up_to_the_sum(crm: KPI, question: str, part: str | None) -> None:
    r = crm.rows(question, part=part, as_of=AS_OF)
    answer = crm.query(question, as_of=AS_OF)
    want = {c.name: c.value for c in answer.components}.get(r.measure, answer.value)
    assert sum(row[r.value_column] for row in r.records()) == pytest.approx(want)


def test_won_deals_by_hand(crm: KPI) -> None:
    r = crm.rows("won_deals last-quarter", as_of=AS_OF)
    assert [row["deal_id"] for row in r.records()] == ["D1", "D3", "D2"]  # by close date
    assert r.columns[:2] == ("deal_id", "closed_at") and {"segment", "office", "source"} <= set(r.columns)
    assert r.urls[0] == "https://crm.example.com/deals/D1?from=U1"
    assert r.label == "won deals" and r.total == 3


def test_limit_keeps_the_total(crm: KPI) -> None:
    r = crm.rows("win_rate last-quarter", limit=2, as_of=AS_OF)
    assert (len(r.rows), r.total) == (2, 4)


@pytest.mark.parametrize("question, part, message", [
    ("win_rate last-quarter", "numeratr", "'win_rate' has no part 'numeratr' (did you mean 'numerator'?)"),
    ("pipeline_velocity last-quarter", None, "reads several measures; name one with --part"),
    ("gross_margin last-quarter", None, "is a constant; no rows are behind it"),
    ("won_deals last-quarter where amount > big", None, "amount is a number; 'big' is not"),
])
def test_errors(crm: KPI, question: str, part: str | None, message: str) -> None:
    with pytest.raises(QueryError, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        crm.rows(question, part=part, as_of=AS_OF)


def test_values_are_parameters(crm: KPI) -> None:
    evil = "x OR 1=1 --"
    with pytest.raises(QueryError, match="no row has segment"):  # a != typo is refused, after binding
        crm.rows(f"won_deals last-quarter where segment != '{evil}'", as_of=AS_OF)
    from metrics_core.compile_rows import rows_sql
    from metrics_core.filters import Cond

    q = crm.plan("won_deals last-quarter", as_of=AS_OF).query
    built = rows_sql(crm.catalog, crm.calendar, crm.definitions.measures["won"], q.slots[0].period,
                     (("segment", (evil,)),), Cond("source", "!=", (evil,)), limit=5, dialect="postgres")
    assert "1=1" not in built.sql and "1 = 1" not in built.sql and list(built.params.values()) == [evil.lower()] * 2


@pytest.mark.parametrize("url, message", [
    ("https://crm/deals/{dealid}", "definitions.yaml:{line}: tables.deals.url: url: '{dealid}' is not a column of "
                                   "table 'deals' (did you mean 'deal_id'"),
    ("https://crm/deals/{deal_id!r}", "'{deal_id!r}' is not a column"),
    ("https://crm/deals/{", "write column names in braces"),
    ("crm/deals/{deal_id}", "must start with https:// or http://"),
    ("https://crm/deals", "names no column"),
])
def test_url_templates_are_checked_with_their_line(url: str, message: str) -> None:
    text = TEXT.replace(URL, f'    url: "{url}"\n')
    line = text.splitlines().index(f'    url: "{url}"') + 1
    with pytest.raises(DefinitionError) as e:
        parse_definitions(text, source="definitions.yaml")
    assert message.replace("{line}", str(line)) in str(e.value)


# -- the command line, on the demo data -------------------------------------------------------------

def test_cli_rows_json_csv_and_table(demo: Path) -> None:  # noqa: F811
    q = "won_new_deals last-quarter where segment = SMB"
    answer = json.loads(run_cli(demo, "query", "win_rate last-quarter where segment = SMB", "--as-of", CLI_AS_OF,
                                "--json").stdout)["components"]["numerator"]  # won_new_deals: a measure, not a metric
    got = run_cli(demo, "rows", q, "--as-of", CLI_AS_OF, "--json", "--limit", "5")
    assert got.exit_code == 0, got.output
    out = json.loads(got.stdout)
    assert out["total"] == answer["value"] and out["shown"] == 5 and out["measure"] == "won_new_deals"
    assert all(row["segment"] == "SMB" for row in out["rows"])
    dates = [row["closed_at"] for row in out["rows"]]
    assert dates == sorted(dates)
    got = run_cli(demo, "rows", q, "--as-of", CLI_AS_OF, "--csv", "--limit", "3")
    table = list(csv.reader(io.StringIO(got.stdout)))
    assert table[0] == out["columns"] and len(table) == 4
    got = run_cli(demo, "rows", q, "--as-of", CLI_AS_OF, "--limit", "3")
    assert got.exit_code == 0 and f"{int(answer['value']):,} rows" in got.stdout and "showing the first 3" in got.stdout
    bad = run_cli(demo, "rows", "won_deals last-quarter", "--limit", "0")
    assert bad.exit_code == 1 and "--limit 0: use 1..10,000" in bad.stderr
