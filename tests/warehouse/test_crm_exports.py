"""The example definitions read real-looking CRM exports as the vendors write them.

Each fixture under examples/<vendor>/ has CRLF line endings, empty fields on open deals, amounts
with thousands separators or currency symbols, a company/account name spelled differently in the
two files, and dates in the exporting user's locale. The numbers below are worked out by hand
from the CSV rows; the period is 2026-Q1 (Jan 1 .. Mar 31), asked on 2026-04-15.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from metrics_core.api import KPI

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
AS_OF = date(2026, 4, 15)


def kpi(vendor: str) -> KPI:
    return KPI.from_path(EXAMPLES / vendor / "definitions.yaml")


def ask(vendor: str, text: str):
    return kpi(vendor).query(text, as_of=AS_OF)


def by(result, dim: str) -> dict[str, float]:
    return {row[dim]: row["value"] for row in result.breakdown.to_dict("records")}


@pytest.mark.parametrize("vendor", ["hubspot", "salesforce", "pipedrive"])
def test_fixtures_keep_vendor_quirks(vendor: str) -> None:
    """Guards the fixtures themselves (a checkout with autocrlf must not 'fix' them)."""
    for csv in (EXAMPLES / vendor).glob("*.csv"):
        raw = csv.read_bytes()
        assert raw.count(b"\r\n") == raw.count(b"\n") > 3, f"{csv.name}: not CRLF throughout"
    assert (EXAMPLES / vendor / "README.md").is_file()


def test_hubspot_win_rate_and_deal_size() -> None:
    # Closed in Q1: won 15031 (12,500), 15033 (7,250.50, closed 03/31 23:10), 15039 (18,000),
    # 15042 (2,100); lost 15032, 15034 (no amount), 15040. Not in Q1: 15037 (04/01 00:15),
    # 15038 (12/31/2025). Open with empty Close Date: 15035, 15036, 15041.
    win = ask("hubspot", "win_rate 2026-Q1")
    assert win.value == pytest.approx(4 / 7, rel=1e-12)
    assert {c.role: c.value for c in win.components} == {"numerator": 4, "denominator": 7}
    size = ask("hubspot", "avg_deal_size 2026-Q1")
    assert size.value == pytest.approx((12_500 + 7_250.50 + 18_000 + 2_100) / 4, rel=1e-12)  # 9,962.625


def test_hubspot_join_matches_company_names_across_case_and_spacing() -> None:
    # "Acme Corp" (deals) = "ACME  Corp" (companies), "GLOBEX" = "Globex", "Initech " = "initech" = "Initech"
    rates = by(ask("hubspot", "win_rate 2026-Q1 by industry"), "industry")
    assert rates == pytest.approx({"Manufacturing": 2 / 3, "Computer Software": 1.0,
                                   "Hospital & Health Care": 0.0, "Food & Beverages": 0.0})


def test_salesforce_win_rate_and_deal_size() -> None:
    # dd/mm/yyyy: 12/03/2026 is 12 March (in Q1), 02/04/2026 is 2 April (not). Closed in Q1:
    # won £12,000.00, £1,250.50, £6,600.00, £2,149.50; lost Brightwell pilot, Dunmore (no amount).
    # Evergreen (Prospecting) has a Close Date in Q1 but is open: not counted.
    win = ask("salesforce", "win_rate 2026-Q1")
    assert win.value == pytest.approx(4 / 6, rel=1e-12)
    size = ask("salesforce", "avg_deal_size 2026-Q1")
    assert size.value == pytest.approx((12_000 + 1_250.50 + 6_600 + 2_149.50) / 4, rel=1e-12)  # 5,500
    assert size.formatted == "£5,500"


def test_salesforce_breakdown_by_billing_country() -> None:
    # UK: Acme won x2, Brightwell lost + won ("brightwell PLC" = "Brightwell PLC") -> 3/4; Ireland 1/2
    rates = by(ask("salesforce", "win_rate 2026-Q1 by country"), "country")
    assert rates == pytest.approx({"United Kingdom": 0.75, "Ireland": 0.5})


def test_pipedrive_win_rate_and_deal_size() -> None:
    # Status decides won/lost; close = Won time or Lost time (dd.mm.yyyy hh:mm). Q1: won 101
    # (12.500,00 €), 103 (7.250,50 €), 107 (18.000,00 €), 109 (1.149,50 €); lost 102, 104 (no value),
    # 111. Not in Q1: 106 (won 01.04.2026), 108 (lost 30.12.2025). Open: 105, 110.
    win = ask("pipedrive", "win_rate 2026-Q1")
    assert win.value == pytest.approx(4 / 7, rel=1e-12)
    size = ask("pipedrive", "avg_deal_size 2026-Q1")
    assert size.value == pytest.approx((12_500 + 7_250.50 + 18_000 + 1_149.50) / 4, rel=1e-12)  # 9,725


def test_pipedrive_join_matches_organization_names() -> None:
    # "Keller  AG" = "KELLER AG", "schulz kg" = "Schulz KG", "Hofmann Logistik " = "Hofmann Logistik"
    rates = by(ask("pipedrive", "win_rate 2026-Q1 by industry"), "industry")
    assert rates == pytest.approx({"Software": 1.0, "Manufacturing": 0.5, "Logistics": 0.0})
