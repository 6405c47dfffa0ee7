"""Several metrics in one question, on the ten-deal CRM of test_metrics_handmade (its docstring has the
data): each metric's answer in a list equals its answer alone, on DuckDB and on a real PostgreSQL."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from metrics_core import KPI, KpiUserError, MultiResult, QueryError
from metrics_core.backends.duckdb import DuckDBBackend
from metrics_core.cli import app
from metrics_core.grammar import parse_query
from test_metrics_handmade import AS_OF, DATA, FIXTURE, _duck

SHARED_BY_SEGMENT = ("win_rate", "avg_deal_size", "sales_cycle_days", "cac", "clv", "lead_to_win_rate",
                     "pipeline_velocity", "median_deal", "churn_rate")
TAILS = ("last-quarter", "last-quarter by segment", "last-quarter vs last-year", "last-2-quarters by month",
         "last-quarter by segment where segment=smb", "last-2-quarters by segment by month")


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def kpi(request: pytest.FixtureRequest) -> KPI:
    if request.param == "duckdb":
        backend = DuckDBBackend(":memory:")
        backend.connection.execute(DATA)
        return KPI.from_text(FIXTURE.read_text(), backend=backend)
    from warehouse.replicate import copy_to_postgres

    url = request.getfixturevalue("postgres_url")
    copy_to_postgres(_duck(), url)
    return KPI.from_text(FIXTURE.read_text(), connection=url)


@pytest.fixture(scope="module")
def duck() -> KPI:
    backend = DuckDBBackend(":memory:")
    backend.connection.execute(DATA)
    return KPI.from_text(FIXTURE.read_text(), backend=backend)


def close(a: Any, b: Any) -> bool:
    """JSON values equal, floats to 1e-9 (a sum's order may differ between two statements)."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))
    return a == b


@pytest.mark.parametrize("tail", TAILS)
def test_each_metric_of_a_list_answers_as_it_does_alone(kpi: KPI, tail: str) -> None:
    many = kpi.query_many(", ".join(SHARED_BY_SEGMENT) + " " + tail, as_of=AS_OF)
    assert many.metrics == SHARED_BY_SEGMENT
    for r in many.results:
        alone = kpi.query(f"{r.metric} {tail}", as_of=AS_OF)
        assert close(r.to_json(), alone.to_json()), r.metric


def test_metrics_sharing_windows_are_one_statement(duck: KPI) -> None:
    """win_rate and avg_deal_size read deals, cac reads spend too: one statement, each table read once."""
    many = duck.query_many("win_rate, avg_deal_size, cac last-quarter by segment", as_of=AS_OF)
    assert many.statements == 1
    sql = many.results[0].sql
    assert {r.sql for r in many.results} == {sql}
    # one more scan (deals by close date, both metrics' measures in it) and nothing else: its partials
    # are added up per window by the statement's one aggregation
    assert sql.count("GROUP BY") == duck.query("cac last-quarter by segment", as_of=AS_OF).sql.count("GROUP BY") + 1
    assert sql.count("FROM s") == duck.query("cac last-quarter by segment", as_of=AS_OF).sql.count("FROM s") + 1
    # hand-worked Q1 2026 values: won D1 D2 D3 of closed D1 D2 D3 D4; won amounts 1,000 3,000 10,000
    win, size, cac = many.results
    assert (win.value, size.value) == (pytest.approx(3 / 4), pytest.approx(14_000 / 3))


def test_the_json_is_a_list_of_single_metric_objects(definitions: Path) -> None:
    many = json.loads(_cli(definitions, "win_rate,won_deals last-quarter by segment", "--json"))
    assert list(many) == ["metrics"] and [m["metric"] for m in many["metrics"]] == ["win_rate", "won_deals"]
    alone = json.loads(_cli(definitions, "win_rate last-quarter by segment", "--json"))
    assert close(many["metrics"][0], alone)
    assert "metrics" not in alone and alone["metric"] == "win_rate"  # one metric: the shape is unchanged


def test_polish_and_english_joiners_and_no_spaces(duck: KPI) -> None:
    names = duck.catalog.synonyms
    for text in ("win_rate,cac last-quarter", "win rate and cac last-quarter", "win_rate i cac zeszły kwartał",
                 "win_rate oraz cac", "win_rate , cac"):
        assert parse_query(text, names).metrics == ("win_rate", "cac"), text
    assert parse_query("win_rate Nov 1 – 27, 2026", names).period == "Nov 1 – 27, 2026"  # a label's comma
    assert parse_query("win_rate I kw. 2026", names).period == "I kw. 2026"  # Roman I, not "i" joining metrics
    assert parse_query("win_rate, win_rate", names).metrics == ("win_rate",)


@pytest.mark.parametrize(("text", "message"), [
    ("win_rate, wn_rate last-quarter", "unknown metric 'wn_rate' (did you mean 'win_rate'"),
    ("win_rate, last-quarter", "unknown metric 'last-quarter'"),
    ("win_rate,", "a comma after 'win_rate' but no metric follows it"),
    ("win_rate, cac last-quarter by office", "cannot break cac down by 'office'"),
    ("win_rate, gross_margin last-quarter by segment", "'gross_margin' is a constant; it has no breakdown"),
])
def test_errors_name_the_metric(duck: KPI, text: str, message: str) -> None:
    with pytest.raises(QueryError) as e:
        duck.query_many(text, as_of=AS_OF)
    assert message in str(e.value) and "\n" not in str(e.value)


def test_query_keeps_one_metric(duck: KPI) -> None:
    with pytest.raises(QueryError, match="asks for several metrics"):
        duck.query("win_rate, cac last-quarter", as_of=AS_OF)
    one = duck.query_many("win_rate last-quarter", as_of=AS_OF)
    assert isinstance(one, MultiResult) and len(one.results) == 1


def test_cli_table_has_a_row_per_metric_and_a_column_per_metric(definitions: Path) -> None:
    text = _cli(definitions, "win_rate, revenue last-quarter by segment")
    lines = text.splitlines()
    assert any("Win rate" in x and "75.0%" in x and "+" not in x.split("75.0%")[0] for x in lines)
    header = next(x for x in lines if x.startswith("segment"))
    assert header.index("Win rate") < header.index("Revenue")
    smb = next(x for x in lines if x.startswith("SMB"))
    assert "66.7%" in smb and "$4,000" in smb  # D1 + D2 won of D1 D2 D4 closed; 1,000 + 3,000


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(picked=st.lists(st.sampled_from(["win_rate", "won_deals", "cac", "clv", "gross_margin", "lead_to_win_rate",
                                        "open_deals", "pipeline_velocity", "median_deal", "annual_churn"]),
                       min_size=1, max_size=5),
       sep=st.sampled_from([",", ", ", " ,", " and ", " i "]),
       tail=st.sampled_from(["", " last-quarter", " ytd by segment", " last-quarter vs last-year", " by month",
                             " last-quarter where segment=smb"]))
def test_any_list_of_known_metrics_answers_or_says_why(duck: KPI, picked: list[str], sep: str, tail: str) -> None:
    try:
        many = duck.query_many(sep.join(picked) + tail, as_of=AS_OF)
    except KpiUserError as e:
        assert str(e) and "\n" not in str(e)
        return
    assert many.metrics == tuple(dict.fromkeys(picked))


@pytest.fixture(scope="module")
def definitions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("multi")
    con = duckdb.connect(str(root / "crm.duckdb"))
    con.execute(DATA)
    con.close()
    path = root / "definitions.yaml"
    path.write_text(FIXTURE.read_text().replace('connection: "duckdb:///:memory:"', 'connection: "duckdb:///crm.duckdb"'))
    return path


def _cli(definitions: Path, *args: str, code: int = 0) -> str:
    r = CliRunner().invoke(app, ["query", args[0], "--as-of", AS_OF.isoformat(), "-d", str(definitions), *args[1:]])
    assert r.exit_code == code, r.output
    return r.output


def test_cumulative_metrics_keep_their_own_wider_windows() -> None:
    """examples/nrr: ARR (running total) and NRR (trailing 12 months) count from other starts than new_arr,
    so each gets its own statement, and each answers as it does alone."""
    nrr = KPI.from_path(Path(__file__).parent.parent / "examples" / "nrr" / "definitions.yaml")
    as_of = date(2026, 4, 15)
    for tail in ("last-quarter", "last-6-months by month vs last-year"):
        many = nrr.query_many(f"arr, new_arr, nrr {tail}", as_of=as_of)
        assert many.statements == 3
        for r in many.results:
            assert close(r.to_json(), nrr.query(f"{r.metric} {tail}", as_of=as_of).to_json()), r.metric
