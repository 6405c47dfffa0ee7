"""Every answer says which rows its measures left out, and why (issue 12, "a note when rows were excluded").

Eight deals, worked by hand for 2026-Q1 (as of 2026-05-10):

    id  stage  segment  created     closed      amount
    D1  won    ENT      2026-01-02  2026-01-10    100
    D2  won    SMB      2026-01-03  (none)        200   no close date: no period counts it (won, closed)
    D3  won    SMB      2026-01-05  2026-02-01  (none)  no amount: revenue/avg skip it in Q1
    D4  won    ENT      2026-01-06  2026-02-15    -50   negative amount: counted as it is
    D5  lost   ENT      2026-02-01  2026-03-01     10
    D6  won    SMB      2025-11-01  2025-12-01  (none)  no amount, but closed in 2025-Q4: not in Q1
    D7  lost   SMB      2026-02-02  (none)         30   no close date (closed only)
    D8  won    ENT      2026-03-10  2026-03-05    300   closed before created: cycle counts -5 days
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from metrics_core import KPI
from metrics_core.backends.duckdb import DuckDBBackend

AS_OF = date(2026, 5, 10)
DATA = """
CREATE TABLE deals AS SELECT id, stage, segment, CAST(c AS DATE) AS created_at, CAST(cl AS DATE) AS closed_at,
       CAST(am AS DOUBLE) AS amount
FROM (VALUES ('D1', 'won', 'ENT', '2026-01-02', '2026-01-10', 100), ('D2', 'won', 'SMB', '2026-01-03', NULL, 200),
             ('D3', 'won', 'SMB', '2026-01-05', '2026-02-01', NULL), ('D4', 'won', 'ENT', '2026-01-06', '2026-02-15', -50),
             ('D5', 'lost', 'ENT', '2026-02-01', '2026-03-01', 10), ('D6', 'won', 'SMB', '2025-11-01', '2025-12-01', NULL),
             ('D7', 'lost', 'SMB', '2026-02-02', NULL, 30), ('D8', 'won', 'ENT', '2026-03-10', '2026-03-05', 300)
) t(id, stage, segment, c, cl, am);
"""
YAML = """
tables:
  deals:
    source: deals
    primary_key: id
    time: closed_at
    columns: {id: string, stage: string, segment: string, created_at: date, closed_at: date, amount: number}
    dimensions: {segment: segment}
measures:
  won: {table: deals, agg: count, filter: "stage = 'won'", label: won deals, forms: {one: won deal}}
  closed: {table: deals, agg: count, filter: "stage IN ('won', 'lost')", label: closed deals, forms: {one: closed deal}}
  revenue: {table: deals, agg: sum, expr: amount, filter: "stage = 'won'", label: won revenue}
  amount_all: {table: deals, agg: sum, expr: amount, label: all amounts}
  cycle: {table: deals, agg: avg, expr: "date_diff('day', created_at, closed_at)", filter: "stage = 'won'"}
  open: {table: deals, agg: count, snapshot: {from: created_at, to: closed_at}}
metrics:
  win_rate: {numerator: won, denominator: closed, format: percent}
  revenue: {measure: revenue, format: currency}
  amounts: {measure: amount_all}
  sales_cycle_days: {measure: cycle, format: days}
  open_deals: {measure: open}
  revenue_per_deal: {expr: revenue / win_rate}
"""


def kpi_on(text: str = YAML, **kw: object) -> KPI:
    backend = DuckDBBackend(":memory:")
    backend.connection.execute(DATA)
    return KPI.from_text(text, backend=backend, **kw)


@pytest.fixture(scope="module")
def kpi() -> KPI:
    return kpi_on()


def excluded(kpi: KPI, question: str) -> list[tuple[str, str, int]]:
    return [(e.measure, e.reason, e.count) for e in kpi.query(question, as_of=AS_OF).excluded]


def test_win_rate_says_deals_without_a_close_date_are_in_no_period(kpi: KPI) -> None:
    r = kpi.query("win_rate 2026-Q1", as_of=AS_OF)
    assert r.value == pytest.approx(4 / 5)  # won D1 D3 D4 D8 of closed D1 D3 D4 D5 D8
    assert [(e.measure, e.reason, e.count) for e in r.excluded] == [("won", "no_time", 1), ("closed", "no_time", 2)]
    assert r.notes == ("1 won deal has no closed_at, so no period counts it.",
                       "2 closed deals have no closed_at, so no period counts them.")
    assert r.to_json()["excluded"][1] == {"measure": "closed", "reason": "no_time", "count": 2,
                                          "note": "2 closed deals have no closed_at, so no period counts them."}


def test_a_sum_names_its_rows_by_the_count_with_the_same_filter(kpi: KPI) -> None:
    r = kpi.query("revenue 2026-Q1", as_of=AS_OF)
    assert r.value == pytest.approx(100 - 50 + 300)  # D3 has no amount; D2 has no close date
    assert [(e.reason, e.count) for e in r.excluded] == [("no_time", 1), ("no_value", 1), ("negative", 1)]
    assert r.notes == ("1 won deal has no closed_at, so no period counts it.",
                       "1 won deal in this period has no amount: not counted.",
                       "1 won deal in this period has a negative amount: counted as it is.")


def test_rows_without_a_count_measure_are_rows_of_the_table(kpi: KPI) -> None:
    r = kpi.query("amounts 2026-Q1", as_of=AS_OF)
    # no_time: D2 and D7; no amount in Q1: D3 (D6 closed in 2025); negative: D4
    assert [(e.reason, e.count) for e in r.excluded] == [("no_time", 2), ("no_value", 1), ("negative", 1)]
    assert r.notes[0] == "2 rows of deals read by all amounts have no closed_at, so no period counts them."


def test_dates_out_of_order_and_the_window_decides(kpi: KPI) -> None:
    assert excluded(kpi, "sales_cycle_days 2026-Q1") == [("cycle", "no_time", 1), ("cycle", "date_order", 1)]
    assert kpi.query("sales_cycle_days 2026-Q1", as_of=AS_OF).notes[1] == (
        "1 won deal in this period has closed_at before created_at: counted as it is.")
    # 2025-Q4: D6 has no amount there; D2 (no close date) is in no period, so still said
    assert excluded(kpi, "revenue 2025-Q4") == [("revenue", "no_time", 1), ("revenue", "no_value", 1)]
    assert excluded(kpi, "revenue 2026-Q2") == [("revenue", "no_time", 1)]


def test_filters_apply_to_the_counts(kpi: KPI) -> None:
    # SMB won deals: D2 (no close date), D3 (no amount in Q1), D6; the negative D4 is ENT
    assert excluded(kpi, "revenue 2026-Q1 where segment=SMB") == [("revenue", "no_time", 1), ("revenue", "no_value", 1)]
    assert excluded(kpi, "revenue 2026-Q1 where segment=ENT") == [("revenue", "negative", 1)]


def test_derived_metrics_count_every_measure_once_and_snapshots_drop_nothing(kpi: KPI) -> None:
    assert [m for m, _r, _n in excluded(kpi, "revenue_per_deal 2026-Q1")] == ["revenue"] * 3 + ["won", "closed"]
    assert excluded(kpi, "open_deals 2026-Q1") == []


def test_nothing_left_out_no_note(kpi: KPI) -> None:
    clean = kpi_on(YAML.replace("source: deals", "source: {sql: \"SELECT * FROM deals WHERE closed_at IS NOT NULL "
                                                "AND amount >= 0\"}"))
    r = clean.query("revenue 2026-Q1", as_of=AS_OF)
    assert r.excluded == () and r.notes == ()


def test_the_note_is_there_when_a_rollup_answers(tmp_path: Path) -> None:
    text = YAML + "rollups:\n  directory: rollups\n  by_day:\n    measures: [won, closed, revenue]\n    dimensions: [segment]\n"
    backend = DuckDBBackend(str(tmp_path / "crm.duckdb"))
    backend.connection.execute(DATA)
    served = KPI.from_text(text, base_dir=tmp_path, backend=backend)
    served.rollups.build()
    r = served.query("revenue 2026-Q1", as_of=AS_OF, use_cache=False)
    assert r.sql.startswith("-- answered from rollup by_day")
    raw = KPI.from_text(text, base_dir=tmp_path, backend=backend, rollups=False).query("revenue 2026-Q1", as_of=AS_OF)
    assert r.value == raw.value and r.notes == raw.notes and len(r.excluded) == 3


def test_polish_notes_use_polish_plurals() -> None:
    from metrics_core.i18n import use_locale

    k = kpi_on()
    with use_locale("pl_PL"):
        r = k.query("win_rate 2026-Q1", as_of=AS_OF)
    # the labels are the definitions' own words; the sentence and the number are Polish
    assert r.notes[1] == "2 closed deals: brak closed_at, więc żaden okres ich nie liczy."


def test_the_sheets_tab_carries_the_note_on_the_metric_label(kpi: KPI) -> None:
    """Sheets: a trend of revenue by quarter; the current quarter (2026-Q2 to date) has D2 with no close date."""
    from datetime import datetime, timezone

    from sheets.compute import Computer, compute_tab
    from sheets.config import TabConfig
    from sheets.layout import layout_tab

    tab = compute_tab(Computer(kpi, as_of=AS_OF), TabConfig(name="Q", metrics=["revenue"], grain="quarter", periods=2),
                      datetime(2026, 5, 10, tzinfo=timezone.utc), "UTC")
    assert tab.rows[0].notes == ("1 won deal has no closed_at, so no period counts it.",)
    assert layout_tab(tab).cell("A3").note == "1 won deal has no closed_at, so no period counts it."
