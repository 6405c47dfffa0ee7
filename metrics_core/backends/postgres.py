"""PostgreSQL backend (layer: backends): psycopg 3, one connection per thread, autocommit reads.

    backend = PostgresBackend("postgresql://kpi@localhost:5432/sales")
    backend = PostgresBackend("postgresql:///sales?host=/tmp/pg&port=54321")   # unix socket
    backend.run("SELECT count(*) AS n FROM deals WHERE stage = %(p0)s", {"p0": "won"})

Placeholders are psycopg's pyformat ``%(p0)s`` (what SQLGlot renders for the postgres dialect).
NUMERIC columns (``avg(int)``, ``sum(numeric)``) come back as float, not ``Decimal``, so numbers
compare equal with the other engines; DATE stays ``datetime.date``. Sessions run in UTC.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from ..columns import Columns
from ..errors import ConfigError, DataError, InternalError, missing_extra, redact
from ..i18n import _

# A literal "%" must be doubled once parameters are bound: "x LIKE 'a%'" -> "x LIKE 'a%%'".
# Placeholders such as "%(p0)s" are left alone.
_LONE_PERCENT = re.compile(r"%(?!\(\w+\)s)")


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError as e:
        raise missing_extra("psycopg", "postgres") from e
    return psycopg


def _conninfo(url: str) -> str:
    """psycopg accepts postgresql:// and postgres://; drop a SQLAlchemy-style "+driver"."""
    scheme, rest = url.split("://", 1)
    return f"{scheme.split('+')[0]}://{rest}"


class PostgresBackend:
    dialect = "postgres"

    def __init__(self, url: str) -> None:
        self.url = url
        self._conninfo = _conninfo(url)
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()
        self._conn()  # fail now, with a clear message, rather than at the first question

    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is not None and not conn.closed:
            return conn
        psycopg = _psycopg()
        try:
            conn = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=10)
        except psycopg.Error as e:  # OperationalError; ProgrammingError for a malformed URL (bad % escape)
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise ConfigError(_("connection '{url}': cannot connect to PostgreSQL: {first} (check host, port, user, "
                                "password and database in the URL)").format(url=redact(self.url), first=first)) from e
        # timestamptz values and comparisons in UTC, whatever the server's default: the compiler
        # writes timestamp bounds in UTC (days are cut in the calendar's zone before that).
        conn.execute("SET TIME ZONE 'UTC'")
        self._local.conn = conn
        with self._lock:
            self._all.append(conn)
        return conn

    def run(self, sql: str, params: dict[str, Any]) -> Columns:
        psycopg = _psycopg()
        query = _LONE_PERCENT.sub("%%", sql) if params else sql
        try:
            with self._conn().cursor() as cur:
                cur.execute(query, params or None)
                if cur.description is None:
                    return Columns()
                return Columns.from_rows([d.name for d in cur.description], cur.fetchall())
        except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn) as e:
            raise DataError(_("PostgreSQL ({url}): {reason} (check tables: and columns in definitions.yaml)").format(
                url=redact(self.url), reason=str(e).splitlines()[0])) from e
        except (psycopg.errors.InvalidDatetimeFormat, psycopg.errors.InvalidTextRepresentation) as e:
            raise DataError(_("data does not match its declaration: {reason}").format(
                reason=str(e).splitlines()[0])) from e
        except psycopg.Error as e:
            raise InternalError(_("PostgreSQL query failed: {reason}").format(reason=str(e).splitlines()[0])) from e

    def table_columns(self, table: str) -> list[str] | None:
        schema, _dot, name = table.rpartition(".")
        sql = ("SELECT column_name FROM information_schema.columns "
               "WHERE table_name = %(t)s AND table_schema = COALESCE(%(s)s, current_schema()) "
               "ORDER BY ordinal_position")
        with self._conn().cursor() as cur:
            cur.execute(sql, {"t": name, "s": schema or None})
            cols = [r[0] for r in cur.fetchall()]
        return cols or None

    def data_version(self) -> str | None:
        """The WAL position: it moves on every write to the server (and on nothing else we run)."""
        sql = ("SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() "
               "ELSE pg_current_wal_insert_lsn() END::text")
        try:
            with self._conn().cursor() as cur:
                cur.execute(sql)
                row = cur.fetchone()
        except _psycopg().Error:
            return None
        return f"lsn:{row[0]}" if row and row[0] else None

    def close(self) -> None:
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()

