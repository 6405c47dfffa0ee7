"""The subscription example (examples/nrr): ARR as a running total and NRR over the trailing twelve
months, against numbers worked out by hand from its two CSV files; and the golden SQL of a running
total and of a trailing ratio in each dialect (refresh: KPI_UPDATE_SNAPSHOTS=1).

ARR changes: C1 +12,000 (2025-01-15), C2 +60,000 (02-01), C3 +24,000 (07-01), C1 +6,000 (09-01),
C2 -12,000 (2026-01-10), C4 +30,000 (02-01), C3 -24,000 (03-31). Monthly revenue is ARR / 12 at each
month's end; ``mrr_year_ago`` the same customer's a year earlier.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from metrics_core import KPI
from snapshot import assert_snapshot
from test_golden_sql import DIALECTS, golden_text

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "nrr"
SNAPSHOTS = Path(__file__).parent / "snapshots"
AS_OF = date(2026, 4, 15)


@pytest.fixture(scope="module")
def kpi() -> KPI:
    return KPI.from_path(EXAMPLE / "definitions.yaml")


def test_arr_is_the_running_sum_at_each_months_end(kpi: KPI) -> None:
    r = kpi.query("arr 2026-Q1 grain month vs last-year", as_of=AS_OF)
    # Dec 31, 2025: 12,000 + 60,000 + 24,000 + 6,000 = 102,000; Jan: -12,000; Feb: +30,000; Mar: -24,000
    assert list(r.series["value"]) == [90000, 120000, 96000]
    assert r.value == 96000
    assert r.comparison.value == 12000 + 60000  # Mar 31, 2025: C1 and C2
    by = {row["segment"]: row["value"] for _, row in kpi.query("arr 2026-Q1 by segment", as_of=AS_OF).breakdown.iterrows()}
    assert by == {"SMB": 12000 + 6000, "Enterprise": 60000 - 12000 + 30000}  # C3 churned on Mar 31


def test_nrr_over_the_trailing_twelve_months(kpi: KPI) -> None:
    # Apr 2025 .. Mar 2026; rows with revenue a year earlier: C1 Jan-Mar 2026 (1,500 vs 1,000 each),
    # C2 Feb-Mar 2026 (4,000 vs 5,000 each; C2 started Feb 1, 2025): 12,500 / 13,000
    r = kpi.query("nrr 2026-03", as_of=AS_OF)
    assert r.value == pytest.approx(12500 / 13000)
    assert [c.value for c in r.components] == [12500, 13000]
    by = {row["segment"]: row["value"] for _, row in kpi.query("nrr 2026-03 by segment", as_of=AS_OF).breakdown.iterrows()}
    assert by == pytest.approx({"SMB": 4500 / 3000, "Enterprise": 8000 / 10000})
    assert "trailing 12 months" in " ".join(r.notes)


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("question", ["arr 2026-Q1 grain month by segment", "nrr last-quarter vs last-year"])
def test_cumulative_golden_sql(kpi: KPI, dialect: str, question: str) -> None:
    sql, params = kpi.sql(question, as_of=date(2026, 11, 27), dialect=dialect)
    name = question.split()[0]
    # the example's CSV files are read by absolute path: the golden text names the checkout as <repo>
    text = golden_text(sql, params).replace(str(EXAMPLE.parent.parent.resolve()), "<repo>")
    assert_snapshot(SNAPSHOTS / dialect / "cumulative" / f"{name}.sql", text)
