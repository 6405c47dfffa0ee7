"""Kept plans (``DuckDBBackend(reuse_plans=N)``): a query run a second time is prepared, and runs from
DuckDB's prepared plan from then on, on the raw tables (every connection opened from a URL) and on the
in-memory engine that holds rollup parts. A kept plan must never change a result: it reads the rows as
they are when it runs, it is never made over files, views or table functions (a plan binds a glob's
matches once), a failing statement is not kept, statements with parameters and statements that are
not queries are never prepared, DDL run through the engine drops them all, and each thread keeps its own."""

from __future__ import annotations

import gc
import threading
import time
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics_core.api import KPI
from metrics_core.backends.duckdb import QUERY, DuckDBBackend
from metrics_core.errors import DataError

KEPT = "SELECT name FROM duckdb_prepared_statements() ORDER BY name"


def kept(engine: DuckDBBackend) -> list[str]:
    """The statements prepared on this thread's cursor, as DuckDB lists them, each checked against the
    engine's own record of them (listing them here is not a query kept by the engine)."""
    names = [row[0] for row in engine._plan_cursor().execute(KEPT).fetchall()]
    assert sorted(names) == sorted(v for v in engine._local.plans.values() if isinstance(v, str))
    return names


@pytest.fixture
def engine() -> DuckDBBackend:
    e = DuckDBBackend(":memory:", reuse_plans=2)
    e.run("CREATE TABLE t AS SELECT range AS x FROM range(5)", {})
    return e


def test_a_repeated_query_is_prepared_on_its_second_run_and_reads_the_rows_as_they_are(engine: DuckDBBackend) -> None:
    q = "SELECT count(*) AS n, sum(x) AS s FROM t"
    assert engine.run(q, {}).records() == [{"n": 5, "s": 10}]
    assert kept(engine) == []  # a statement run once is not prepared: a one-off pays nothing
    assert engine.run(q, {}).records() == [{"n": 5, "s": 10}]
    assert kept(engine) == ["kpi_plan_0"] and engine._local.plans == {q: "kpi_plan_0"}
    engine.connection.execute("INSERT INTO t VALUES (100)")  # rows added under the kept plan
    assert engine.run(q, {}).records() == [{"n": 6, "s": 110}]
    assert kept(engine) == ["kpi_plan_0"]
    engine.connection.execute("CREATE OR REPLACE TABLE t AS SELECT 'a' AS x")  # replaced, another type
    with pytest.raises(DataError):
        engine.run(q, {})  # sum of text: the plan is bound again, and fails as a fresh statement would
    assert engine.run("SELECT count(*) AS n FROM t", {}).records() == [{"n": 1}]


def test_ddl_or_dml_through_the_engine_drops_every_plan(engine: DuckDBBackend) -> None:
    q = "SELECT count(*) AS n FROM t"
    for _ in range(2):
        engine.run(q, {})
    assert kept(engine) == ["kpi_plan_0"]
    engine.run("CREATE VIEW v AS SELECT * FROM t", {})  # a name may mean something else now
    assert engine.run(q, {}).records() == [{"n": 5}]
    assert kept(engine) == [] and engine._local.plans == {q: 1}  # seen once again, prepared next time
    engine.run(q, {})
    assert kept(engine) == ["kpi_plan_1"]


def test_the_least_recently_used_statement_goes_and_its_plan_is_deallocated(engine: DuckDBBackend) -> None:
    a, b, c = (f"SELECT {i} AS v, count(*) AS n FROM t" for i in range(3))
    for q in (a, a, b, b, a, c):  # a used again after b: b is the least recent when c comes
        assert engine.run(q, {}).records()[0]["n"] == 5
    assert kept(engine) == ["kpi_plan_0"] and list(engine._local.plans) == [a, c]
    for q in (c, b):  # c prepared, then b (seen once again) pushes a out
        assert engine.run(q, {}).records()[0]["n"] == 5
    assert kept(engine) == ["kpi_plan_2"] and list(engine._local.plans) == [c, b]
    assert engine.run(b, {}).records() == [{"v": 1, "n": 5}]  # b prepared now: two plans, none goes
    assert kept(engine) == ["kpi_plan_2", "kpi_plan_3"] and list(engine._local.plans) == [c, b]


def test_statements_with_parameters_or_that_are_not_queries_are_never_prepared(engine: DuckDBBackend) -> None:
    assert engine.run("SELECT count(*) AS n FROM t WHERE x >= $lo", {"lo": 3}).records() == [{"n": 2}]
    engine.run("CREATE TABLE u (y INTEGER)", {})
    engine.run("INSERT INTO u VALUES (1)", {})
    engine.run("DROP TABLE u", {})
    assert kept(engine) == []
    assert QUERY.match("-- answered from rollup r\nWITH a AS (SELECT 1) SELECT * FROM a")
    assert QUERY.match("  select 1")
    for text in ("CREATE TABLE w AS SELECT 1", "INSERT INTO t SELECT 1", "-- SELECT\nDROP TABLE t", "SELECTED"):
        assert not QUERY.match(text), text


def test_a_failing_statement_is_not_kept(engine: DuckDBBackend) -> None:
    q = "SELECT count(*) AS n FROM later"
    with pytest.raises(DataError, match="later"):
        engine.run(q, {})
    assert kept(engine) == []
    engine.run("CREATE TABLE later AS SELECT 1 AS z", {})
    assert engine.run(q, {}).records() == [{"n": 1}]


def test_each_thread_keeps_its_own_plans() -> None:
    engine = DuckDBBackend(":memory:", reuse_plans=8)
    engine.run("CREATE TABLE t AS SELECT range AS x FROM range(1000)", {})
    q = "SELECT sum(x) AS s FROM t"
    got: list[object] = []
    cursors: set[int] = set()
    barrier = threading.Barrier(4)

    def ask() -> None:
        barrier.wait()
        got.extend(engine.run(q, {}).records()[0]["s"] for _ in range(20))
        assert kept(engine) == [engine._local.plans[q]]  # one plan on this thread's cursor
        cursors.add(id(engine._plan_cursor()))
        barrier.wait()  # all alive at once: no cursor id reused

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == [499500] * 80
    assert len(cursors) == 4
    deadline = time.monotonic() + 5
    while engine._plan_cursors and time.monotonic() < deadline:  # freed as each thread's state is
        gc.collect()
        time.sleep(0.01)
    assert len(engine._plan_cursors) == 0  # a finished thread's cursor goes with it: none is leaked
    assert engine.run(q, {}).records() == [{"s": 499500}]
    assert len(engine._plan_cursors) == 1
    engine.close()


YAML = """
tables:
  deals:
    source: deals
    columns: {id: integer, segment: string, stage: string, amount: number, closed_at: date}
measures:
  won: {table: deals, agg: count, filter: "stage = 'won'", time: closed_at}
  closed: {table: deals, agg: count, filter: "stage IN ('won', 'lost')", time: closed_at}
  revenue: {table: deals, agg: sum, expr: amount, filter: "stage = 'won'", time: closed_at}
metrics:
  win_rate: {numerator: won, denominator: closed, format: percent}
  revenue: {measure: revenue}
rollups:
  directory: rollups
  by_day:
    measures: [won, closed, revenue]
    dimensions: [segment]
"""


# four deals, by hand for 2026-Q1: won SMB 100 (Jan 10), won ENT 300 (Feb 11), lost SMB (Mar 1);
# won ENT 1000 on 2025-12-31 is 2025-Q4. Revenue 400 (SMB 100, ENT 300), win rate 2/3
DEALS = ("CREATE TABLE deals AS SELECT * FROM (VALUES (1, 'SMB', 'won', 100.0, DATE '2026-01-10'), "
         "(2, 'ENT', 'won', 300.0, DATE '2026-02-11'), (3, 'SMB', 'lost', 50.0, DATE '2026-03-01'), "
         "(4, 'ENT', 'won', 1000.0, DATE '2025-12-31')) v(id, segment, stage, amount, closed_at)")


def test_a_rollup_answer_asked_again_runs_from_its_kept_plan_and_equals_the_raw_answer(tmp_path: Path) -> None:
    """The four deals of ``DEALS``: revenue 400 (SMB 100, ENT 300), win rate 2/3, from rollups as raw."""
    db = tmp_path / "crm.duckdb"
    backend = DuckDBBackend(str(db))
    backend.connection.execute(DEALS)
    served = KPI.from_text(YAML, base_dir=tmp_path, backend=backend)
    raw = KPI.from_text(YAML, base_dir=tmp_path, backend=backend, rollups=False)
    served.rollups.build()
    as_of = date(2026, 4, 15)
    for _ in range(3):  # the first reads the file, the second holds the part, the third runs its kept plan
        by_seg = served.query("revenue 2026-Q1 by segment", as_of=as_of, use_cache=False)
        rate = served.query("win_rate 2026-Q1", as_of=as_of, use_cache=False)
    assert by_seg.sql.startswith("-- answered from rollup by_day") and rate.sql.startswith("-- answered from rollup")
    rows = {r["segment"]: r["value"] for r in by_seg.breakdown_columns.records()}
    assert by_seg.value == 400 and rows == {"SMB": 100, "ENT": 300}
    assert rate.value == pytest.approx(2 / 3, rel=1e-12)
    plain = raw.query("revenue 2026-Q1 by segment", as_of=as_of, use_cache=False)
    assert by_seg.value == plain.value and by_seg.breakdown_columns.records() == plain.breakdown_columns.records()
    engine = served._local_engine
    assert len(kept(engine)) == 2  # one per question, on the held tables
    assert all(" FROM rollup_" in sql for sql in engine._local.plans)


def test_a_plan_is_never_kept_over_files_views_or_table_functions(tmp_path: Path) -> None:
    """A plan binds a glob's matches when it is made: a query over files must see a file that arrives
    later, so it always runs plainly (through a view of the files too, or a file named as a table)."""
    engine = DuckDBBackend(":memory:", reuse_plans=8)
    con = engine.connection
    for i in (1, 2):
        con.execute(f"COPY (SELECT range AS x FROM range({i})) TO '{tmp_path / f'p{i}.parquet'}' (FORMAT parquet)")
    (tmp_path / "c1.csv").write_text("x\n5\n")
    glob = tmp_path / "*.parquet"
    engine.run(f"CREATE VIEW files_v AS SELECT * FROM read_parquet('{glob}')", {})
    engine.run("CREATE TABLE t AS SELECT 1 AS x", {})
    engine.run("CREATE VIEW t_v AS SELECT * FROM t", {})
    over_files = [f"SELECT count(*) AS n FROM read_parquet('{glob}')",
                  "SELECT count(*) AS n FROM files_v",
                  f"WITH c AS (SELECT * FROM t) SELECT (SELECT count(*) FROM read_parquet('{glob}')) AS n FROM c"]
    for q in over_files:
        assert [engine.run(q, {}).records()[0]["n"] for _ in range(3)] == [3, 3, 3], q
    csv = f"SELECT sum(x) AS n FROM '{tmp_path / 'c1.csv'}'"
    other = ["SELECT count(*) AS n FROM t_v", csv]
    for q in other:
        for _ in range(3):
            engine.run(q, {})
    assert kept(engine) == []
    con.execute(f"COPY (SELECT range AS x FROM range(4)) TO '{tmp_path / 'p3.parquet'}' (FORMAT parquet)")
    assert [engine.run(q, {}).records()[0]["n"] for q in over_files] == [7, 7, 7]  # the new file is read
    tables = "WITH c AS (SELECT x FROM t), p AS (SELECT * FROM (VALUES (1)) AS v_(y)) SELECT count(*) AS n FROM c, p, main.t"
    for _ in range(2):
        assert engine.run(tables, {}).records() == [{"n": 1}]
    assert kept(engine) == ["kpi_plan_0"]  # CTEs, VALUES and (qualified) base tables only: kept
    engine.close()


@pytest.mark.parametrize(("sql", "keeps"), [
    ("SELECT * FROM t", True),
    ("SELECT * FROM main.t", True),
    ("SELECT * FROM memory.main.t", True),
    ("WITH t_v AS (SELECT 1) SELECT * FROM t_v", False),  # a CTE named like a view: not worth telling apart
    ("WITH a AS (SELECT * FROM t), b AS (SELECT * FROM a) SELECT * FROM b JOIN t USING (x)", True),
    ("SELECT * FROM t_v", False),
    ("SELECT * FROM nowhere", False),
    ("SELECT * FROM range(3)", False),
    ("SELECT * FROM t WHERE x IN (SELECT * FROM read_csv('x.csv'))", False),
    ("SELECT * FROM 'x.parquet'", False),
    ("SELEC oops", False),
    ("SELECT 1 AS a FROM t; SELECT 2 AS a FROM t", False),  # two statements: the last one answers
])
def test_which_statements_may_keep_a_plan(sql: str, keeps: bool) -> None:
    engine = DuckDBBackend(":memory:")
    engine.connection.execute("CREATE TABLE t AS SELECT 1 AS x; CREATE VIEW t_v AS SELECT * FROM t")
    assert DuckDBBackend._tables_only(engine.connection.cursor(), sql) is keeps
    engine.close()


def test_a_raw_answer_asked_again_runs_from_its_kept_plan_and_stays_right(tmp_path: Path) -> None:
    """The raw tables of a file opened from its URL (as `kpi`, the bot and a sync open it): the hand
    counts of ``DEALS`` (win rate 2/3), then 2/4 after a lost deal is added, from the same kept plan."""
    from metrics_core.backends import connect

    db = tmp_path / "crm.duckdb"
    writer = DuckDBBackend(str(db))
    writer.connection.execute(DEALS)
    backend = connect(f"duckdb:///{db}", base_dir=tmp_path)
    writer.close()
    assert backend._plans_max > 0
    kpi = KPI.from_text(YAML, base_dir=tmp_path, backend=backend, rollups=False)
    as_of = date(2026, 4, 15)
    rates = [kpi.query("win_rate 2026-Q1", as_of=as_of, use_cache=False).value for _ in range(3)]
    assert rates == [pytest.approx(2 / 3, rel=1e-12)] * 3
    assert any(sql.startswith("WITH periods") for sql, name in backend._local.plans.items() if isinstance(name, str))
    backend.connection.execute("INSERT INTO deals VALUES (5, 'SMB', 'lost', 10.0, DATE '2026-03-05')")
    assert kpi.query("win_rate 2026-Q1", as_of=as_of, use_cache=False).value == pytest.approx(2 / 4, rel=1e-12)
    by_seg = kpi.query("revenue 2026-Q1 by segment", as_of=as_of, use_cache=False)
    assert {r["segment"]: r["value"] for r in by_seg.breakdown_columns.records()} == {"SMB": 100, "ENT": 300}
    backend.close()


PIECES = ["SELECT", "WITH", "x AS (", ")", "*", "FROM", "t", "t_v", "read_parquet('a/*.parquet')", "'f.csv'",
          "JOIN", "ON true", "main.", "(VALUES (1))", "AS v_(y)", ",", "WHERE x IN (", "range(3)", "--c\n", ";"]
QUERIES = ["SELECT 1 AS a FROM t", "SELECT 2 AS a FROM t", "SELECT count(*) AS a FROM t_v", "SELECT max(x) AS a FROM t",
           "WITH c AS (SELECT x FROM t) SELECT sum(x) AS a FROM c", "SELECT count(*) AS a FROM range(3)"]
TEXTS = st.one_of(st.text(max_size=80), st.lists(st.sampled_from(PIECES), max_size=14).map(" ".join),
                  st.lists(st.sampled_from(QUERIES), min_size=1, max_size=3).map("; ".join))


def _outcome(engine: DuckDBBackend, sql: str) -> tuple[str, object]:
    try:
        return "rows", engine.run(sql, {}).records()
    except Exception as e:  # noqa: BLE001 - the kind of failure is what is compared
        return "error", type(e).__name__


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(TEXTS)
def test_any_text_gives_what_it_gives_without_kept_plans(engine: DuckDBBackend, sql: str) -> None:
    """Whatever the text (DuckDB may not even parse it), judging it never raises, and running it three
    times on an engine that keeps plans gives what it gives on one that keeps none: the same rows or
    the same kind of error, each time."""
    assert isinstance(DuckDBBackend._tables_only(engine.connection.cursor(), sql), bool)
    plain = DuckDBBackend(":memory:")
    for e in (engine, plain):
        e.connection.execute("CREATE OR REPLACE TABLE t AS SELECT range AS x FROM range(5)")
        e.connection.execute("CREATE OR REPLACE VIEW t_v AS SELECT * FROM t")
    expected = _outcome(plain, sql)
    assert [_outcome(engine, sql) for _ in range(3)] == [expected] * 3
    plain.close()
