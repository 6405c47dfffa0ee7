"""The real core on small demo data: .xlsx export read back, a sync to the fake, and the CLI."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest
import typer
from sheets_support import SHEET_ID
from openpyxl import load_workbook
from typer.testing import CliRunner

from metrics_core.api import KPI
from metrics_core.demo_data import generate
from sheets.cli import register
from sheets.pipeline import build_layouts, sync
from sheets.workbook import workbook_for
from sheets.xlsx import write_xlsx

AS_OF = date(2026, 11, 27)
SHIPPED = Path(__file__).parents[2] / "definitions.yaml"


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """definitions.yaml beside .kpi/kpi.duckdb (its default connection) filled with 600 demo deals."""
    root = tmp_path_factory.mktemp("project")
    shutil.copy(SHIPPED, root / "definitions.yaml")
    (root / ".kpi").mkdir()
    con = duckdb.connect(str(root / ".kpi" / "kpi.duckdb"))
    generate(con, deals=600, until=AS_OF, years=2)
    con.close()
    return root


@pytest.fixture
def kpi(project, monkeypatch) -> KPI:
    monkeypatch.delenv("KPI_CONNECTION", raising=False)
    k = KPI.from_path(project / "definitions.yaml")
    yield k
    k.close()


@pytest.fixture(scope="module")
def layouts(project) -> list:
    k = KPI.from_path(project / "definitions.yaml", connection="duckdb:///.kpi/kpi.duckdb")
    try:
        return build_layouts(k, workbook_for(k), as_of=AS_OF)
    finally:
        k.close()


def test_xlsx_read_back_has_the_layouts_values_and_number_formats(layouts, tmp_path):
    wb = load_workbook(write_xlsx(layouts, tmp_path / "kpis.xlsx"))
    assert wb.sheetnames == [lay.title for lay in layouts]
    checked = toned = 0
    for lay in layouts:
        ws = wb[lay.title]
        assert ws.freeze_panes == (f"{chr(65 + lay.frozen_cols)}{lay.frozen_rows + 1}")
        for r, row in enumerate(lay.rows[1:], start=2):  # row 1 holds "updated <time>", which moves on
            for c, cell in enumerate(row, start=1):
                got = ws.cell(row=r, column=c)
                expected = pytest.approx(cell.value, rel=1e-14) if isinstance(cell.value, float) else cell.value
                assert got.value == expected, (lay.title, r, c)  # Excel keeps 15-16 significant digits
                if cell.fmt is not None:
                    assert got.number_format == cell.fmt.pattern
                    checked += 1
                assert bool(got.font.b) == cell.bold
                if cell.tone:
                    assert got.font.color.rgb == {"good": "FF008000", "bad": "FFCC0000", "maturing": "FF999999"}[cell.tone]
                    toned += 1
    assert checked > 100 and toned >= 1


def test_formula_like_text_is_text_in_xlsx(tmp_path):
    from sheets.layout import TabLayout, text

    path = write_xlsx([TabLayout("k", "T", ((text("=1+1"), text("@SUM(A1)")),))], tmp_path / "t.xlsx")
    ws = load_workbook(path)["T"]
    assert (ws["A1"].value, ws["A1"].data_type, ws["B1"].data_type) == ("=1+1", "s", "s")


def test_sync_of_the_default_workbook_to_the_fake(kpi, fake, client):
    report = sync(kpi, spreadsheet=SHEET_ID, client=client, as_of=AS_OF)
    assert report.tabs == ("KPIs by month", "KPIs by segment", "Definitions", "Data quality", "Sync status")
    assert [c.kind for c in fake.sheets_calls()] == ["get", "batchUpdate"]
    lay = report.layouts[0]
    assert fake.values(SHEET_ID, "KPIs by month")[1] == [c.value for c in lay.rows[1]]
    win = next(r for r in lay.rows if r[0].value == "Win rate")
    row = next(r for r in fake.values(SHEET_ID, "KPIs by month") if r[0] == "Win rate")
    assert row == [c.value for c in win] and isinstance(row[1], float)
    assert row[-3] == 0.25  # the monthly win-rate target from definitions.yaml
    # the Why column: the biggest factor of the last month's change, as `kpi why` splits it
    current = kpi.trend("win_rate", grain="month", count=1, as_of=AS_OF).period
    why = kpi.why(f"win_rate {current.start}..{current.end} vs previous", as_of=AS_OF)
    assert row[-1] == why.headline and "→" in row[-1]
    seg = fake.values(SHEET_ID, "KPIs by segment")
    block = [r[0] for r in seg].index("Segment: Enterprise")
    win = next(r for r in seg[block:] if r[0] == "Win rate")
    assert win[-3] == 0.18 and win[-2] in ("met", "missed", "on track", "behind pace", "ahead of pace")  # where: segment


def test_cli_dry_run_prints_the_plan_without_credentials(project, monkeypatch):
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.delenv("KPI_CONNECTION", raising=False)
    result = CliRunner().invoke(_app(), ["sheets", "sync", "--dry-run", "--as-of", "2026-11-27", "--tab", "kpis by month",
                                         "--definitions", str(project / "definitions.yaml")])
    assert result.exit_code == 0, result.output
    assert "would send 2 requests (1 spreadsheets.get + 1 spreadsheets.batchUpdate" in result.output
    assert "KPIs by month" in result.output


def test_cli_sync_reads_credentials_from_the_environment(project, fake, account, tmp_path, monkeypatch):
    key = tmp_path / "sa.json"
    key.write_text(json.dumps(account))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))
    monkeypatch.setenv("GOOGLE_SHEETS_API_URL", fake.url)
    monkeypatch.delenv("KPI_CONNECTION", raising=False)
    result = CliRunner().invoke(_app(), ["sheets", "sync", "--spreadsheet", SHEET_ID, "--tab", "KPIs by month",
                                         "--as-of", "2026-11-27", "--definitions", str(project / "definitions.yaml")])
    assert result.exit_code == 0, result.output
    assert f"synced 2 tabs to {SHEET_ID}: 2 requests" in result.output
    assert fake.value(SHEET_ID, "KPIs by month", "A2") == "Metric"


def test_cli_xlsx(project, tmp_path, monkeypatch):
    monkeypatch.delenv("KPI_CONNECTION", raising=False)
    out = tmp_path / "out.xlsx"
    result = CliRunner().invoke(_app(), ["sheets", "sync", "--xlsx", str(out), "--as-of", "2026-11-27", "--tab", "definitions",
                                         "--definitions", str(project / "definitions.yaml")])
    assert result.exit_code == 0, result.output
    assert load_workbook(out).sheetnames == ["Definitions", "Sync status"]


def _app() -> typer.Typer:
    app = typer.Typer()
    app.callback()(lambda: None)  # a group, as the real `kpi` is
    register(app)
    return app


def test_cli_user_error_is_one_line_and_exit_1(project, monkeypatch):
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.delenv("KPI_CONNECTION", raising=False)
    result = CliRunner().invoke(_app(), ["sheets", "sync", "--spreadsheet", "1AbCdEfGhIjKlMnOp",
                                         "--definitions", str(project / "definitions.yaml")])
    assert result.exit_code == 1
    assert "error: no Google credentials: set GOOGLE_APPLICATION_CREDENTIALS" in result.output
    assert "Traceback" not in result.output


def test_kpi_demo_step_writes_the_workbook(kpi, project):
    from io import StringIO

    from rich.console import Console

    from sheets.demo import write_workbook

    buf = StringIO()
    path = write_workbook(kpi, Console(file=buf, width=200), AS_OF)
    assert path == project / ".kpi" / "kpi-demo.xlsx"
    assert load_workbook(path).sheetnames == ["KPIs by month", "KPIs by segment", "Definitions", "Data quality", "Sync status"]
    assert "demo workbook" in buf.getvalue() and "kpi sheets sync --spreadsheet ID" in buf.getvalue()
