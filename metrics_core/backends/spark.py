"""Spark backend (layer: backends): a local session, a standalone master, or Spark Connect.

    SparkBackend.from_url("spark://local[2]")          # in-process local session (tests, laptops)
    SparkBackend.from_url("spark://host:7077")         # a standalone cluster master
    SparkBackend.from_url("sc://host:15002")           # Spark Connect (a cluster, Databricks)
    SparkBackend(existing_session)                     # reuse a session you already have

Placeholders are Spark's named parameter markers ``:p0``, bound with ``spark.sql(sql, args=...)``.
The local session is kept light: two shuffle partitions, no UI, session time zone UTC (so
TIMESTAMP -> DATE casts give the same day as the other engines). ANSI mode stays at Spark's
default (on in Spark 4, as on Databricks): the compiler's SQL must not rely on lenient casts or
division by zero returning NULL.
"""

from __future__ import annotations

import os
from typing import Any

from ..columns import Columns
from ..errors import ConfigError, DataError, InternalError, missing_extra
from ..i18n import _

LOCAL_CONF = {
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
    "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
}
_DATA_ERRORS = ("TABLE_OR_VIEW_NOT_FOUND", "UNRESOLVED_COLUMN", "UNRESOLVED_ROUTINE", "CAST_INVALID_INPUT")


def _pyspark_sql() -> Any:
    try:
        from pyspark import sql
    except ImportError as e:
        raise missing_extra("pyspark", "spark") from e
    return sql


def builder_for(url: str, *, warehouse_dir: str | None = None) -> Any:
    """A SparkSession builder for a spark:// or sc:// URL (not yet started)."""
    sql = _pyspark_sql()
    scheme, _sep, rest = url.partition("://")
    if scheme == "sc":
        try:
            import grpc  # noqa: F401  (Spark Connect's transport, only in the spark-connect extra)
        except ImportError as e:
            raise missing_extra("grpcio", "spark-connect") from e
        # Session time zone UTC on a cluster too: the compiler's timestamp bounds are UTC.
        return sql.SparkSession.builder.remote(url).config("spark.sql.session.timeZone", "UTC")
    if scheme != "spark" or not rest:
        raise ConfigError(_("connection '{url}': expected spark://local[N], spark://host:port or sc://host:port").format(
            url=url))
    local = rest.startswith("local")
    master = rest.rstrip("/") if local else f"spark://{rest}"
    builder = sql.SparkSession.builder.master(master).appName("kpi")
    for key, value in LOCAL_CONF.items():
        builder = builder.config(key, value)
    if local:  # not ./spark-warehouse in whatever directory kpi runs from
        builder = builder.config("spark.sql.warehouse.dir", os.path.abspath(warehouse_dir or ".kpi/spark-warehouse"))
    return builder


class SparkBackend:
    dialect = "spark"

    def __init__(self, session: Any, url: str = "spark://session", *, owned: bool = False) -> None:
        self.session = session
        self.url = url
        self._owned = owned  # stop the session on close() only when this backend started it

    @classmethod
    def from_url(cls, url: str) -> "SparkBackend":
        builder = builder_for(url)
        owned = url.startswith("spark://") and _pyspark_sql().SparkSession.getActiveSession() is None
        try:
            session = builder.getOrCreate()
        except ConfigError:
            raise
        except Exception as e:  # Java missing, master unreachable: the driver raises many kinds
            raise ConfigError(_("connection '{url}': cannot start Spark: {reason} (Spark local needs Java 17+ on "
                                "PATH or JAVA_HOME)").format(url=url, reason=str(e).splitlines()[0])) from e
        return cls(session, url, owned=owned)

    def run(self, sql: str, params: dict[str, Any]) -> Columns:
        try:
            df = self.session.sql(sql, args=params or None)
            names, rows = df.columns, df.collect()  # Row tuples: DECIMAL -> float in Columns
        except _errors().PySparkException as e:
            if _is_data_error(e):
                raise DataError(_("Spark: {error} (check tables: and columns in definitions.yaml)").format(
                    error=_first_line(e))) from e
            raise InternalError(_("Spark query failed: {error}").format(error=_first_line(e))) from e
        return Columns.from_rows(names, rows)

    def table_columns(self, table: str) -> list[str] | None:
        try:
            if not self.session.catalog.tableExists(table):
                return None
            return list(self.session.table(table).columns)
        except _errors().PySparkException:
            return None

    def data_version(self) -> str | None:
        # Spark tables carry no cheap change counter that works for views and files alike:
        # the cache falls back to its TTL.
        return None

    def close(self) -> None:
        # A session is process-wide (getOrCreate): stopping one that a caller shares would
        # break them, so only a session this backend started is stopped.
        if self._owned:
            self.session.stop()


def _errors() -> Any:
    _pyspark_sql()
    from pyspark import errors

    return errors


def _first_line(e: Exception) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


def _is_data_error(e: Exception) -> bool:
    cond = getattr(e, "getCondition", None) or getattr(e, "getErrorClass", None)
    name = (cond() if cond else None) or ""
    return name.startswith(_DATA_ERRORS) or any(k in str(e) for k in _DATA_ERRORS)

