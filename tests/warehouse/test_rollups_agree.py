"""Answers from rollups equal answers from the raw tables, on DuckDB, PostgreSQL and Spark.

The shipped definitions and their shipped rollups, on the generated CRM of test_engines_agree
(3,000 deals): every shipped metric is asked every question kind (period, breakdown, comparison,
series by week / month / fiscal quarter / day, filter) with rollups built into the engine, and each
answer must (a) come from a rollup (its SQL says so) and (b) equal DuckDB's raw answer to a relative
1e-9 (test_engines_agree shows the raw answers agree across engines). Stores: DuckDB reads local
Parquet files; PostgreSQL keeps tables in a schema (warehouse) or local Parquet read by an
in-process DuckDB; Spark keeps warehouse tables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from metrics_core.api import KPI
from metrics_core.backends.duckdb import DuckDBBackend

import replicate
from test_engines_agree import AS_OF, DEFINITIONS, QUESTIONS, question, same, summary

# Spark answers each question in about a second: there, one question of each kind per metric.
KINDS = ("last-quarter", "2026-Q3 by {dim}", "last-quarter vs last-year", "last-6-months grain month",
         "last-week grain day where {dim}={value}")


def cases(forms: tuple[str, ...]) -> list[str]:
    kpi = KPI.from_path(DEFINITIONS)
    names = [n for n, m in kpi.definitions.metrics.items() if not m.hidden and m.type != "constant"]
    return [text for name in names for t in forms if (text := question(kpi, name, t))]


def definitions_text(store: str, directory: Path) -> str:
    text = DEFINITIONS.read_text(encoding="utf-8")
    return text.replace("  store: local\n  directory: .kpi/rollups\n",
                        f"  store: {store}\n  directory: {directory}\n  schema: kpi_rollups_test\n")


@pytest.fixture(scope="module")
def crm() -> DuckDBBackend:
    from metrics_core.demo_data import generate

    backend = DuckDBBackend(":memory:")
    generate(backend.connection, deals=3000, until=AS_OF)
    return backend


@pytest.fixture(scope="module")
def raw(crm: DuckDBBackend) -> KPI:
    return KPI.from_path(DEFINITIONS, backend=crm, rollups=False)


@pytest.fixture(scope="module")
def served(request: pytest.FixtureRequest, crm: DuckDBBackend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KPI]:
    """The shipped rollups built on one engine and store ("postgres-warehouse"), for the module."""
    engine, store = request.param.split("-")
    backend: Any
    if engine == "duckdb":
        backend = crm
    elif engine == "postgres":
        from metrics_core.backends.postgres import PostgresBackend

        url = request.getfixturevalue("postgres_url")
        replicate.copy_to_postgres(crm.connection, url)
        backend = PostgresBackend(url)
    else:
        from metrics_core.backends.spark import SparkBackend

        session = request.getfixturevalue("spark_session")
        replicate.copy_to_spark(crm.connection, session)
        backend = SparkBackend(session, "spark://local[2]")
    directory = tmp_path_factory.mktemp(f"rollups-{request.param}")
    kpi = KPI.from_text(definitions_text(store, directory), base_dir=directory, backend=backend)
    report = kpi.rollups.build()
    assert all(r["mode"] == "full" for r in report), report
    yield kpi
    kpi.rollups.drop()
    if engine == "postgres":
        backend.close()


_expected: dict[str, Any] = {}


class _Answered:
    """Hands ``summary`` an answer already computed (one query per question and setup)."""

    def __init__(self, result: Any) -> None:
        self.result = result

    def query(self, *args: Any, **kw: Any) -> Any:
        return self.result


@pytest.mark.parametrize("served", ["duckdb-local", "postgres-warehouse", "postgres-local"], indirect=True)
@pytest.mark.parametrize("text", cases(QUESTIONS))
def test_rollup_answer_equals_raw(raw: KPI, served: KPI, text: str) -> None:
    check(raw, served, text)


@pytest.mark.spark
@pytest.mark.parametrize("served", ["spark-warehouse"], indirect=True)
@pytest.mark.parametrize("text", cases(KINDS))
def test_rollup_answer_equals_raw_on_spark(raw: KPI, served: KPI, text: str) -> None:
    check(raw, served, text)


def check(raw: KPI, served: KPI, text: str) -> None:
    if text not in _expected:
        _expected[text] = summary(raw, text)
    result = served.query(text, as_of=AS_OF, use_cache=False)
    first = result.sql.splitlines()[0]
    # every question is served: spend, dated by month, too (a window cutting a month takes its share by days)
    assert first.startswith("-- answered from rollup"), f"'{text}' was not served from a rollup:\n{result.sql[:400]}"
    got = summary(_Answered(result), text)
    if not same(_expected[text], got):
        pytest.fail(f"{served.dialect} with rollups disagrees with raw on '{text}':\n  raw: {_expected[text]}\n"
                    f"  rollups: {got}\n  sql: {result.sql}", pytrace=False)
