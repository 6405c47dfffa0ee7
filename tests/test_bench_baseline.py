"""The benchmark's baseline agrees with kpi, cell by cell (not timed: `python -m bench core` times it).

bench/handsql.py is the SQL an analyst writes by hand without kpi: its own stage and segment
cleaning, ``date_trunc`` buckets, ``MIN()`` per account, ``EXISTS`` for "won within 90 days". On a
small generated CRM, every shipped metric x {"last quarter", "12 months by segment"} must give the
same window totals, comparison, segment rows and series months three ways: hand SQL, kpi on the raw
tables, and kpi served by the shipped rollups. So the benchmark's "same" column is a test too, and
a change that made kpi faster by answering something else fails here before any table is printed.
"""

from __future__ import annotations

import io

import duckdb
import pytest
from rich.console import Console

from bench.core import AS_OF, ROOT, bench_questions
from metrics_core import KPI
from metrics_core.demo_data import generate


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> list:
    path = tmp_path_factory.mktemp("bench") / "crm.duckdb"
    con = duckdb.connect(str(path))
    generate(con, deals=3_000, until=AS_OF)
    con.close()
    return bench_questions(path, 1, Console(file=io.StringIO()))


@pytest.fixture(scope="module")
def metrics() -> dict:
    return KPI.from_path(ROOT / "definitions.yaml", connection="duckdb:///:memory:").definitions.metrics


def test_every_shipped_metric_is_benchmarked_both_ways(rows: list, metrics: dict) -> None:
    asked = {(r.metric, r.form) for r in rows}
    for name, d in metrics.items():
        assert (name, "last quarter") in asked
        assert ((name, "12 months by segment") in asked) == (d.type != "constant")


def test_hand_sql_kpi_raw_and_rollups_give_the_same_cells(rows: list) -> None:
    differ = [(r.metric, r.form, r.detail) for r in rows if not r.same]
    assert differ == []


def test_the_shipped_rollups_serve_every_question_that_needs_a_statement(rows: list, metrics: dict) -> None:
    raw = [(r.metric, r.form) for r in rows if not r.served and metrics[r.metric].type != "constant"]
    assert raw == []
    assert all(len(ts) == 1 for r in rows for ts in r.times.values())  # one timed round of each way
