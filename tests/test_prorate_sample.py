"""Prorated monthly measures: an honest sample size, and proration refused at load for non-sums (issue 12).

The handmade data (tests/test_metrics_handmade.py): spend rows dated on the 1st of their month,
marketing+sales counted: Jan 1,000 + 500 (two rows), Feb 2,000, Mar 300, Apr 400 (one row each).
"""

from __future__ import annotations

from datetime import date

import pytest
from test_metrics_handmade import DATA, FIXTURE

from metrics_core import KPI
from metrics_core.backends.duckdb import DuckDBBackend
from metrics_core.errors import DefinitionError
from metrics_core.load import parse_definitions

AS_OF = date(2026, 5, 10)
SPEND = "    columns: {month: date, kind: string, segment: string, amount: number}\n"
MONTHLY = SPEND + "    grain: month\n    partial: prorate\n"
EXTRA = "  spend_total: {measure: spend, format: currency}\n"


@pytest.fixture(scope="module")
def kpi() -> KPI:
    backend = DuckDBBackend(":memory:")
    backend.connection.execute(DATA)
    return KPI(parse_definitions(FIXTURE.read_text().replace(SPEND, MONTHLY, 1) + EXTRA), backend=backend)


def test_a_cut_month_counts_as_its_share_of_a_row(kpi: KPI) -> None:
    """Jan 1 - Feb 14: both January rows whole, half of February's one row (14 of 28 days) -> 2.5 rows,
    2 whole rows (it counted 3 before: the half month as a whole row)."""
    r = kpi.query("spend_total 2026-01-01..2026-02-14", as_of=AS_OF)
    assert r.value == pytest.approx(1000 + 500 + 2000 * 14 / 28)
    assert r.sample_size == 2
    assert r.components[0].rows == 2


def test_whole_months_count_whole_rows(kpi: KPI) -> None:
    """Q1: Jan's two rows, Feb's and Mar's one (the 'other' March row is filtered out) -> 4, no float noise."""
    assert kpi.query("spend_total 2026-Q1", as_of=AS_OF).sample_size == 4
    weeks = kpi.query("spend_total 2026-03 grain week", as_of=AS_OF).series
    # March's one row spread over six weeks (1, 7, 7, 7, 7, 2 of its 31 days): no week has a whole row
    assert list(weeks["sample_size"]) == [0, 0, 0, 0, 0, 0]
    assert all(weeks["small_sample"])


def test_a_week_of_spend_is_a_small_sample(kpi: KPI) -> None:
    r = kpi.query("spend_total 2026-03-02..2026-03-08", as_of=AS_OF)
    assert r.value == pytest.approx(300 * 7 / 31)
    assert r.sample_size == 0 and r.small_sample


@pytest.mark.parametrize("agg", ["avg", "min", "max", "count_distinct", "count"])
def test_prorate_on_a_non_sum_is_a_definition_error_with_its_line(agg: str) -> None:
    text = FIXTURE.read_text().replace(SPEND, MONTHLY, 1)
    expr = "" if agg == "count" else ", expr: amount"
    text += f"  spend_{agg}: {{measure: spend_{agg}}}\n"
    text = text.replace("\nmetrics:\n", f"\n  spend_{agg}: {{table: spend, agg: {agg}{expr}}}\nmetrics:\n", 1)
    with pytest.raises(DefinitionError) as e:
        parse_definitions(text, source="definitions.yaml")
    lines = text.splitlines()
    line = next(i for i, s in enumerate(lines, 1) if s.strip() == "partial: prorate")
    msg = str(e.value)
    assert f"definitions.yaml:{line}:" in msg
    assert f"measure 'spend_{agg}': partial: prorate spreads sums over the days of each month; agg {agg} cannot" in msg
    assert f"give measure 'spend_{agg}' partial: refuse" in msg


def test_the_hint_works_partial_refuse_on_the_measure_loads() -> None:
    text = FIXTURE.read_text().replace(SPEND, MONTHLY, 1)
    text = text.replace("\nmetrics:\n", "\n  spend_avg: {table: spend, agg: avg, expr: amount, partial: refuse}\nmetrics:\n", 1)
    assert "spend_avg" in parse_definitions(text).defs.measures


def test_measure_level_prorate_points_at_the_measure() -> None:
    text = FIXTURE.read_text().replace(SPEND, SPEND + "    grain: month\n", 1)
    text = text.replace("\nmetrics:\n", "\n  spend_max:\n    table: spend\n    agg: max\n    expr: amount\n"
                                         "    partial: prorate\nmetrics:\n", 1)
    with pytest.raises(DefinitionError) as e:
        parse_definitions(text, source="d.yaml")
    line = text.splitlines().index("    partial: prorate") + 1
    assert f"d.yaml:{line}: measures.spend_max.partial: measure 'spend_max'" in str(e.value)
