"""Mistakes about the data found by `kpi validate` (or reported as user errors), not as "internal
error" at the first question (issue 12): globs that match nothing, a wrong date ``format:``, filters
on a value a mapping never yields, missing / directory / corrupt / locked DuckDB files, and a CSV
row with an unclosed quote.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from metrics_core import DefinitionError, parse_definitions
from metrics_core.checkdata import check_definitions
from metrics_core.cli import app
from metrics_core.load import load_definitions

REPO = Path(__file__).resolve().parent.parent

DEFS = """\
connection: "{url}"
tables:
  deals:
    source: {{files: {files}{delimiter}}}
    time: closed
    columns:
      deal_id: string
      closed: {{type: date, format: "{fmt}"}}
      stage: {{type: string, values: {{Won: won, Lost: lost}}}}
measures:
  won: {{table: deals, agg: count, filter: "{filter}"}}
metrics:
  deals_won: {{measure: won}}
"""
CSV = "deal_id,closed,stage\n1,2026-01-10,Won\n2,2026-02-11,Lost\n3,2026-03-12,Won\n"


def folder(tmp_path: Path, *, url: str = "duckdb:///kpi.duckdb", files: str = "deals.csv", fmt: str = "%Y-%m-%d",
           filter: str = "stage = 'won'", csv: str = CSV, delimiter: str = "") -> Path:
    (tmp_path / "deals.csv").write_text(csv)
    path = tmp_path / "definitions.yaml"
    path.write_text(DEFS.format(url=url, files=files, fmt=fmt, filter=filter,
                                delimiter=f", delimiter: '{delimiter}'" if delimiter else ""))
    return path


def kpi(*args: str):  # noqa: ANN201 - click Result
    return CliRunner().invoke(app, list(args))


def test_the_folder_answers(tmp_path: Path) -> None:
    """The baseline: files only, no DuckDB file; the answer comes from memory and no file is made."""
    d = folder(tmp_path)
    result = kpi("query", "deals_won 2026-Q1 vs none", "-d", str(d), "--json")
    assert result.exit_code == 0, result.output
    assert '"value": 2' in result.stdout.replace("2.0", "2")
    assert not (tmp_path / "kpi.duckdb").exists()


def test_a_glob_that_matches_nothing_is_a_definition_error(tmp_path: Path) -> None:
    """Regression: a misspelt path passed validate and failed later as "internal error" (IOException)."""
    d = folder(tmp_path, files="'exports/deal*.csv'")
    result = kpi("validate", "-d", str(d))
    assert result.exit_code == 1
    assert "definitions.yaml:4: tables.deals.source: files: 'exports/deal*.csv' matches no file" in result.output
    result = kpi("query", "deals_won 2026-Q1", "-d", str(d))
    assert result.exit_code == 1 and "internal error" not in result.output


def test_a_wrong_date_format_is_found_by_check_data(tmp_path: Path) -> None:
    d = folder(tmp_path, fmt="%m/%d/%Y")
    assert kpi("validate", "-d", str(d)).exit_code == 0  # the file itself is fine
    result = kpi("validate", "--check-data", "-d", str(d))
    assert result.exit_code == 1
    assert "definitions.yaml:8: tables.deals.columns.closed.format: format '%m/%d/%Y' does not read" in result.output
    result = kpi("query", "deals_won 2026-Q1", "-d", str(d))
    assert result.exit_code == 1 and "internal error" not in result.output


@pytest.mark.parametrize("filter, message", [
    ("stage = 'Won'", "'stage' is compared with 'Won', which its values: mapping turns into 'won'"),
    ("stage IN ('won', 'Lost')", "'stage' is compared with 'Lost', which its values: mapping turns into 'lost'"),
])
def test_a_filter_on_a_value_the_mapping_renamed_is_a_definition_error(tmp_path: Path, filter: str, message: str) -> None:
    """Regression: ``stage = 'Won'`` after ``values: {Won: won}`` counted nothing and said nothing.
    `kpi validate` refuses it with its line; loading for answers does not (kpi doctor counts the cost)."""
    d = folder(tmp_path, filter=filter)
    with pytest.raises(DefinitionError, match=message):
        check_definitions(load_definitions(d))
    result = kpi("validate", "-d", str(d))
    assert result.exit_code == 1 and "measures.won.filter:" in result.output


def test_a_value_passed_through_unmapped_is_allowed(tmp_path: Path) -> None:
    """Without default:, unmapped values pass through, so 'Open' may exist in the data."""
    check_definitions(load_definitions(folder(tmp_path, filter="stage = 'Open'")))
    parse_definitions(folder(tmp_path, filter="stage = 'Open'").read_text())


def test_a_missing_duckdb_file_is_reported_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nested" / "crm.duckdb"
    d = tmp_path / "definitions.yaml"
    d.write_text((REPO / "definitions.yaml").read_text().replace(
        "${KPI_CONNECTION:-duckdb:///.kpi/kpi.duckdb}", f"duckdb:///{missing}"))
    result = kpi("query", "win_rate last-quarter", "-d", str(d))
    assert result.exit_code == 1, result.output
    assert f"no DuckDB file at '{missing}'" in result.output and "four slashes" in result.output
    assert not missing.exists() and not missing.parent.exists()


@pytest.mark.parametrize("kind", ["directory", "corrupt"])
def test_a_bad_duckdb_path_is_a_user_error(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "crm.duckdb"
    if kind == "directory":
        target.mkdir()
    else:
        target.write_text("this is not a database\n" * 100)
    d = tmp_path / "definitions.yaml"
    d.write_text((REPO / "definitions.yaml").read_text().replace(
        "${KPI_CONNECTION:-duckdb:///.kpi/kpi.duckdb}", f"duckdb:///{target}"))
    result = kpi("query", "win_rate last-quarter", "-d", str(d))
    assert result.exit_code == 1, result.output
    assert "internal error" not in result.output and str(target) in result.output


def test_a_duckdb_file_locked_by_a_writer_is_a_user_error(tmp_path: Path) -> None:
    db = tmp_path / "crm.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import duckdb, sys, time
        con = duckdb.connect({str(db)!r})
        con.execute("CREATE TABLE t AS SELECT 1 AS x")
        print("ready", flush=True)
        sys.stdin.read()
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        d = tmp_path / "definitions.yaml"
        d.write_text((REPO / "definitions.yaml").read_text().replace(
            "${KPI_CONNECTION:-duckdb:///.kpi/kpi.duckdb}", f"duckdb:///{db}"))
        result = kpi("query", "win_rate last-quarter", "-d", str(d))
        assert result.exit_code == 1, result.output
        assert f"cannot open the DuckDB file '{db}'" in result.output
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


@pytest.mark.parametrize("delimiter", ["", ","])
def test_a_csv_row_with_an_unclosed_quote_is_not_counted_silently(tmp_path: Path, delimiter: str) -> None:
    """Regression: DuckDB's sniffer read ``2,"2026-02-11,Won`` as data and the row was counted."""
    csv = 'deal_id,closed,stage\n1,2026-01-10,Won\n2,"2026-02-11,Won\n3,2026-03-12,Won\n'
    d = folder(tmp_path, csv=csv, delimiter=delimiter)
    result = kpi("query", "deals_won 2026-Q1 vs none", "-d", str(d))
    assert result.exit_code == 1, result.output
    assert "internal error" not in result.output


def test_a_snippet_the_engine_cannot_run_is_a_definition_error(tmp_path: Path) -> None:
    """Snippets are written in sql_dialect and rendered for the connection's engine; a function
    SQLGlot cannot render there fails at load with its line, not at the first question."""
    text = folder(tmp_path, url="spark://local[2]", filter="initcap(stage) = 'Won'").read_text()
    with pytest.raises(DefinitionError, match=r"measures.won.filter: 'initcap\(stage\) = 'Won'' cannot be written for spark"):
        parse_definitions(text)
    parse_definitions(text.replace("spark://local[2]", "duckdb:///:memory:"))  # fine where it runs
