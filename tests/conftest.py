"""Shared fixtures. Services (PostgreSQL, Spark) start once per session, on first use.

A service that cannot start here skips its tests with the reason; with KPI_REQUIRE_SERVICES=1
(set by .ci/run) the same reason fails them instead, so CI never passes by skipping.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/ helpers (services) importable in any import mode
import services  # noqa: E402

_CACHE_HOME = ""  # the session's own cache directory (pytest_configure)


def pytest_configure(config: pytest.Config) -> None:
    # The definitions cache and compiled catalogs go to the user's cache directory: tests (and the kpi
    # processes they start, which inherit the environment) use a directory of their own instead.
    global _CACHE_HOME
    _CACHE_HOME = os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="kpi-tests-cache-")
    # pyspark 4.x warns on every toPandas() under pandas 3; one line would say it, not a thousand.
    config.addinivalue_line("filterwarnings", "ignore:PySpark does not yet fully support pandas::pyspark")
    config.addinivalue_line("filterwarnings", "ignore:The copy keyword is deprecated::pyspark")


def pytest_unconfigure(config: pytest.Config) -> None:
    if _CACHE_HOME:
        shutil.rmtree(_CACHE_HOME, ignore_errors=True)


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
