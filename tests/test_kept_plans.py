"""Kept plans (``DuckDBBackend(reuse_plans=N)``): the in-memory engine that holds rollup parts runs a
query it has seen before from DuckDB's prepared plan. A kept plan must never change a result: it reads
the rows as they are when it runs, a failing statement is not kept, statements with parameters and
statements that are not queries are never prepared, and each thread keeps its own."""

from __future__ import annotations

import gc
import threading
import time
from datetime import date
from pathlib import Path

import pytest

from metrics_core.api import KPI
from metrics_core.backends.duckdb import QUERY, DuckDBBackend
from metrics_core.errors import DataError

KEPT = "SELECT name FROM duckdb_prepared_statements() ORDER BY name"


def kept(engine: DuckDBBackend) -> list[str]:
    """The statements prepared on this thread's cursor, as DuckDB lists them, each checked against the
    engine's own record of them (listing them here is not a query kept by the engine)."""
    names = [row[0] for row in engine._plan_cursor().execute(KEPT).fetchall()]
    assert sorted(names) == sorted(engine._local.plans.values())
    return names


@pytest.fixture
def engine() -> DuckDBBackend:
    e = DuckDBBackend(":memory:", reuse_plans=2)
    e.run("CREATE TABLE t AS SELECT range AS x FROM range(5)", {})
    return e


def test_a_repeated_query_is_prepared_once_and_reads_the_rows_as_they_are(engine: DuckDBBackend) -> None:
    q = "SELECT count(*) AS n, sum(x) AS s FROM t"
    assert engine.run(q, {}).records() == [{"n": 5, "s": 10}]
    assert engine.run(q, {}).records() == [{"n": 5, "s": 10}]
    assert kept(engine) == ["kpi_plan_0"] and engine._local.plans == {q: "kpi_plan_0"}
    engine.run("INSERT INTO t VALUES (100)", {})  # rows added under the kept plan
    assert engine.run(q, {}).records() == [{"n": 6, "s": 110}]
    engine.run("CREATE OR REPLACE TABLE t AS SELECT 'a' AS x", {})  # the table replaced, another type
    with pytest.raises(DataError):
        engine.run(q, {})  # sum of text: the plan is bound again, and fails as a fresh statement would
    assert engine.run("SELECT count(*) AS n FROM t", {}).records() == [{"n": 1}]


def test_the_least_recently_used_plan_is_deallocated(engine: DuckDBBackend) -> None:
    a, b, c = (f"SELECT {i} AS v, count(*) AS n FROM t" for i in range(3))
    for q in (a, b, a, c):  # a used again after b: b is the least recent when c comes
        assert engine.run(q, {}).records()[0]["n"] == 5
    assert kept(engine) == ["kpi_plan_0", "kpi_plan_2"] and list(engine._local.plans) == [a, c]
    assert engine.run(b, {}).records() == [{"v": 1, "n": 5}]  # prepared again, a now goes
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


def test_a_rollup_answer_asked_again_runs_from_its_kept_plan_and_equals_the_raw_answer(tmp_path: Path) -> None:
    """Four deals, by hand for 2026-Q1: won SMB 100 (Jan 10), won ENT 300 (Feb 11), lost SMB (Mar 1);
    won ENT 1000 on 2025-12-31 is 2025-Q4. Revenue 400 (SMB 100, ENT 300), win rate 2/3."""
    db = tmp_path / "crm.duckdb"
    backend = DuckDBBackend(str(db))
    backend.connection.execute(
        "CREATE TABLE deals AS SELECT * FROM (VALUES (1, 'SMB', 'won', 100.0, DATE '2026-01-10'), "
        "(2, 'ENT', 'won', 300.0, DATE '2026-02-11'), (3, 'SMB', 'lost', 50.0, DATE '2026-03-01'), "
        "(4, 'ENT', 'won', 1000.0, DATE '2025-12-31')) v(id, segment, stage, amount, closed_at)")
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
