"""The same answers in en_US and pl_PL, golden: the terminal, Slack Block Kit and the Sheets batch.

One demo dataset (2,000 deals, DuckDB), the shipped definitions.yaml twice: as shipped (en_US, USD)
and with ``locale: {locale: pl_PL, currency: PLN}``. The Polish files must show Polish words from
the catalog and Polish numbers and dates from Babel (``1 234 zł``, ``+1,5 p.p.``, ``III kw. 2026``),
the English ones what they showed before. ``KPI_UPDATE_SNAPSHOTS=1`` rewrites tests/snapshots/i18n.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from rich.console import Console
from snapshot import assert_snapshot

from bot.render import render_blocks
from metrics_core.api import KPI
from metrics_core.cli_render import render_result
from sheets.layout import TabLayout
from sheets.pipeline import build_layouts
from sheets.plan import SpreadsheetState, plan_requests
from sheets.workbook import workbook_for

REPO = Path(__file__).resolve().parent.parent
SNAPSHOTS = REPO / "tests" / "snapshots" / "i18n"
AS_OF = date(2026, 11, 27)
LOCALES = {"en_US": "USD", "pl_PL": "PLN"}
QUESTIONS = {
    "win_rate_by_segment": "win_rate last-quarter by segment",       # percent, points, breakdown, target
    "deal_size_mtd": "avg_deal_size this-month",                     # currency, to date, pace
    "cycle_days_by_month": "sales_cycle_days last-quarter by month",  # days, a series
}
SHEETS = """
sheets:
  tabs:
    - name: KPIs
      key: kpis
      metrics: [win_rate, avg_deal_size, sales_cycle_days]
      grain: month
      periods: 3
    - name: By segment
      key: by-segment
      metrics: [win_rate]
      grain: quarter
      periods: 2
      breakdown: {by: segment, style: blocks, values: [Enterprise, SMB]}
  definitions_tab: Definitions
  status_tab: Sync status
"""


@pytest.fixture(scope="module")
def kpis(tmp_path_factory: pytest.TempPathFactory) -> dict[str, KPI]:
    import duckdb

    from metrics_core.demo_data import generate

    root = tmp_path_factory.mktemp("i18n-demo")
    con = duckdb.connect(str(root / "demo.duckdb"))
    generate(con, deals=2000, until=date(2026, 11, 26))
    con.close()
    text = (REPO / "definitions.yaml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^(\s+url:\s*).*$", r"\1duckdb:///demo.duckdb", text, count=1)
    text = re.sub(r"(?m)^sheets:[^\n]*\n(?:[ \t#][^\n]*\n|[ \t]*\n)*", "", text) + SHEETS
    out = {}
    for locale, currency in LOCALES.items():
        localized = re.sub(r"(?m)^locale:\n  locale: \w+\n  currency: \w+",
                           f"locale:\n  locale: {locale}\n  currency: {currency}", text)
        assert f"locale: {locale}" in localized
        out[locale] = KPI.from_text(localized, base_dir=root)
    return out


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", QUESTIONS)
def test_cli_answer(kpis: dict[str, KPI], locale: str, name: str) -> None:
    kpi = kpis[locale]
    out = Console(record=True, width=110, color_system=None, force_terminal=False)
    render_result(out, kpi.query(QUESTIONS[name], as_of=AS_OF), kpi)
    assert_snapshot(SNAPSHOTS / f"cli_{name}.{locale}.txt", out.export_text())


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", QUESTIONS)
def test_slack_answer(kpis: dict[str, KPI], locale: str, name: str) -> None:
    kpi = kpis[locale]
    result = kpi.query(QUESTIONS[name], as_of=AS_OF)
    blocks = render_blocks(result, query=QUESTIONS[name], freshness=date(2026, 11, 26), calendar=kpi.calendar,
                           locale=locale)
    assert_snapshot(SNAPSHOTS / f"slack_{name}.{locale}.json", json.dumps(blocks, indent=1, ensure_ascii=False))


def render_cells(layouts: list[TabLayout]) -> str:
    lines = []
    for lay in layouts:
        lines.append(f"# {lay.title}")
        for r, row in enumerate(lay.rows, start=1):
            for c, cell in enumerate(row):
                if cell.value is not None:
                    fmt = f"  [{cell.fmt.pattern}]" if cell.fmt else ""
                    lines.append(f"{chr(65 + c)}{r}\t{cell.value!r}{fmt}")
    return "\n".join(lines)


@pytest.mark.parametrize("locale", LOCALES)
def test_sheets_batch(kpis: dict[str, KPI], locale: str) -> None:
    kpi = kpis[locale]
    now = datetime(2026, 11, 27, 9, 15, tzinfo=ZoneInfo("UTC"))
    layouts = build_layouts(kpi, workbook_for(kpi), as_of=AS_OF, now=now, workers=1)
    assert_snapshot(SNAPSHOTS / f"sheets_cells.{locale}.txt", render_cells(layouts))
    body = {"requests": plan_requests(layouts, SpreadsheetState("1kpi", "KPI"))}
    assert_snapshot(SNAPSHOTS / f"sheets_batch.{locale}.json", json.dumps(body, indent=1, ensure_ascii=False))


def test_polish_renders_are_polish(kpis: dict[str, KPI]) -> None:
    """What the goldens must say, checked by words (a golden refreshed by mistake still fails here)."""
    kpi = kpis["pl_PL"]
    out = Console(record=True, width=110, color_system=None, force_terminal=False)
    render_result(out, kpi.query("win_rate last-quarter by segment", as_of=AS_OF), kpi)
    text = out.export_text()
    assert "III kw. 2026" in text and "stan na 27 lis 2026" in text and "p.p." in text and " pp" not in text
    assert "liczy:" in text and "counts" not in text
    mtd = kpi.query("avg_deal_size this-month", as_of=AS_OF)
    blocks = json.dumps(render_blocks(mtd, freshness=date(2026, 11, 26), calendar=kpi.calendar, locale="pl_PL"),
                        ensure_ascii=False)
    assert "lis 2026 do dziś" in blocks and "Dane do 26 lis 2026" in blocks and "zł" in blocks
    assert "Data through" not in blocks and "Trend" in blocks and "Wyjaśnij" in blocks
    cells = render_cells(build_layouts(kpi, workbook_for(kpi), as_of=AS_OF, workers=1))
    assert "'Wskaźnik'" in cells and '" zł"]' in cells and '" dni"]' in cells and "'Cel'" in cells


def test_this_month_prints_its_window_once(kpis: dict[str, KPI]) -> None:
    """Regression: `this-month` printed "1–27 lis 2026 · 1–27 lis 2026" (the CLI did not de-duplicate)."""
    from metrics_core.periods import window_label

    for locale, kpi in kpis.items():
        out = Console(record=True, width=110, color_system=None, force_terminal=False)
        result = kpi.query("win_rate 2026-11-01..2026-11-27", as_of=AS_OF)
        render_result(out, result, kpi)
        head = out.export_text().splitlines()[1]
        window = window_label(result.period, locale)
        assert window.replace("\u2009", " ") in ("Nov 1 – 27, 2026", "1–27 lis 2026")
        assert head.count(window) == 1, head
