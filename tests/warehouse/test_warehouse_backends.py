"""Each backend against its real engine (PostgreSQL server, Spark local) or its binding rules.

The same statement, with named parameters rendered in each dialect, must come back as the same
plain Python values in ``Columns``: floats for NUMERIC/DECIMAL, ``datetime.date`` for DATE.
"""

from __future__ import annotations

import sys
from datetime import date

import pytest

from metrics_core.errors import ConfigError, DataError

PROBE = {  # dialect -> the same question, placeholders as SQLGlot renders them
    "postgres": "SELECT CAST(%(p0)s AS DATE) AS day, AVG(x) AS mean, COUNT(*) AS n, 'a%' AS lit "
                "FROM (VALUES (1), (2), (4)) AS t(x) WHERE x >= %(p1)s",
    "spark": "SELECT CAST(:p0 AS DATE) AS day, AVG(CAST(x AS DECIMAL(10, 2))) AS mean, COUNT(*) AS n, 'a%' AS lit "
             "FROM VALUES (1), (2), (4) AS t(x) WHERE x >= :p1",
}
PARAMS = {"p0": date(2026, 11, 27), "p1": 2}


def check_probe(cols) -> None:
    assert cols.names == ("day", "mean", "n", "lit")
    row = cols.records()[0]
    assert row == {"day": date(2026, 11, 27), "mean": 3.0, "n": 2, "lit": "a%"}
    assert isinstance(row["mean"], float)


@pytest.fixture(scope="module")
def pg(postgres_url):
    from metrics_core.backends.postgres import PostgresBackend

    backend = PostgresBackend(postgres_url)
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def spark(spark_session):
    from metrics_core.backends.spark import SparkBackend

    return SparkBackend(spark_session, "spark://local[2]")


def test_postgres_binds_named_params_and_returns_plain_types(pg):
    check_probe(pg.run(PROBE["postgres"], PARAMS))


def test_postgres_missing_table_is_a_data_error(pg):
    with pytest.raises(DataError, match='relation "no_such_table" does not exist'):
        pg.run("SELECT * FROM no_such_table", {})


def test_postgres_columns_and_data_version_follow_writes(pg):
    pg.run("CREATE TABLE IF NOT EXISTS probe_t (a integer, d date)", {})
    assert pg.table_columns("probe_t") == ["a", "d"]
    assert pg.table_columns("public.probe_t") == ["a", "d"]
    assert pg.table_columns("no_such_table") is None
    before = pg.data_version()
    assert before == pg.data_version()  # reading does not move it
    pg.run("INSERT INTO probe_t VALUES (1, DATE '2026-01-01')", {})
    assert pg.data_version() != before


def test_postgres_bad_url_is_a_config_error_without_password():
    from metrics_core.backends.postgres import PostgresBackend

    with pytest.raises(ConfigError) as err:
        PostgresBackend("postgresql://kpi:s3cret@127.0.0.1:1/sales")
    assert "s3cret" not in str(err.value) and "cannot connect to PostgreSQL" in str(err.value)


def test_spark_binds_named_params_and_returns_plain_types(spark):
    check_probe(spark.run(PROBE["spark"], PARAMS))


def test_spark_missing_table_and_column_are_data_errors(spark):
    with pytest.raises(DataError, match="TABLE_OR_VIEW_NOT_FOUND"):
        spark.run("SELECT * FROM no_such_table", {})
    with pytest.raises(DataError, match="UNRESOLVED_COLUMN"):
        spark.run("SELECT no_such_column FROM VALUES (1) AS t(x)", {})


def test_spark_session_settings(spark):
    conf = spark.session.conf
    assert conf.get("spark.sql.session.timeZone") == "UTC"
    assert conf.get("spark.sql.shuffle.partitions") == "2"


def test_snowflake_named_markers_become_numeric_binds():
    from metrics_core.backends.snowflake import numeric_binding

    sql, values = numeric_binding("SELECT COUNT(*) FROM deals WHERE closed_at >= :p0 AND closed_at < :p1 "
                                  "AND segment IN (:p2, :p0)", {"p0": 1, "p1": 2, "p2": 3})
    assert sql == "SELECT COUNT(*) FROM deals WHERE closed_at >= :1 AND closed_at < :2 AND segment IN (:3, :1)"
    assert values == [1, 2, 3]


def test_snowflake_url_to_connect_args(monkeypatch):
    from metrics_core.backends.snowflake import connect_args

    monkeypatch.setenv("SNOWFLAKE_PASSWORD", "pw")
    args = connect_args("snowflake://ana@acme-eu1/SALES/CRM?warehouse=BI_WH&role=ANALYST&bogus=1")
    assert args == {"account": "acme-eu1", "user": "ana", "password": "pw", "application": "kpi",
                    "database": "SALES", "schema": "CRM", "warehouse": "BI_WH", "role": "ANALYST"}


def test_bigquery_parameter_types():
    from metrics_core.backends.bigquery import param_type

    assert [param_type(v) for v in ("x", 1, 1.5, True, date(2026, 1, 1))] == \
        ["STRING", "INT64", "FLOAT64", "BOOL", "DATE"]
    with pytest.raises(ConfigError, match="cannot bind a dict"):
        param_type({})


@pytest.mark.parametrize("url, package, extra", [
    ("postgresql://kpi@localhost/sales", "psycopg", "postgres"),
    ("bigquery://project/dataset", "google-cloud-bigquery", "bigquery"),
    ("snowflake://me@acct/db/schema", "snowflake-connector-python", "snowflake"),
])
def test_missing_driver_names_the_install_command(monkeypatch, url, package, extra):
    from metrics_core.backends import bigquery, postgres, snowflake

    for blocked in ("psycopg", "google.cloud.bigquery", "snowflake.connector", "snowflake"):
        monkeypatch.setitem(sys.modules, blocked, None)  # import now raises ImportError
    opener = {"postgres": lambda: postgres.PostgresBackend(url), "bigquery": lambda: bigquery.BigQueryBackend.from_url(url),
              "snowflake": lambda: snowflake.SnowflakeBackend.from_url(url)}[extra]
    with pytest.raises(ConfigError, match=rf"pip install 'kpi\[{extra}\]'") as err:
        opener()
    assert package in str(err.value)


def test_missing_service_skips_with_reason_or_fails_under_ci(monkeypatch):
    import services

    monkeypatch.delenv("KPI_REQUIRE_SERVICES", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no initdb here"):
        services.unavailable("no initdb here")
    monkeypatch.setenv("KPI_REQUIRE_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception, match="KPI_REQUIRE_SERVICES=1.*no initdb here"):
        services.unavailable("no initdb here")


def test_postgres_binaries_missing_is_unavailable_with_install_hint(monkeypatch):
    import services

    monkeypatch.setattr(services, "pg_bindir", lambda: None)
    with pytest.raises(services.Unavailable, match="apt-get install -y postgresql"):
        services.start_postgres()


def test_spark_connect_without_its_extra_names_the_install(monkeypatch):
    from metrics_core.backends.spark import SparkBackend

    monkeypatch.setitem(sys.modules, "grpc", None)
    with pytest.raises(ConfigError, match=r"pip install 'kpi\[spark-connect\]'"):
        SparkBackend.from_url("sc://spark.example:15002")


def test_spark_url_must_name_a_master():
    from metrics_core.backends.spark import SparkBackend

    with pytest.raises(ConfigError, match="spark://local"):
        SparkBackend.from_url("spark://")


@pytest.mark.parametrize("module", ["bigquery", "snowflake"])
def test_warehouse_data_version_is_reused_briefly(module):
    """Each version lookup is a query on a paid warehouse: it is asked once per VERSION_SECONDS."""
    import importlib

    from metrics_core.columns import Columns

    mod = importlib.import_module(f"metrics_core.backends.{module}")
    cls = getattr(mod, {"bigquery": "BigQueryBackend", "snowflake": "SnowflakeBackend"}[module])
    backend = cls.__new__(cls)
    backend.dataset, backend.url, backend._version = "p.d", f"{module}://x", (float("-inf"), None)
    calls = []
    backend.run = lambda sql, params: calls.append(sql) or Columns({"v": [1700000000000]})
    first = backend.data_version()
    assert first and backend.data_version() == first and len(calls) == 1


def test_postgres_sessions_run_in_utc_whatever_the_server_default(postgres_url):
    """timestamptz bounds are compared in UTC even when the role/server default zone is not."""
    from metrics_core.backends.postgres import PostgresBackend

    backend = PostgresBackend(postgres_url + "?options=-c%20TimeZone%3DAmerica/New_York")
    try:
        assert backend.run("SHOW TIME ZONE", {}).scalar() == "UTC"
        n = backend.run("SELECT COUNT(*) AS n FROM (SELECT TIMESTAMPTZ '2026-07-01 05:00:00+00' AS ts) AS t "
                        "WHERE ts >= CAST('2026-07-01 04:00:00' AS TIMESTAMP)", {})
        assert n.scalar() == 1  # 05:00 UTC is after 04:00 UTC (in New York time it would not be)
    finally:
        backend.close()
