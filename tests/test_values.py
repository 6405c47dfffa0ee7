"""`kpi values` and filter values that match nothing, on the ten-deal CRM of test_metrics_handmade
(its docstring has the data table; every count below is worked out from it by hand)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from metrics_core import KPI, QueryError
from metrics_core.backends.duckdb import DuckDBBackend
from metrics_core.cli import app
from test_metrics_handmade import AS_OF, DATA, FIXTURE


@pytest.fixture(scope="module")
def kpi() -> KPI:
    backend = DuckDBBackend(":memory:")
    backend.connection.execute(DATA)
    return KPI.from_text(FIXTURE.read_text(), backend=backend)


def test_values_of_a_metric_count_its_denominator_rows_in_the_period(kpi: KPI) -> None:
    """Closed deals of 2026-Q1: D1, D2, D4 (SMB; A3's ' smb' normalised) and D3 (Enterprise)."""
    v = kpi.values("segment", metric="win_rate", period="last-quarter", as_of=AS_OF)
    assert v.rows == (("SMB", 3), ("Enterprise", 1))
    assert (v.measure, v.table, v.period.start.isoformat()) == ("closed", "deals", "2026-01-01")


def test_values_without_a_period_count_every_counted_row(kpi: KPI) -> None:
    """All eight closed deals: SMB D1 D2 D4 D10, Enterprise D3 D6 D7 D8; ties sorted by value."""
    assert kpi.values("segment", metric="win_rate").rows == (("Enterprise", 4), ("SMB", 4))


def test_blank_values_are_one_value(kpi: KPI) -> None:
    """Won deals without a lead (D6, D8) have no source: one (blank) row; D1 'Webinar', D2 'webinar'
    (the mapping trims, it does not fold case), D3 paid_search, D10 organic."""
    v = kpi.values("source", metric="won_deals")
    assert dict(v.rows) == {None: 2, "Webinar": 1, "webinar": 1, "paid_search": 1, "organic": 1}
    assert v.rows[0] == (None, 2)
    assert v.to_json()["values"][0] == {"value": "(blank)", "blank": True, "rows": 2}


def test_a_dimension_of_one_table_needs_no_metric(kpi: KPI) -> None:
    """`office` is a dimension of deals only: every deal, D3 and D4 by U2 (Austin), the rest Berlin."""
    assert kpi.values("office").rows == (("Berlin", 8), ("Austin", 2))


@pytest.mark.parametrize("call, message", [
    (dict(dimension="segment"), "several tables"),
    (dict(dimension="segmnt"), "did you mean 'segment'"),
    (dict(dimension="kind", metric="win_rate"), "cannot break win_rate down by 'kind'"),
    (dict(dimension="segment", metric="win_rat"), "unknown metric"),
])
def test_values_errors_are_one_line(kpi: KPI, call: dict, message: str) -> None:
    with pytest.raises(QueryError, match=message) as e:
        kpi.values(**call)
    assert "\n" not in str(e.value)


def test_blank_filters_match_null(kpi: KPI) -> None:
    """2025-Q4: D6 is the only closed deal, won, no lead. Q2 2026: D7 (lead L5 webinar) lost, D8 won
    without a lead, D10 (L7 organic) won on May 11 -> won 1 of closed 1 where source is blank, won 1
    of closed 2 where it is blank or webinar (D7, D8)."""
    assert kpi.query("won_deals 2025-Q4 where source=(blank)", as_of=AS_OF).value == 1
    r = kpi.query("win_rate 2026-Q2 where source=(blank)", as_of=AS_OF)
    assert r.value == 1.0
    assert kpi.query("won_deals 2026-Q2 where source in (webinar, organic)", as_of=AS_OF).value == 1
    assert kpi.query("win_rate 2026-Q2 where source in ('(blank)', webinar)", as_of=AS_OF).value == 0.5


def test_a_filter_value_no_row_has_is_an_error_with_the_real_values(kpi: KPI) -> None:
    """Regression: `where segment=Europe` answered '0 won deals of 0 closed deals' with exit 0."""
    with pytest.raises(QueryError, match=r"no row has segment=Smb2 \(did you mean 'SMB'\?\)"):
        kpi.query("win_rate last-quarter where segment=Smb2", as_of=AS_OF)
    with pytest.raises(QueryError, match=r"segment=Europe \(its values: Enterprise, SMB\)"):
        kpi.query("win_rate last-quarter where segment=Europe", as_of=AS_OF)


def test_a_real_value_with_no_rows_in_the_window_is_an_empty_answer_with_a_note(kpi: KPI) -> None:
    """2025-Q3 has no closed deal at all; SMB exists (D1...)."""
    r = kpi.query("win_rate 2025-Q3 where segment=SMB", as_of=AS_OF)
    assert r.value is None
    assert any("no rows match segment=SMB" in n for n in r.notes)


def test_a_non_empty_answer_runs_no_extra_statement(kpi: KPI, monkeypatch: pytest.MonkeyPatch) -> None:
    """The empty-filter check costs a statement only for an empty answer. (The excluded-rows count of
    the fine print is one more statement of its own, tested in tests/test_excluded_rows.py: left out here.)"""
    import metrics_core.api
    from metrics_core.statement import empty_statement

    monkeypatch.setattr(metrics_core.api, "excluded_rows", lambda *a, **kw: ((), {}))
    kpi.forget()  # first asks, whatever the tests before asked
    ran: list[str] = []
    real = kpi.backend.run
    monkeypatch.setattr(kpi.backend, "run", lambda sql, params: ran.append(sql) or real(sql, params))
    assert kpi.query("win_rate last-quarter where segment=SMB", as_of=AS_OF).value == pytest.approx(2 / 3)
    # its comparison quarter has no row: that window's totals come from a statement on the windows alone
    # (statement.complete), run once per statement: the next ask runs the answer's statement only
    c = kpi.compiled(kpi.plan("win_rate last-quarter where segment=SMB", as_of=AS_OF).query)
    assert ran == [c.sql, empty_statement(c)]
    ran.clear()
    kpi.query("win_rate last-quarter where segment=SMB", as_of=AS_OF)
    assert len(ran) == 1
    ran.clear()
    kpi.query("win_rate 2025-Q3 where segment=SMB", as_of=AS_OF)  # empty: the answer, its windows, the check
    c = kpi.compiled(kpi.plan("win_rate 2025-Q3 where segment=SMB", as_of=AS_OF).query)
    assert len(ran) == 3 and ran[:2] == [c.sql, empty_statement(c)]


# -- the command line ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def definitions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("values")
    con = duckdb.connect(str(root / "crm.duckdb"))
    con.execute(DATA)
    con.close()
    path = root / "definitions.yaml"
    path.write_text(FIXTURE.read_text().replace('connection: "duckdb:///:memory:"', 'connection: "duckdb:///crm.duckdb"'))
    return path


def run(definitions: Path, *args: str):  # noqa: ANN201 - typer's Result
    return CliRunner().invoke(app, [*args, "-d", str(definitions)])


def test_cli_values_table_and_json(definitions: Path) -> None:
    r = run(definitions, "values", "segment", "--metric", "win_rate", "--period", "last-quarter", "--as-of", AS_OF.isoformat())
    assert r.exit_code == 0, r.output
    lines = [line.split() for line in r.stdout.splitlines()]
    assert ["SMB", "3"] in lines and ["Enterprise", "1"] in lines
    r = run(definitions, "values", "source", "-m", "won_deals", "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["values"][0] == {"value": "(blank)", "blank": True, "rows": 2}


@pytest.mark.parametrize("args, message", [
    (["query", "win_rate last-quarter where segment=Europe"], "no row has segment=Europe"),
    (["values", "segmnt"], "unknown dimension 'segmnt'"),
])
def test_cli_errors_are_one_line_exit_1(definitions: Path, args: list[str], message: str) -> None:
    r = run(definitions, *args, "--as-of", AS_OF.isoformat()) if args[0] == "query" else run(definitions, *args)
    assert r.exit_code == 1
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1


# -- the same on every engine ---------------------------------------------------------------------------

@pytest.fixture(scope="module", params=["postgres", "spark"])
def engine(request: pytest.FixtureRequest) -> KPI:
    """The handmade data copied to a real PostgreSQL server / Spark in local mode (skips with a reason
    when one is missing; KPI_REQUIRE_SERVICES=1 makes that a failure)."""
    from warehouse.replicate import copy_to_postgres, copy_to_spark

    con = duckdb.connect(":memory:")
    con.execute(DATA)
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        copy_to_postgres(con, url)
        return KPI.from_text(FIXTURE.read_text(), connection=url)
    copy_to_spark(con, request.getfixturevalue("spark_session"))
    return KPI.from_text(FIXTURE.read_text(), connection="spark://local[2]")


def test_values_and_filter_checks_agree_on_every_engine(engine: KPI) -> None:
    """The counts of the DuckDB tests above, the (blank) value and filter, and the typo error."""
    assert engine.values("segment", metric="win_rate", period="last-quarter", as_of=AS_OF).rows == (("SMB", 3), ("Enterprise", 1))
    assert engine.values("source", metric="won_deals").rows[0] == (None, 2)
    assert engine.query("win_rate 2026-Q2 where source in ('(blank)', webinar)", as_of=AS_OF).value == 0.5
    with pytest.raises(QueryError, match=r"did you mean 'SMB'"):
        engine.query("win_rate last-quarter where segment=Smb2", as_of=AS_OF)
    assert any("no rows match" in n for n in engine.query("win_rate 2025-Q3 where segment=SMB", as_of=AS_OF).notes)
