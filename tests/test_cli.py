"""The `kpi` command line on the shipped definitions and a small demo DuckDB (edge layer).

One module-scoped fixture copies definitions.yaml to a temp dir, points its connection there
(KPI_CONNECTION, which the shipped file reads as ${KPI_CONNECTION:-...}) and runs `kpi demo` once.
Most calls go through typer's CliRunner on ``metrics_core.cli.app`` (fast, no plugins); a few run the
installed `kpi` to check the real process (exit codes, streams, entry-point plugins loaded).
Numbers are not checked here (tests/test_metrics_handmade.py does that); shapes and contracts are.
"""

from __future__ import annotations

import json
from datetime import date
import os
import subprocess
from pathlib import Path
from typing import Iterator

import pytest
from cli_demo import demo_definitions  # tests/ helper (on sys.path via conftest)
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from metrics_core.cli import app

REPO = Path(__file__).resolve().parent.parent
KPI_BIN = str(REPO / ".venv" / "bin" / "kpi")
AS_OF = "2026-11-27"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """definitions.yaml in a temp dir, its DuckDB filled by `kpi demo --deals 2000`."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("KPI_DEFINITIONS", raising=False)
        yield demo_definitions(tmp_path_factory.mktemp("cli"), mp)


def test_demo_fills_the_absolute_duckdb_path(demo: Path) -> None:
    """KPI_CONNECTION=duckdb:////abs/dir/kpi.duckdb names an absolute file (four slashes, as in SQLAlchemy
    URLs); only relative paths are taken relative to definitions.yaml."""
    made = sorted(str(p.relative_to(demo.parent)) for p in demo.parent.rglob("*.duckdb"))
    assert made == ["kpi.duckdb"]


def kpi(definitions: Path, *args: str) -> Result:
    return CliRunner().invoke(app, [*args, "-d", str(definitions)])


def query_json(definitions: Path, text: str) -> dict:
    result = kpi(definitions, "query", text, "--as-of", AS_OF, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# -- kpi query --json ---------------------------------------------------------------------------------

def test_query_json_shape(demo: Path) -> None:
    out = query_json(demo, "win_rate last-quarter by segment")
    assert {"metric", "label", "period", "value", "formatted", "previous", "change", "components", "rows"} <= set(out)
    assert (out["metric"], out["label"]) == ("win_rate", "Win rate")
    assert {k: out["period"][k] for k in ("text", "start", "end")} == {
        "text": "last-quarter", "start": "2026-07-01", "end": "2026-09-30"}
    assert (out["previous"]["period"]["start"], out["previous"]["period"]["end"]) == ("2026-04-01", "2026-06-30")
    assert isinstance(out["value"], float) and isinstance(out["previous"]["value"], float)
    assert out["formatted"].endswith("%")
    assert {"absolute", "relative"} <= set(out["change"])
    assert out["change"]["absolute"] == pytest.approx(out["value"] - out["previous"]["value"])
    comps = out["components"]
    assert (comps["numerator"]["name"], comps["denominator"]["name"]) == ("won_new_deals", "closed_new_deals")
    assert out["value"] == pytest.approx(comps["numerator"]["value"] / comps["denominator"]["value"])
    assert out["dimensions"] == ["segment"]
    assert {r["segment"] for r in out["rows"]} == {"SMB", "Mid-Market", "Enterprise"}
    assert all({"segment", "value", "formatted", "previous"} <= set(r) for r in out["rows"])


def test_query_json_vs_none_has_no_previous(demo: Path) -> None:
    out = query_json(demo, "win_rate last-quarter vs none")
    assert out["previous"] is None and out["change"] == {"absolute": None, "relative": None}
    assert "rows" not in out


def test_query_json_series_by_month(demo: Path) -> None:
    out = query_json(demo, "cac 2026-Q3 by month")
    assert out["grain"] == "month"
    assert [(s["start"], s["end"]) for s in out["series"]] == [
        ("2026-07-01", "2026-07-31"), ("2026-08-01", "2026-08-31"), ("2026-09-01", "2026-09-30")]


def test_query_json_filters_are_echoed(demo: Path) -> None:
    out = query_json(demo, "conversion_rate last-quarter where source=webinar")
    assert out["filters"] == {"source": ["webinar"]}


def test_ratio_sample_size_is_its_denominator_rows(demo: Path) -> None:
    """result.py: sample_size is 'rows behind the value (denominator rows for ratios)'."""
    out = query_json(demo, "win_rate last-quarter")
    assert out["sample_size"] == out["components"]["denominator"]["rows"]


@pytest.mark.parametrize("period, start, end, to_date", [
    ("last-quarter", "2026-07-01", "2026-09-30", False),
    ("this-quarter", "2026-10-01", "2026-11-27", True),
    ("ytd", "2026-01-01", "2026-11-27", True),
])
def test_query_windows_follow_as_of(demo: Path, period: str, start: str, end: str, to_date: bool) -> None:
    p = query_json(demo, f"win_rate {period}")["period"]
    assert (p["start"], p["end"], p["to_date"]) == (start, end, to_date)


def test_query_text_output(demo: Path) -> None:
    result = kpi(demo, "query", "win_rate last-quarter by segment", "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    assert "Win rate" in result.stdout and "as of Nov 27, 2026" in result.stdout
    assert all(seg in result.stdout for seg in ("SMB", "Mid-Market", "Enterprise"))


def test_query_sql_prints_select_and_parameters(demo: Path) -> None:
    result = kpi(demo, "query", "win_rate last-quarter where source=webinar", "--as-of", AS_OF, "--sql")
    assert result.exit_code == 0, result.output
    assert "SELECT" in result.stdout and "webinar" not in result.stdout.split("-- parameters:")[0]
    assert "-- parameters: p0 = 'webinar'" in result.stdout.splitlines()
    # shown laid out, one clause per line (DuckDB runs the compact text the compiler wrote), and the
    # same text `kpi.sql()` gives (the golden files)
    from metrics_core import KPI

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KPI_CONNECTION", f"duckdb:///{demo.parent}/kpi.duckdb")
        shown, _params = KPI.from_path(demo).sql("win_rate last-quarter where source=webinar", as_of=date(2026, 11, 27))
    assert result.stdout.startswith(shown + "\n") and "\n  SELECT\n" in shown


def test_query_sql_still_answers_as_its_help_says(demo: Path) -> None:
    """`kpi query --help` says --sql prints the SQL "(and still answer)": the answer follows the SQL."""
    result = kpi(demo, "query", "win_rate last-quarter", "--as-of", AS_OF, "--sql")
    assert result.exit_code == 0, result.output
    assert "SELECT" in result.stdout and "as of Nov 27, 2026" in result.stdout.split("SELECT")[-1]


# -- kpi metrics / explain ------------------------------------------------------------------------------

def test_metrics_lists_every_metric(demo: Path) -> None:
    from metrics_core import load_definitions

    result = kpi(demo, "metrics")
    assert result.exit_code == 0, result.output
    names = [line.split("\t")[0] for line in result.stdout.splitlines() if line.strip()]
    shipped = load_definitions(demo).defs.metrics
    assert names == [n for n, m in shipped.items() if not m.hidden]
    assert "win_rate\tWin rate\tratio\tpercent\t" in result.stdout


def test_explain_shows_formula_components_and_sql(demo: Path) -> None:
    result = kpi(demo, "explain", "cac", "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.startswith("Customer acquisition cost (cac, ratio)")
    assert "formula:     acquisition_spend / new_customers" in text
    assert "acquisition_spend: sum of amount in spend" in text and "new_customers: number of rows in deals" in text
    assert "SELECT" in text and '"spend"' in text


def test_explain_by_synonym(demo: Path) -> None:
    result = kpi(demo, "explain", "customer acquisition cost", "--as-of", AS_OF)
    assert result.exit_code == 0 and result.stdout.startswith("Customer acquisition cost (cac, ratio)")


# -- errors: one line on stderr, exit 1 -----------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["query", "winn_rate last-quarter"], "unknown metric 'winn_rate' (did you mean 'win_rate'"),
    (["query", "win_rate by regoin"], "cannot break win_rate down by 'regoin' (did you mean 'region'?)"),
    (["query", "win_rate where amount > big"], "amount is a number; 'big' is not"),
    (["query", "win_rate last-fortnight"], "unknown period 'last-fortnight'"),
    (["query", ""], "empty question"),
    (["query", "win_rate", "--as-of", "2026-13-01"], "--as-of '2026-13-01': write a date as YYYY-MM-DD"),
    (["explain", "nope_metric"], "unknown metric 'nope_metric'"),
])
def test_user_errors_are_one_line_on_stderr(demo: Path, args: list[str], message: str) -> None:
    result = kpi(demo, *args)
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_real_process_answers_and_fails_cleanly(demo: Path) -> None:
    env = {**os.environ, "KPI_CONNECTION": f"duckdb:///{demo.parent}/kpi.duckdb"}
    ok = subprocess.run([KPI_BIN, "query", "win_rate last-quarter", "--as-of", AS_OF, "--json", "-d", str(demo)],
                        capture_output=True, text=True, env=env)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["metric"] == "win_rate"
    bad = subprocess.run([KPI_BIN, "query", "win_rate by regoin", "--as-of", AS_OF, "-d", str(demo)],
                         capture_output=True, text=True, env=env)
    assert (bad.returncode, bad.stdout) == (1, "")
    assert bad.stderr.startswith("error: cannot break win_rate down by 'regoin'") and "Traceback" not in bad.stderr


@pytest.mark.parametrize("command, words", [
    ("query", ["win_rate", "last-quarter", "by", "segment"]),
    ("why", ["win_rate", "last-quarter", "by", "segment"]),
    ("rows", ["win_rate", "last-quarter", "where", "segment=SMB"]),
])
def test_a_question_without_quotes_is_the_same_question(demo: Path, command: str, words: list[str]) -> None:
    """`kpi query cac last-quarter` asks "cac last-quarter", as `/kpi cac last-quarter` does in Slack."""
    quoted = kpi(demo, command, " ".join(words), "--as-of", AS_OF, "--json")
    unquoted = kpi(demo, command, *words, "--as-of", AS_OF, "--json")
    assert quoted.exit_code == 0, quoted.output
    assert (unquoted.exit_code, unquoted.stdout) == (0, quoted.stdout)
    assert json.loads(unquoted.stdout)


# -- which definitions file ---------------------------------------------------------------------------

@pytest.fixture
def three_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Three copies whose win_rate labels say where they came from; cwd holds the 'cwd' one."""
    text = (REPO / "definitions.yaml").read_text(encoding="utf-8")
    files = {}
    for name in ("flag", "env", "cwd"):
        d = tmp_path / name
        d.mkdir()
        files[name] = d / "definitions.yaml"
        files[name].write_text(text.replace("label: Win rate\n", f"label: Win rate {name}\n"), encoding="utf-8")
    monkeypatch.chdir(tmp_path / "cwd")
    monkeypatch.delenv("KPI_DEFINITIONS", raising=False)
    return files


def win_rate_label(args: list[str]) -> str:
    result = CliRunner().invoke(app, ["metrics", *args])
    assert result.exit_code == 0, result.output
    return next(line.split("\t")[1] for line in result.stdout.splitlines() if line.startswith("win_rate\t"))


def test_definitions_flag_beats_env_beats_cwd(three_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    assert win_rate_label([]) == "Win rate cwd"
    monkeypatch.setenv("KPI_DEFINITIONS", str(three_files["env"]))
    assert win_rate_label([]) == "Win rate env"
    assert win_rate_label(["--definitions", str(three_files["flag"])]) == "Win rate flag"


def test_missing_definitions_names_where_it_looked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KPI_DEFINITIONS", str(tmp_path / "nowhere.yaml"))
    result = CliRunner().invoke(app, ["metrics"])
    assert result.exit_code == 1
    assert "no definitions file at" in result.stderr and "KPI_DEFINITIONS" in result.stderr


# -- the fine print on the shipped definitions ----------------------------------------------------------

def test_breakdown_by_a_dimension_named_status_keeps_its_values(demo: Path) -> None:
    """Regression: `lead_to_win_rate last-quarter by status` answered with two `status` keys (the lead status
    and the target status) and lost the breakdown values. Row keys no longer collide with dimensions.
    (lead_to_win_rate no longer breaks down by status, which says whether a lead converted: new_leads does.)"""
    data = query_json(demo, "new_leads last-quarter by status")
    statuses = [row["status"] for row in data["rows"]]
    assert statuses and all(isinstance(s, str) and s for s in statuses)
    assert all(set(row) == {"status", "value", "formatted", "previous", "sample_size", "small_sample", "maturing",
                                  "excluded"}
               for row in data["rows"])


def test_monthly_spend_is_prorated_for_a_week(demo: Path) -> None:
    """Regression: `cac last-week` was $0.00 (spend is stored on the 1st of each month). Now the week
    (Nov 16-22) gets 7 of November's 30 days of spend."""
    week = query_json(demo, "cac last-week")  # Nov 16-22, 2026
    november = query_json(demo, "cac 2026-11")
    assert week["components"]["numerator"]["value"] == pytest.approx(november["components"]["numerator"]["value"] * 7 / 30)
    assert week["notes"] and week["notes"][0].startswith("spend is dated by month: ")


def test_maturing_share_of_last_month_leads(demo: Path) -> None:
    """Every October lead is younger than 90 days on Nov 27: the whole cohort is still maturing."""
    data = query_json(demo, "lead_to_win_rate last-month")
    assert data["maturing"] == 1.0 and "window is still open" in data["notes"][0]
    assert query_json(demo, "win_rate last-month")["maturing"] is None


def test_a_dimension_may_not_take_an_answer_key_name(tmp_path: Path) -> None:
    from metrics_core import DefinitionError, parse_definitions

    text = (REPO / "definitions.yaml").read_text().replace(
        "      office: office.name\n", "      office: office.name\n      value: office.name\n", 1)
    with pytest.raises(DefinitionError) as e:
        parse_definitions(text, source="definitions.yaml")
    assert "dimension name 'value' is a key of every answer row" in str(e.value)


# -- the cold path of `kpi query`: what a fresh process imports -----------------------------------------

# Heavy packages `kpi query` never needs on DuckDB (issue 8): each costs a cold start 0.05-0.7 s.
NOT_ON_THE_QUERY_PATH = ("pandas", "numpy", "pyarrow", "matplotlib", "gspread", "apscheduler", "slack_bolt",
                         "slack_sdk", "bot", "sheets", "pygments", "typer", "click")


def imported_by(args: list[str], env: dict[str, str]) -> tuple[subprocess.CompletedProcess, set[str]]:
    """Run the installed `kpi` with PYTHONPROFILEIMPORTTIME: (process, every module it imported).

    stderr lines read ``import time:   self [us] | cumulative | [indent]module``."""
    proc = subprocess.run([KPI_BIN, *args], capture_output=True, text=True,
                          env={**env, "PYTHONPROFILEIMPORTTIME": "1"})
    modules = {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines()
               if line.startswith("import time:") and line.count("|") == 2}
    return proc, modules


@pytest.mark.parametrize("question, flags", [
    ("win_rate last-quarter", ["--json"]),
    ("win_rate last-quarter by segment", []),
    ("cac 2026-Q3 by month", []),
])
def test_query_imports_no_heavy_package(demo: Path, question: str, flags: list[str]) -> None:
    env = {**os.environ, "KPI_CONNECTION": f"duckdb:///{demo.parent}/kpi.duckdb"}
    proc, modules = imported_by(["query", question, "--as-of", AS_OF, "-d", str(demo), *flags], env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    if "--json" in flags:
        assert json.loads(proc.stdout)["as_of"] == AS_OF
    else:
        assert "Win rate" in proc.stdout or "Customer acquisition cost" in proc.stdout
    assert {"duckdb", "metrics_core.cli_edge", "metrics_core.backends.duckdb"} <= modules  # the reader works
    heavy = sorted(m for m in modules if m.split(".")[0] in NOT_ON_THE_QUERY_PATH)
    assert heavy == [], f"`kpi query` imported {heavy[:12]}"
    # Rich (about 20 ms) only for what it draws: the panels, not JSON (metrics_core/cli_edge.py console)
    assert ("rich" in modules) == ("--json" not in flags)


def test_a_question_asked_before_imports_no_sqlglot(demo: Path) -> None:
    """The second ask of a question reads its statements from the plan cache (metrics_core/plancache.py):
    SQLGlot (0.1 s of a cold start) is not imported at all, and the answer is the same."""
    env = {**os.environ, "KPI_CONNECTION": f"duckdb:///{demo.parent}/kpi.duckdb"}
    args = ["query", "win_rate last-quarter by segment", "--as-of", AS_OF, "-d", str(demo), "--json"]
    first, _modules = imported_by(args, env)
    again, modules = imported_by(args, env)
    assert first.returncode == again.returncode == 0 and first.stdout == again.stdout
    assert {"duckdb", "metrics_core.plancache"} <= modules
    assert sorted(m for m in modules if m.split(".")[0] in (*NOT_ON_THE_QUERY_PATH, "sqlglot")) == []


def test_plugin_commands_still_load_with_their_packages(demo: Path) -> None:
    """The other side of the skip above: a bot/sheets command loads its plugin (and what it needs)."""
    proc, modules = imported_by(["sheets", "sync", "--dry-run", "-d", str(demo), "--as-of", AS_OF],
                                {**os.environ, "KPI_CONNECTION": f"duckdb:///{demo.parent}/kpi.duckdb"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert {"sheets.config", "sheets.preview", "bot.schedule"} <= modules


def test_query_skips_section_validators_that_validate_reports(demo: Path, tmp_path: Path) -> None:
    """A broken slack: section does not stop `kpi query` (its validator is not even imported);
    `kpi validate` still finds it, with file and line."""
    broken = tmp_path / "definitions.yaml"
    broken.write_text(demo.read_text(encoding="utf-8").replace("admin_channel:", "admin_chanel:", 1), encoding="utf-8")
    assert "admin_chanel:" in broken.read_text(encoding="utf-8")
    answered = kpi(broken, "query", "win_rate last-quarter", "--as-of", AS_OF, "--json")
    assert answered.exit_code == 0, answered.output
    checked = kpi(broken, "validate")
    assert checked.exit_code == 1
    assert "slack.admin_chanel: unknown key 'admin_chanel' (did you mean 'admin_channel'?)" in checked.stderr


# -- `kpi query` without building the Typer app (metrics_core/cli_entry.py) ------------------------------

@pytest.mark.parametrize("argv, expected", [
    (["query", "cac 2026-Q3"], {"text": "cac 2026-Q3"}),
    (["-v", "--no-rollups", "query", "x", "-d", "d.yaml", "--as-of=2026-11-27", "--json", "--sql"],
     {"text": "x", "definitions": Path("d.yaml"), "as_of": "2026-11-27", "as_json": True, "sql": True,
      "verbose": True, "no_rollups": True}),
    (["query", "--definitions=d.yaml", "x", "--no-cache", "--no-rollups"],
     {"text": "x", "definitions": Path("d.yaml"), "no_cache": True, "no_rollups": True}),
    (["query", "x", "--csv", "--format", "parquet", "-o", "a.parquet"],
     {"text": "x", "as_csv": True, "fmt": "parquet", "output": Path("a.parquet")}),
    (["query", "x", "-o=a.csv"], None),
    (["query", "cac", "last-quarter", "--json", "by", "segment"], {"text": "cac last-quarter by segment", "as_json": True}),
    (["query", "x", "--help"], None), (["query"], None), (["query", "--json"], None), (["query", "x", "--json", "--json"], None),
    (["query", "x", "-d"], None), (["query", "x", "-d", "--json"], None), (["query", "x", "-d=d.yaml"], None),
    (["query", "x", "--as-of"], None), (["query", "x", "--"], None), (["metrics"], None), (["--help"], None),
    (["-v", "-v", "query", "x"], None), (["query", "x", "--jsno"], None),
])
def test_plain_query_arguments_are_read_by_hand_or_left_to_typer(argv: list[str], expected: dict | None) -> None:
    from metrics_core.cli_entry import plain_query

    assert plain_query(argv) == expected


_ARG = st.one_of(st.text(max_size=12), st.sampled_from(
    ["query", "-v", "--verbose", "--no-rollups", "--json", "--csv", "--sql", "--no-cache", "-d", "--definitions",
     "--as-of", "--format", "-o", "--output", "--as-of=2026-11-27", "-d=x", "--", "--help", "-", "=", "win_rate"]))


_QUERY = st.tuples(st.lists(st.sampled_from(["-v", "--verbose", "--no-rollups"]), max_size=2),
                   st.lists(st.one_of(_ARG, st.text(alphabet="abc _-=.,'\"", min_size=1, max_size=8)), max_size=8))


@settings(max_examples=500, deadline=None)
@given(argv=st.one_of(st.lists(_ARG, max_size=8), _QUERY.map(lambda t: [*t[0], "query", *t[1]])))
def test_any_argv_is_read_by_hand_or_left_to_typer(argv: list[str]) -> None:
    """The hand-written reader never raises: it gives None (Typer then decides) or the arguments, whose
    text is the words that are neither options nor their values, joined by spaces."""
    from metrics_core.cli_entry import plain_query

    got = plain_query(argv)
    if got is None:
        return
    assert "query" in argv and set(got) <= {
        "text", "definitions", "as_of", "fmt", "output", "as_json", "as_csv", "sql", "no_cache", "no_rollups", "verbose"}
    start = argv.index("query") + 1
    values = {i + 1 for i, a in enumerate(argv[start:], start) if a in ("-d", "--definitions", "--as-of", "--format", "-o", "--output")}
    words = [a for i, a in enumerate(argv[start:], start) if i not in values and not a.startswith("-")]
    assert got["text"] == " ".join(words)


@pytest.mark.parametrize("args", [
    ["win_rate last-quarter"], ["win_rate last-quarter", "--json", "--sql"], ["cac 2026-Q3 by month", "--sql"],
    ["win_rate by regoin"], ["win_rate last-quarter", "--as-of", "2026-13-01"], ["win_rate, cac last-quarter", "--csv"],
    ["win_rate", "last-quarter", "by", "segment", "--json"], ["win_rate", "by", "regoin"],  # words without quotes
])
def test_the_fast_query_answers_like_the_typer_command(demo: Path, args: list[str]) -> None:
    """The installed `kpi query` (read by hand, no Typer) prints and exits exactly as the Typer command."""
    env = {**os.environ, "KPI_CONNECTION": f"duckdb:///{demo.parent}/kpi.duckdb", "COLUMNS": "100"}
    argv = ["query", *args, "-d", str(demo)] + ([] if "--as-of" in args else ["--as-of", AS_OF])
    fast = subprocess.run([KPI_BIN, *argv], capture_output=True, text=True, env=env)
    typer_app = subprocess.run([str(REPO / ".venv" / "bin" / "python"), "-c", "from metrics_core.cli import main; main()",
                                *argv], capture_output=True, text=True, env=env)
    assert (fast.returncode, fast.stdout, fast.stderr) == (typer_app.returncode, typer_app.stdout, typer_app.stderr)
    assert fast.returncode == (0 if "regoin" not in " ".join(args) and "2026-13-01" not in args else 1)
