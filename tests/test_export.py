"""`kpi query --csv` and `--format csv|parquet|json --output F` on the ten-deal CRM of test_metrics_handmade:
each file read back holds the numbers of the `--json` answer (totals, breakdowns, series, several metrics)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from metrics_core.cli import app
from test_metrics_handmade import AS_OF, DATA, FIXTURE


@pytest.fixture(scope="module")
def definitions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("export")
    con = duckdb.connect(str(root / "crm.duckdb"))
    con.execute(DATA)
    con.close()
    path = root / "definitions.yaml"
    path.write_text(FIXTURE.read_text().replace('connection: "duckdb:///:memory:"', 'connection: "duckdb:///crm.duckdb"'))
    return path


def run(definitions: Path, text: str, *args: str, code: int = 0) -> str:
    r = CliRunner().invoke(app, ["query", text, "--as-of", AS_OF.isoformat(), "-d", str(definitions), *args])
    assert r.exit_code == code, r.output
    return r.output


def answers(definitions: Path, text: str) -> list[dict]:
    data = json.loads(run(definitions, text, "--json"))
    return data["metrics"] if "metrics" in data else [data]


def expected_rows(objs: list[dict]) -> list[tuple]:
    """(metric, start, dimension values, value, comparison) of every number the JSON answers hold."""
    out = []
    for o in objs:
        dims = o.get("dimensions", [])
        if "series" in o:
            out += [(o["metric"], s["start"], *(s[d] for d in dims), s["value"], None) for s in o["series"]]
        elif dims:
            out += [(o["metric"], o["period"]["start"], *(r[d] for d in dims), r["value"], r["previous"]) for r in o["rows"]]
        else:
            prev = o["previous"]["value"] if o["previous"] else None
            out.append((o["metric"], o["period"]["start"], o["value"], prev))
    return out


def from_table(rows: list[dict], dims: list[str]) -> list[tuple]:
    def num(v: object) -> float | None:
        return None if v in ("", None) else float(v)  # type: ignore[arg-type]

    return [(r["metric"], str(r["start"]), *(r[d] or None for d in dims), num(r["value"]), num(r["comparison"]))
            for r in rows]


QUESTIONS = [("win_rate last-quarter", []), ("win_rate, cac, clv last-quarter by segment", ["segment"]),
             ("win_rate, revenue last-2-quarters by month", []), ("revenue last-quarter by segment vs last-year", ["segment"])]


@pytest.mark.parametrize(("text", "dims"), QUESTIONS)
def test_csv_to_stdout_holds_the_json_numbers(definitions: Path, text: str, dims: list[str]) -> None:
    rows = list(csv.DictReader(io.StringIO(run(definitions, text, "--csv"))))
    assert from_table(rows, dims) == expected_rows(answers(definitions, text))


@pytest.mark.parametrize(("text", "dims"), QUESTIONS)
def test_parquet_file_holds_the_json_numbers(definitions: Path, tmp_path: Path, text: str, dims: list[str]) -> None:
    out = tmp_path / "answer.parquet"
    assert run(definitions, text, "--format", "parquet", "--output", str(out)) == ""
    con = duckdb.connect()
    rel = con.sql("SELECT * FROM read_parquet(?)", params=[str(out)])
    types = dict(zip(rel.columns, (str(t) for t in rel.types)))
    assert (types["start"], types["value"], types["numerator"]) == ("DATE", "DOUBLE", "DOUBLE")
    rows = [dict(zip(rel.columns, r)) for r in rel.fetchall()]
    assert from_table(rows, dims) == expected_rows(answers(definitions, text))


def test_columns_are_named_plainly_with_numerator_and_denominator(definitions: Path, tmp_path: Path) -> None:
    """Q1 2026 win rate by segment: SMB won D1 D2 of closed D1 D2 D4; Enterprise won D3 of closed D3."""
    out = tmp_path / "a.csv"
    run(definitions, "win_rate last-quarter by segment", "--output", str(out))  # the suffix names the format
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["metric", "period", "start", "end", "segment", "value", "numerator", "denominator",
                             "comparison"]
    by = {r["segment"]: (r["numerator"], r["denominator"], r["period"], r["end"]) for r in rows}
    assert by == {"SMB": ("2.0", "3.0", "Q1 2026", "2026-03-31"), "Enterprise": ("1.0", "1.0", "Q1 2026", "2026-03-31")}


def test_json_to_a_file_is_the_json_answer(definitions: Path, tmp_path: Path) -> None:
    out = tmp_path / "a.json"
    run(definitions, "win_rate, cac last-quarter", "--format", "json", "-o", str(out))
    assert json.loads(out.read_text()) == json.loads(run(definitions, "win_rate, cac last-quarter", "--json"))


@pytest.mark.parametrize(("args", "message"), [
    (["--format", "parquet"], "Parquet is a binary file: add --output FILE.parquet"),
    (["--format", "xlsx"], "--format 'xlsx': use csv, parquet, json"),
    (["--csv", "--json"], "choose one output format (asked for: csv, json)"),
    (["--output", "answer.txt"], "say which format with --format csv|parquet|json"),
    (["--csv", "-o", "/nonexistent-dir/a.csv"], "cannot write /nonexistent-dir/a.csv"),
])
def test_bad_output_options_are_one_line_errors(definitions: Path, args: list[str], message: str) -> None:
    out = run(definitions, "win_rate last-quarter", *args, code=1)
    assert message in " ".join(out.split()) and "Traceback" not in out


def test_plain_query_does_not_import_pandas_or_pyarrow(definitions: Path) -> None:
    """The cold start stays lean: CSV is the csv module; pyarrow loads only for --format parquet."""
    code = ("import sys; from typer.testing import CliRunner; from metrics_core.cli import app; "
            f"r = CliRunner().invoke(app, ['query', 'win_rate, cac last-quarter', '--csv', '--as-of', '{AS_OF}', "
            f"'-d', {str(definitions)!r}]); assert r.exit_code == 0, r.output; "
            "print(sorted(m for m in ('pandas', 'pyarrow') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stderr
