"""Sheets edges from issue 12: spreadsheet ids that could reach other URLs, a token-endpoint outage
told apart from a revoked key, user errors that exited 2 as internal ones, and .xlsx sheet names
that collided past Excel's 31 characters. Against the loopback Google in tests/fakes."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from metrics_core.cli import app
from metrics_core.errors import ConfigError
from sheets.errors import SheetsError, SheetsUnavailable
from sheets.layout import TabLayout, text
from sheets.pipeline import spreadsheet_id
from sheets.writer import read_state, write
from sheets.xlsx import MAX_NAME, write_xlsx
from sheets_support import SHEET_ID

NO_CONFIG = SimpleNamespace(spreadsheet=None)


@pytest.mark.parametrize("given, sid", [
    ("1AbCdEfGhIjKlMnOp_-9", "1AbCdEfGhIjKlMnOp_-9"),
    ("https://docs.google.com/spreadsheets/d/1AbCdEfGhIjKlMnOp_-9/edit#gid=0", "1AbCdEfGhIjKlMnOp_-9"),
    ("  https://docs.google.com/spreadsheets/d/1AbCdEfGhIjKlMnOp_-9  ", "1AbCdEfGhIjKlMnOp_-9"),
])
def test_ids_and_urls_give_the_id(given: str, sid: str) -> None:
    assert spreadsheet_id(given, NO_CONFIG) == sid


@pytest.mark.parametrize("given", ["1AbCdEfGhIjK/../../drive/v3/files", "1AbCdEfGhIjK?fields=*", "1AbCdEfGhIjK#x",
                                   "1AbCdEfGhIjK%2F..", "short", "1AbCdEfGhIjK lMnOp", "ąćęłńóśźż1234"])
def test_an_id_outside_googles_alphabet_is_refused(given: str) -> None:
    """Regression: '/../' or '?' in an id reached other API paths and query strings."""
    with pytest.raises(ConfigError, match="is not a spreadsheet id"):
        spreadsheet_id(given, NO_CONFIG)


def test_a_token_endpoint_outage_is_not_a_revoked_key(fake, client) -> None:
    """Regression: a 503 from the token endpoint said "the key may be deleted or revoked"."""
    fake.fail("token", 503, times=None)
    with pytest.raises(SheetsUnavailable, match="token endpoint is failing") as e:
        read_state(client, SHEET_ID)
    assert "revoked" not in str(e.value)


def test_a_revoked_key_says_so(fake, client) -> None:
    fake.keys.clear()  # Google no longer knows the key id: invalid_grant
    with pytest.raises(ConfigError, match="deleted or revoked"):
        read_state(client, SHEET_ID)


def test_a_rejected_retry_is_a_user_error_that_says_to_sync_again(fake, client) -> None:
    """Regression: a write whose first try timed out (applied, answer lost) and whose retry was refused
    exited 2 as an internal error."""
    fake.fail("batchUpdate", 503, times=1)
    fake.fail("batchUpdate", 400, times=1)
    with pytest.raises(SheetsError, match="run the sync again"):
        write(client, SHEET_ID, [{"updateSpreadsheetProperties": {"properties": {"title": "x"}, "fields": "title"}}])


@pytest.mark.parametrize("every", ["10s", "soon", "0m"])
def test_an_interval_under_a_minute_or_unreadable_exits_1(every: str, tmp_path, monkeypatch) -> None:
    """Regression: `kpi sheets sync --every 10s` exited 2 ("internal error")."""
    from metrics_core.cli import _register_plugins

    _register_plugins()
    monkeypatch.delenv("KPI_DEFINITIONS", raising=False)
    result = CliRunner().invoke(app, ["sheets", "sync", "--every", every, "-d", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 1, result.output
    assert "--every" in result.output and "internal error" not in result.output


def test_xlsx_sheet_names_are_unique_within_31_characters(tmp_path) -> None:
    """Regression: two tab titles sharing 31 characters became a 32-character sheet name."""
    titles = ["Win rate by segment and region, monthly", "Win rate by segment and region, weekly",
              "KPIs / month: [draft]?", "kpis _ month_ _draft__"]
    layouts = [TabLayout(f"k{i}", t, ((text(t),),)) for i, t in enumerate(titles)]
    names = load_workbook(write_xlsx(layouts, tmp_path / "t.xlsx")).sheetnames
    assert all(len(n) <= MAX_NAME for n in names)
    assert len({n.lower() for n in names}) == len(titles)
    assert names[0] == titles[0][:MAX_NAME] and names[1].endswith(" (2)")
