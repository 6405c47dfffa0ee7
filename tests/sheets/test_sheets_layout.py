"""The pure half: formats, cell positions, title line, the plan's requests (no server)."""

from __future__ import annotations

import json

import pytest
from sheets_support import monthly_tab, segment_tab

from sheets.formats import number_format
from sheets.layout import layout_tab
from sheets.cells import cell_data
from sheets.plan import SpreadsheetState, choose_sheet_id, plan_requests


@pytest.mark.parametrize("kind,currency,type_,pattern", [
    ("percent", None, "PERCENT", "0.0%"),
    ("currency", "USD", "CURRENCY", '"$"#,##0'),
    ("currency", "CHF", "CURRENCY", '"CHF "#,##0'),  # en_US puts a code before the amount, spaced
    ("days", None, "NUMBER", '#,##0.0" days"'),
    ("months", None, "NUMBER", '#,##0.0" months"'),
    ("ratio", None, "NUMBER", '0.0"×"'),
    ("number", None, "NUMBER", "#,##0.00"),
])
def test_each_metric_format_has_one_pattern(kind, currency, type_, pattern):
    fmt = number_format(kind, currency)
    assert (fmt.type, fmt.pattern) == (type_, pattern)


@pytest.mark.parametrize("kind,decimals,pattern", [
    ("percent", 2, "0.00%"), ("percent", 0, "0%"), ("currency", 2, '"$"#,##0.00'), ("days", 0, '#,##0" days"'),
    ("ratio", 2, '0.00"×"'), ("number", 0, "#,##0"),
])
def test_decimals_of_the_metric_format(kind, decimals, pattern):
    assert number_format(kind, "USD", decimals).pattern == pattern


@pytest.mark.parametrize("kind,currency,locale,type_,pattern", [
    ("currency", "PLN", "pl_PL", "CURRENCY", '#,##0" zł"'),     # shows 15 230 zł in a Polish file
    ("currency", "EUR", "pl_PL", "CURRENCY", '#,##0" €"'),
    ("currency", "PLN", "en_US", "CURRENCY", '"PLN "#,##0'),
    ("percent", None, "pl_PL", "PERCENT", "0.0%"),              # 12,3%
    ("percent", None, "de_DE", "PERCENT", '0.0" "%'),           # 12,3 % (the % stays unquoted: it scales)
    ("days", None, "pl_PL", "NUMBER", '#,##0.0" dni"'),
    ("months", None, "pl_PL", "NUMBER", '#,##0.0" miesięcy"'),
])
def test_formats_come_from_babel_for_the_locale(kind, currency, locale, type_, pattern):
    """Symbols, their placement and unit words come from CLDR, not from a table kept by hand."""
    fmt = number_format(kind, currency, None, locale)
    assert (fmt.type, fmt.pattern) == (type_, pattern)


def test_unknown_format_lists_the_allowed_ones():
    with pytest.raises(ValueError, match="allowed: number, currency"):
        number_format("percentage")


def test_monthly_tab_cells_and_formats():
    lay = layout_tab(monthly_tab())
    assert lay.cell("A1").value.startswith("KPIs by month · Sep 2026 – Nov 2026 to date (2026-09-01 to 2026-11-27)")
    assert lay.cell("A1").value.endswith("updated 2026-11-27 09:15 (UTC)")
    assert [c.value for c in lay.rows[1]] == ["Metric", "Sep 2026", "Oct 2026", "Nov 2026 to date", "Target", "Status", "Why"]
    assert all(c.bold for c in lay.rows[1])
    assert (lay.cell("A3").value, lay.cell("B3").value, lay.cell("D3").value) == ("Win rate", 0.25, 0.284)
    assert lay.cell("B3").fmt.pattern == "0.0%" and lay.cell("E3").value == 0.3 and lay.cell("F3").value == "behind pace"
    assert lay.cell("C4").value == 15230.4 and lay.cell("C4").fmt.type == "CURRENCY"
    assert lay.cell("D4").value is None  # no value: a blank cell, not 0 and not "–"
    assert lay.cell("G3").value == "closed deals 1,410 → 1,502 (−1.6 pp)" and lay.cell("G4").value is None  # Why
    assert (lay.frozen_rows, lay.frozen_cols) == (2, 1)


def test_positions_do_not_depend_on_the_numbers():
    a = layout_tab(monthly_tab())
    b = layout_tab(monthly_tab({"win_rate": [None, None, None], "avg_deal_size": [1.0, 2.0, 3.0]}))
    assert (a.n_rows, a.n_cols) == (b.n_rows, b.n_cols)
    assert [r[0].value for r in a.rows[1:]] == [r[0].value for r in b.rows[1:]]


def test_breakdown_blocks_follow_the_configured_values_even_when_one_is_missing():
    lay = layout_tab(segment_tab(groups=("Enterprise", "Mid-Market", "SMB")))
    firsts = [r[0].value if r else None for r in lay.rows]
    assert firsts[2:] == ["Segment: Enterprise", "Win rate", "Average deal size", None,
                          "Segment: Mid-Market", "Win rate", "Average deal size", None,
                          "Segment: SMB", "Win rate", "Average deal size"]
    assert lay.cell("B8").value == 1.25  # Mid-Market's win rate for Sep, block 2


def test_nan_and_infinity_become_blank_cells():
    lay = layout_tab(monthly_tab({"win_rate": [float("nan"), float("inf"), 0.2]}))
    assert lay.cell("B3").value is None and lay.cell("C3").value is None and lay.cell("D3").value == 0.2


def test_text_that_looks_like_a_formula_is_sent_as_stringValue():
    from sheets.layout import text

    assert cell_data(text("=IMPORTXML(A1)")) == {"userEnteredValue": {"stringValue": "=IMPORTXML(A1)"}}


def test_first_sync_plan_adds_tabs_with_chosen_ids_and_marks_them():
    lays = [layout_tab(monthly_tab()), layout_tab(segment_tab())]
    reqs = plan_requests(lays, SpreadsheetState("x", "t"))
    kinds = [next(iter(r)) for r in reqs]
    assert kinds.count("addSheet") == 2 and kinds.count("createDeveloperMetadata") == 2
    sid = reqs[0]["addSheet"]["properties"]["sheetId"]
    assert sid == choose_sheet_id("monthly", set())
    marker = json.loads(reqs[1]["createDeveloperMetadata"]["developerMetadata"]["metadataValue"])
    assert marker == {"key": "monthly", "rows": 4, "cols": 7}


def test_chosen_sheet_id_avoids_ids_in_use():
    sid = choose_sheet_id("monthly", set())
    assert choose_sheet_id("monthly", {sid}) == sid + 1
