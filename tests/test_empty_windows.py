"""Windows no row falls in (statement.complete).

The answer's statement returns rows for the windows its tables have rows in; it no longer groups a
spine row per window. A window without rows (a quarter after the data ends, the empty months of a
series) gets its totals over no rows from the compiled ``empty_sql``: counts and sums 0, a ratio of
them no value. The demo data ends on 2026-11-27, so 2031 is empty; the expected values follow from
that by hand (0 rows counted; 0 / 0 has no value).
"""

from __future__ import annotations

from datetime import date

import pytest

from metrics_core import KPI
from metrics_core.columns import Columns
from metrics_core.statement import complete
from cli_demo import demo_kpi  # tests/ helper (on sys.path via conftest)

AS_OF = date(2026, 11, 27)


@pytest.fixture(scope="module")
def kpi() -> KPI:
    return demo_kpi()


def _totals(rows: Columns, broken: bool) -> dict[int, dict]:
    return {int(r["pid"]): r for r in rows.records() if r["g"] == (1 if broken else 0)}


@pytest.mark.parametrize(("text", "value"), [
    ("new_leads 2031-Q1", 0.0),         # a count over no rows
    ("new_leads 2031-Q1 by segment", 0.0),
    ("win_rate 2031-Q1", None),         # 0 won of 0 closed: no value
    ("avg_deal_size 2031-Q1", None),    # an average over no rows
    ("cac 2031-Q1", None),              # $0 spend over 0 new customers
    ("conversion_rate 2031-Q1", None),
    ("cac_payback_months 2031-Q1", None),  # derived: cac over a monthly margin, both without value
])
def test_an_empty_window_gets_its_totals_from_the_empty_statement(kpi: KPI, text: str, value: float | None) -> None:
    c = kpi.compiled(kpi.plan(text, as_of=AS_OF).query)
    broken = bool(c.dim_cols)
    rows = kpi.backend.run(c.sql, c.params)
    assert 0 not in _totals(rows, broken)  # the statement itself says nothing of the empty window
    done = complete(c, rows, kpi.backend.run)
    assert set(_totals(done, broken)) == set(c.pids) == {0, 1}
    answer = kpi.query(text, as_of=AS_OF, use_cache=False)
    assert answer.value == value
    assert answer.comparison is not None and answer.comparison.value == value  # 2030-Q4 is empty too
    if broken:
        assert len(answer.breakdown_columns) == 0  # no segment has a row


def test_empty_months_of_a_series_count_zero(kpi: KPI) -> None:
    later = date(2027, 6, 30)  # the last 12 whole months before it; data until Nov 27, 2026
    counts = kpi.query("new_leads last-12-months grain month", as_of=later, use_cache=False).series_columns
    rates = kpi.query("win_rate last-12-months grain month", as_of=later, use_cache=False).series_columns
    assert len(counts) == len(rates) == 12
    for start, n, rate in zip(counts["start"], counts["value"], rates["value"]):
        if start >= date(2026, 12, 1):
            assert n == 0.0 and rate is None, start
        else:
            assert n > 0 and rate is not None, start
    raw = kpi.backend.connection.execute(
        "SELECT count(*) FROM crm_leads WHERE created_at >= TIMESTAMP '2026-07-01 04:00:00' "
        "AND created_at < TIMESTAMP '2026-08-01 04:00:00'").fetchone()[0]  # July in New York (UTC-4)
    assert counts["value"][list(counts["start"]).index(date(2026, 7, 1))] == raw


def test_complete_runs_nothing_when_every_window_has_rows(kpi: KPI) -> None:
    c = kpi.compiled(kpi.plan("win_rate last-quarter by segment", as_of=AS_OF).query)
    rows = kpi.backend.run(c.sql, c.params)

    def refuse(sql: str, params: dict) -> Columns:
        raise AssertionError("no window was empty: no second statement")

    assert complete(c, rows, refuse) is rows


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "spark", "bigquery", "snowflake"])
def test_the_empty_statement_of_every_shipped_metric_reads_in_its_dialect(kpi: KPI, dialect: str) -> None:
    """DuckDB text in Compiled, transpiled for the other engines only when a window is empty; it reads
    no table (no parameters either), so a window's totals over no rows never touch the warehouse's data."""
    import sqlglot
    from sqlglot import exp

    from metrics_core.compile import compile_query
    from metrics_core.statement import empty_statement

    for metric, m in kpi.definitions.metrics.items():
        text = f"{metric} last-quarter" + ("" if m.type == "constant" else " by segment")
        c = compile_query(kpi.catalog, kpi.calendar, kpi.plan(text, as_of=AS_OF).query, dialect)
        tree = sqlglot.parse_one(empty_statement(c), read=dialect)
        tables = {t.name for t in tree.find_all(exp.Table)}
        assert tables <= {"periods", "u", "a"}, (metric, dialect, tables)
