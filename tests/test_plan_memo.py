"""The memo of planned questions and statements (metrics_core.memo): it saves work, never changes an answer.

Four deals, counted by hand for 2026-Q1 (as of 2026-04-15):

    id  segment  stage  amount  closed_at
    1   SMB      won       100  2026-01-10
    2   ENT      won       300  2026-02-11
    3   SMB      lost       50  2026-03-01
    4   ENT      won      1000  2025-12-31   (2025-Q4)

revenue 2026-Q1 = 400 (SMB 100, ENT 300), 2025-Q4 = 1000; won deals 2026-Q1 = 2.
"""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pytest

from metrics_core.api import KPI
from metrics_core.backends.duckdb import DuckDBBackend
from metrics_core.memo import Memo

AS_OF = date(2026, 4, 15)
YAML = """
tables:
  deals:
    source: deals
    primary_key: id
    time: closed_at
    columns: {id: integer, segment: string, stage: string, amount: number, closed_at: date}
    dimensions: {segment: segment}
measures:
  won: {table: deals, agg: count, filter: "stage = 'won'"}
  revenue: {table: deals, agg: sum, expr: amount, filter: "stage = 'won'"}
metrics:
  revenue: {measure: revenue}
  won_deals: {measure: won}
rollups:
  directory: rollups
  by_day:
    measures: [won, revenue]
    dimensions: [segment]
"""
ROWS = "(1, 'SMB', 'won', 100, DATE '2026-01-10'), (2, 'ENT', 'won', 300, DATE '2026-02-11'), " \
       "(3, 'SMB', 'lost', 50, DATE '2026-03-01'), (4, 'ENT', 'won', 1000, DATE '2025-12-31')"


def crm(root: Path) -> DuckDBBackend:
    backend = DuckDBBackend(str(root / "crm.duckdb"))
    backend.connection.execute("CREATE TABLE deals (id INTEGER, segment VARCHAR, stage VARCHAR, amount DOUBLE, "
                               f"closed_at DATE); INSERT INTO deals VALUES {ROWS}")
    return backend


def ask(kpi: KPI, text: str):  # noqa: ANN201
    return kpi.query(text, as_of=AS_OF, use_cache=False)


# -- the memo itself -----------------------------------------------------------------------------
def test_the_least_recently_used_entry_goes_first() -> None:
    memo = Memo(size=2)
    assert memo.get("a", lambda: 1) == 1 and memo.get("b", lambda: 2) == 2
    assert memo.get("a", lambda: 99) == 1  # a hit: "a" is now the most recent
    assert memo.get("c", lambda: 3) == 3  # "b" goes
    assert len(memo) == 2
    assert memo.get("b", lambda: 20) == 20 and memo.get("a", lambda: 10) == 10  # "b" was made again; then "c" went, "a" too
    assert (memo.stats.hits, memo.stats.misses) == (1, 5)


def test_a_failing_make_stores_nothing() -> None:
    memo = Memo(size=4)

    def bad() -> int:
        raise ValueError("no")

    with pytest.raises(ValueError):
        memo.get("k", bad)
    assert len(memo) == 0 and memo.get("k", lambda: 5) == 5


def test_threads_asking_at_once_get_their_own_keys_values() -> None:
    memo = Memo(size=64)
    wrong: list[tuple[int, int]] = []

    def work(seed: int) -> None:
        for i in range(2000):
            k = (seed * 7 + i) % 200
            v = memo.get(k, lambda k=k: k * k)
            if v != k * k:
                wrong.append((k, v))

    threads = [threading.Thread(target=work, args=(s,)) for s in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == [] and len(memo) == 64
    assert memo.stats.hits + memo.stats.misses == 8 * 2000


# -- in the facade -------------------------------------------------------------------------------
def test_a_repeated_question_is_planned_and_compiled_once(tmp_path: Path) -> None:
    kpi = KPI.from_text(YAML, base_dir=tmp_path, backend=crm(tmp_path), rollups=False)
    first = ask(kpi, "revenue 2026-Q1 by segment")
    misses = kpi.plans.stats.misses
    again = ask(kpi, "revenue 2026-Q1 by segment")
    assert kpi.plans.stats.misses == misses  # the plan, the statement and the excluded-rows statement: hits
    assert (first.value, again.value, first.sql) == (400.0, 400.0, again.sql)
    assert sorted(zip(again.breakdown_columns["segment"], again.breakdown_columns["value"])) == [("ENT", 300.0), ("SMB", 100.0)]
    assert ask(kpi, "revenue 2026-Q1").value == 400.0  # another question: planned anew
    assert kpi.plans.stats.misses > misses


def test_the_day_asked_on_is_part_of_the_plan(tmp_path: Path) -> None:
    """"last-quarter" asked on two days names two quarters: never the first day's windows."""
    kpi = KPI.from_text(YAML, base_dir=tmp_path, backend=crm(tmp_path), rollups=False)
    assert kpi.query("revenue last-quarter", as_of=AS_OF, use_cache=False).value == 400.0
    assert kpi.query("revenue last-quarter", as_of=date(2026, 2, 1), use_cache=False).value == 1000.0


def test_changed_definitions_get_a_new_plan(tmp_path: Path) -> None:
    """A reload builds a new KPI from the edited file; its answers follow the edit at once."""
    path = tmp_path / "definitions.yaml"
    backend = crm(tmp_path)
    path.write_text(YAML, encoding="utf-8")
    before = KPI.from_path(path, backend=backend, rollups=False)
    assert ask(before, "revenue 2026-Q1").value == 400.0
    path.write_text(YAML.replace("expr: amount,", "expr: amount * 2,"), encoding="utf-8")
    after = KPI.from_path(path, backend=backend, rollups=False)
    assert ask(after, "revenue 2026-Q1").value == 800.0
    assert "* 2" in ask(after, "revenue 2026-Q1").sql and "* 2" not in ask(before, "revenue 2026-Q1").sql


def test_changed_data_never_reads_a_stale_rollup_from_the_memo(tmp_path: Path) -> None:
    backend = crm(tmp_path)
    kpi = KPI.from_text(YAML, base_dir=tmp_path, backend=backend)
    kpi.rollups.build()
    for _ in range(3):  # the first ask reads the part's file, later ones a copy held in memory: all memoised
        r = ask(kpi, "revenue 2026-Q1")
        assert r.sql.startswith("-- answered from rollup by_day") and r.value == 400.0
    backend.connection.execute("INSERT INTO deals VALUES (5, 'SMB', 'won', 25, DATE '2026-03-15')")
    stale = ask(kpi, "revenue 2026-Q1")
    assert stale.sql.startswith("-- raw tables: no rollup serves revenue: by_day is stale") and stale.value == 425.0
    kpi.rollups.build()
    for _ in range(2):
        fresh = ask(kpi, "revenue 2026-Q1")
        assert fresh.sql.startswith("-- answered from rollup by_day") and fresh.value == 425.0
    assert fresh.sql != r.sql  # the statement reads the rebuilt version, not the memoised old one
