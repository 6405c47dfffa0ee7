"""The "Data quality" tab: kpi doctor's findings as cells, numbers as numbers (tests/test_doctor.py's planted CRM)."""

from __future__ import annotations

from metrics_core import KPI
from metrics_core.backends.duckdb import DuckDBBackend
from sheets.quality import HEAD, layout_quality
from test_doctor import AS_OF, DATA, FIXTURE


def _report():
    backend = DuckDBBackend(":memory:")
    backend.connection.execute(DATA)
    return KPI.from_text(FIXTURE.read_text(), backend=backend).doctor(as_of=AS_OF)


def test_one_row_per_finding_worst_first_with_hand_counted_numbers() -> None:
    report = _report()
    lay = layout_quality("quality", "Data quality", report)
    assert lay.cell("A1").value.startswith("Data quality as of 2026-05-10 · shifts counted in ")
    assert tuple(c.value for c in lay.rows[1]) == HEAD
    body = lay.rows[2:]
    assert len(body) == len(report.findings)
    assert [r[0].value for r in body][:2] == ["error", "warning"] and body[-1][0].value == "info"
    row = next(r for r in body if r[1].value == "no_value")  # D5: won in April with no amount, of 4 such rows
    assert [c.value for c in row[2:10]] == ["deals", "won_amount", 1, 1, 4, 0.25, "avg_deal_size, deal_value_per_day", "D5"]
    assert row[7].fmt is not None and row[7].fmt.type == "PERCENT"
    assert body[0][0].tone == "bad"


def test_no_findings_says_so() -> None:
    report = _report()
    clean = type(report)(report.as_of, report.period, report.tables, ())
    lay = layout_quality("quality", "Data quality", clean)
    assert lay.cell("A3").value == "No problems found."


def test_maturing_conversion_values_are_grey() -> None:
    """lead_to_win_rate for recent months may still rise: those cells are drawn grey (tone 'maturing')."""
    from datetime import date, datetime, timezone

    from sheets.layout import RGB, layout_tab
    from sheets.report import MetricRow, PeriodColumn, TabData

    periods = (PeriodColumn("Sep 2026", date(2026, 9, 1), date(2026, 9, 30)),
               PeriodColumn("Oct 2026", date(2026, 10, 1), date(2026, 10, 31)))
    row = MetricRow("lead_to_win_rate", "Lead-to-win rate", "percent", None, (0.035, 0.021), maturing=(False, True))
    lay = layout_tab(TabData("m", "KPIs", "month", periods, (row,), datetime(2026, 11, 27, tzinfo=timezone.utc), "UTC",
                             targets=False))
    assert (lay.cell("B3").value, lay.cell("B3").tone) == (0.035, None)
    assert (lay.cell("C3").value, lay.cell("C3").tone) == (0.021, "maturing") and "maturing" in RGB


def test_maturing_flags_follow_the_series_shares() -> None:
    """A bucket with any share of its cohort still inside the window is flagged; a closed one is not."""
    from sheets.compute import _maturing
    from sheets.report import PeriodColumn
    from datetime import date

    import pandas as pd

    series = pd.DataFrame({"start": [date(2026, 1, 1), date(2026, 2, 1)], "maturing": [0.0, 0.5]})
    periods = (PeriodColumn("Jan", date(2026, 1, 1), date(2026, 1, 31)), PeriodColumn("Feb", date(2026, 2, 1), date(2026, 2, 28)))
    assert _maturing(series, periods, None, None) == (False, True)


def _noted_tab():  # noqa: ANN202
    from datetime import date, datetime, timezone

    from sheets.layout import layout_tab
    from sheets.report import MetricRow, PeriodColumn, TabData

    periods = (PeriodColumn("Sep 2026", date(2026, 9, 1), date(2026, 9, 30)),
               PeriodColumn("Oct 2026", date(2026, 10, 1), date(2026, 10, 31)))
    row = MetricRow("lead_to_win_rate", "Lead-to-win rate", "percent", None, (0.035, 0.021), maturing=(False, True),
                    notes=("3 leads have no created_at, so no period counts them.",))
    return layout_tab(TabData("m", "KPIs", "month", periods, (row,), datetime(2026, 11, 27, tzinfo=timezone.utc), "UTC",
                              targets=False))


def test_maturing_cells_and_left_out_rows_carry_a_note() -> None:
    """The grey cell says why it is grey; the metric's label carries the answer's fine print (rows left out)."""
    lay = _noted_tab()
    assert lay.cell("C3").note.startswith("still maturing: ") and lay.cell("B3").note is None
    assert lay.cell("A3").note == "3 leads have no created_at, so no period counts them."


def test_notes_reach_the_sheets_batch_and_the_xlsx(tmp_path) -> None:  # noqa: ANN001
    from openpyxl import load_workbook

    from sheets.cells import CELL_FIELDS, update_cells
    from sheets.xlsx import write_xlsx

    lay = _noted_tab()
    req = update_cells(lay, 7, lay.n_rows, lay.n_cols)[0]["updateCells"]
    assert "note" in CELL_FIELDS.split(",") and req["fields"] == CELL_FIELDS  # a cell without a note loses a stale one
    row3 = req["rows"][2]["values"]
    assert row3[0]["note"].startswith("3 leads") and row3[2]["note"].startswith("still maturing") and "note" not in row3[1]
    path = tmp_path / "kpi.xlsx"
    write_xlsx([lay], path)
    ws = load_workbook(path).worksheets[0]
    assert ws["C3"].comment.text.startswith("still maturing") and ws["A3"].comment.text.startswith("3 leads")
    assert ws["B3"].comment is None


def _tab_of(kpi, tab, as_of):  # noqa: ANN001, ANN202
    from datetime import datetime, timezone

    from sheets.compute import Computer, compute_tab

    return compute_tab(Computer(kpi, as_of=as_of, workers=1), tab, datetime(2026, 5, 10, tzinfo=timezone.utc), "UTC")


def test_breakdown_blocks_grey_each_groups_maturing_cells() -> None:
    """lead_to_win_rate by source on the ten-deal CRM (tests/test_metrics_handmade.py), as of May 10: a 90-day
    window is open for leads from Feb 10 on: organic's L7 (Feb) and L6 (Mar), webinar's L5 (Mar); webinar's
    January lead L2 and paid_search's L3 have closed."""
    from datetime import date

    from metrics_core import KPI
    from metrics_core.backends.duckdb import DuckDBBackend
    from sheets.config import BreakdownConfig, TabConfig
    from sheets.layout import layout_tab
    from test_metrics_handmade import DATA as HANDMADE, FIXTURE as HANDMADE_YAML

    backend = DuckDBBackend(":memory:")
    backend.connection.execute(HANDMADE)
    kpi = KPI.from_text(HANDMADE_YAML.read_text(), backend=backend)
    tab = TabConfig(name="Leads", metrics=["lead_to_win_rate"], grain="month", periods=5,
                    breakdown=BreakdownConfig(by="source"), targets=False)
    data = _tab_of(kpi, tab, date(2026, 5, 10))
    assert [p.label for p in data.periods] == ["Jan 2026", "Feb 2026", "Mar 2026"]  # no leads in April or May
    grey = {r.group: r.maturing for r in data.rows}
    assert grey["organic"] == (False, True, True)
    assert grey["webinar"] == (False, False, True)
    assert grey["paid_search"] == (False,) * 3
    lay = layout_tab(data)
    organic = next(n for n, row in enumerate(lay.rows, 1) if row and row[0].value == "Source: organic") + 1
    assert [lay.cell(f"{c}{organic}").tone for c in "BCD"] == [None, "maturing", "maturing"]
    assert lay.cell(f"C{organic}").note.startswith("still maturing")


def test_cells_whose_rows_were_left_out_say_so_in_their_note() -> None:
    """revenue by segment on the eight-deal CRM (tests/test_excluded_rows.py): February lost SMB's D3 (no amount);
    ENT's February counts D4's negative amount; nothing else is noted."""
    from datetime import date

    from metrics_core import KPI
    from metrics_core.backends.duckdb import DuckDBBackend
    from sheets.cells import update_cells
    from sheets.config import BreakdownConfig, TabConfig
    from sheets.layout import layout_tab
    from test_excluded_rows import DATA as EIGHT, YAML as EIGHT_YAML

    backend = DuckDBBackend(":memory:")
    backend.connection.execute(EIGHT)
    kpi = KPI.from_text(EIGHT_YAML, backend=backend)
    tab = TabConfig(name="Revenue", metrics=["revenue"], grain="month", periods=3,
                    breakdown=BreakdownConfig(by="segment", style="rows"), targets=False)
    data = _tab_of(kpi, tab, date(2026, 3, 31))
    notes = {r.group: r.excluded for r in data.rows}
    assert notes == {"ENT": (None, "1 won deal in this period has a negative amount: counted as it is.", None),
                     "SMB": (None, "1 won deal in this period has no amount: not counted.", None)}
    lay = layout_tab(data)
    smb = next(n for n, row in enumerate(lay.rows, 1) if len(row) > 1 and row[1].value == "SMB")
    few = "⚠ small sample: only 1 row behind this number"  # every cell here rests on one deal
    assert [lay.cell(f"{c}{smb}").note for c in "CDE"] == [
        None, few + "\n1 won deal in this period has no amount: not counted.", None]  # no SMB deal in Jan or Mar
    assert [lay.cell(f"{c}{smb - 1}").note for c in "CDE"] == [
        few, few + "\n1 won deal in this period has a negative amount: counted as it is.", few]
    batch = update_cells(lay, 7, lay.n_rows, lay.n_cols)[0]["updateCells"]["rows"][smb - 1]["values"]
    assert [v.get("note") for v in batch[2:5]] == [None, few + "\n1 won deal in this period has no amount: not counted.",
                                                  None]


def test_small_sample_cells_in_polish() -> None:
    from datetime import date, datetime, timezone

    from metrics_core.i18n import use_locale
    from sheets.layout import layout_tab
    from sheets.report import MetricRow, PeriodColumn, TabData

    periods = (PeriodColumn("wrz 2026", date(2026, 9, 1), date(2026, 9, 30)),)
    row = MetricRow("clv", "CLV", "currency", "PLN", (4867470.0,), small=(3,))
    with use_locale("pl_PL"):
        lay = layout_tab(TabData("m", "KPI", "month", periods, (row,), datetime(2026, 11, 27, tzinfo=timezone.utc),
                                 "UTC", targets=False, locale="pl_PL"))
    assert lay.cell("B3").note.startswith("⚠ mała próba") and "3" in lay.cell("B3").note
