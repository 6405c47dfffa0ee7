"""Table sources other than a table (CSV files, a SQL query), `kpi validate --check-data`, and
answers formatted for another locale. Numbers worked out by hand on five deals."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from metrics_core import KPI, DefinitionError, parse_definitions
from metrics_core.checkdata import check_data
from metrics_core.formatting import fmt_value

NBSP = "\u00a0"
# A CRM export as vendors write it: CRLF, US dates, amounts with currency and thousands separators,
# open deals with empty close dates, stages spelled two ways.
DEALS_CSV = (
    "Deal Id,Deal Stage,Create Date,Close Date,Amount\r\n"
    "1,Closed Won,01/05/2026,02/10/2026,\"$1,200.50\"\r\n"
    "2,closed won,01/20/2026,03/02/2026,\"$3,000.00\"\r\n"
    "3,Closed Lost,02/01/2026,03/15/2026,$800\r\n"
    "4,Negotiation,03/01/2026,,\"$5,000\"\r\n"
    "5,Closed Won,03/10/2026,04/02/2026,\"$10,000.00\"\r\n"
)

DEFS = """
version: 1
connection: "duckdb:///:memory:"
locale: {{locale: {locale}, currency: {currency}}}
tables:
  deals:
    source: {{files: deals.csv}}
    columns:
      deal_id: {{from: "Deal Id"}}
      stage: {{from: "Deal Stage", normalize: true, values: {{closed won: won, closed lost: lost}}, default: open}}
      created_at: {{type: date, from: "Create Date", format: "%m/%d/%Y"}}
      closed_at: {{type: date, from: "Close Date", format: "%m/%d/%Y"}}
      amount: {{type: number, from: "Amount", format: "1,234.56"}}
  big_deals:
    source: {{sql: "SELECT * FROM read_csv('{csv}', all_varchar = true) WHERE \\"Deal Id\\" IN ('2', '5')"}}
    columns:
      deal_id: {{from: "Deal Id"}}
      closed_at: {{type: date, from: "Close Date", format: "%m/%d/%Y"}}
measures:
  won: {{table: deals, agg: count, filter: "stage = 'won'", time: closed_at}}
  closed: {{table: deals, agg: count, filter: "stage IN ('won', 'lost')", time: closed_at}}
  won_amount: {{table: deals, agg: sum, expr: amount, filter: "stage = 'won'", time: closed_at, format: currency}}
  big: {{table: big_deals, agg: count, time: closed_at}}
metrics:
  win_rate: {{numerator: won, denominator: closed, format: percent}}
  revenue: {{measure: won_amount, format: {{kind: currency, decimals: 2}}}}
  big_deals: {{measure: big}}
"""


def kpi_for(tmp_path: Path, locale: str = "en_US", currency: str = "USD") -> KPI:
    csv = tmp_path / "deals.csv"
    csv.write_bytes(DEALS_CSV.encode())
    text = DEFS.format(locale=locale, currency=currency, csv=csv)
    return KPI.from_text(text, base_dir=tmp_path)


def test_csv_export_through_renames_formats_and_mappings(tmp_path: Path) -> None:
    kpi = kpi_for(tmp_path)
    q1 = kpi.query("win_rate 2026-Q1", as_of=date(2026, 5, 1))
    assert q1.value == pytest.approx(2 / 3)  # deals 1, 2 won; 3 lost; 4 open; 5 closes in April
    assert kpi.query("revenue 2026-Q1", as_of=date(2026, 5, 1)).value == pytest.approx(1200.50 + 3000.00)
    assert kpi.query("revenue 2026-04", as_of=date(2026, 5, 1)).value == pytest.approx(10000.0)


def test_sql_query_source(tmp_path: Path) -> None:
    kpi = kpi_for(tmp_path)
    assert kpi.query("big_deals 2026-03", as_of=date(2026, 5, 1)).value == 1  # deal 2 (deal 5 is April)


def test_polish_locale_formats_numbers_and_labels(tmp_path: Path) -> None:
    kpi = kpi_for(tmp_path, "pl_PL", "PLN")
    r = kpi.query("revenue 2026-Q1", as_of=date(2026, 5, 1))
    assert r.formatted == f"4{NBSP}200,50{NBSP}zł"
    assert kpi.query("win_rate 2026-Q1", as_of=date(2026, 5, 1)).formatted == "66,7%"


def test_babel_formats_from_the_issue() -> None:
    assert fmt_value(1234.56, "currency", "pl_PL", currency="PLN", decimals=2) == f"1{NBSP}234,56{NBSP}zł"
    assert fmt_value(0.273, "percent", "pl_PL") == "27,3%"
    assert fmt_value(0.273, "percent", "en_US") == "27.3%"
    assert fmt_value(1234.56, "currency", "en_US", currency="USD", decimals=2) == "$1,234.56"
    assert fmt_value(None, "percent") == "–"


def test_check_data_names_a_column_missing_from_the_source(tmp_path: Path) -> None:
    csv = tmp_path / "deals.csv"
    csv.write_bytes(DEALS_CSV.encode())
    ok = parse_definitions(DEFS.format(locale="en_US", currency="USD", csv=csv), base_dir=tmp_path, sections=False)
    check_data(ok)  # every declared column exists: no error
    broken = DEFS.format(locale="en_US", currency="USD", csv=csv).replace('from: "Amount"', 'from: "Amount USD"')
    loaded = parse_definitions(broken, base_dir=tmp_path, sections=False)
    with pytest.raises(DefinitionError) as err:
        check_data(loaded)
    text = str(err.value)
    assert "column 'Amount USD' not found in the source of table 'deals'" in text
    assert "did you mean 'Amount'" in text
    assert "definitions.yaml:" in text and "tables.deals.columns.amount" in text


def test_a_column_missing_from_the_data_is_a_user_error_not_a_crash(tmp_path: Path) -> None:
    """Regression: DuckDB's binder error for a declared column the CSV lacks reached the user raw."""
    from metrics_core import DataError

    csv = tmp_path / "deals.csv"
    csv.write_bytes(DEALS_CSV.encode())
    text = DEFS.format(locale="en_US", currency="USD", csv=csv).replace('from: "Amount"', 'from: "Amount USD"')
    kpi = KPI.from_text(text, base_dir=tmp_path)
    with pytest.raises(DataError, match="check-data"):
        kpi.query("revenue 2026-Q1", as_of=date(2026, 5, 1))
