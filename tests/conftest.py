"""Shared fixtures. Services (PostgreSQL, Spark) start once per session, on first use.

A service that cannot start here skips its tests with the reason; with KPI_REQUIRE_SERVICES=1
(set by .ci/run) the same reason fails them instead, so CI never passes by skipping.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/ helpers (services) importable in any import mode
import services  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    # pyspark 4.x warns on every toPandas() under pandas 3; one line would say it, not a thousand.
    config.addinivalue_line("filterwarnings", "ignore:PySpark does not yet fully support pandas::pyspark")
    config.addinivalue_line("filterwarnings", "ignore:The copy keyword is deprecated::pyspark")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a throwaway PostgreSQL server (user kpi, database postgres, trust auth)."""
    try:
        server = services.start_postgres()
    except services.Unavailable as e:
        services.unavailable(str(e))
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A local[2] SparkSession with kpi's light settings (UTC, 2 shuffle partitions, no UI)."""
    try:
        services.check_spark()
    except services.Unavailable as e:
        services.unavailable(str(e))
    from metrics_core.backends.spark import builder_for

    warehouse = str(tmp_path_factory.mktemp("spark-warehouse"))
    try:
        session = builder_for("spark://local[2]", warehouse_dir=warehouse).getOrCreate()
    except Exception as e:  # the JVM failing to start surfaces as several exception types
        services.unavailable(f"Spark local session did not start: {str(e).splitlines()[0] if str(e) else e!r}")
    try:
        yield session
    finally:
        session.stop()


@pytest.fixture(scope="session")
def spark_url(spark_session: object) -> str:
    """A URL that reaches the running local session (getOrCreate returns it)."""
    return "spark://local[2]"
