"""Snowflake backend (layer: backends): snowflake-connector-python with server-side binding.

    snowflake://USER@ACCOUNT/DATABASE/SCHEMA?warehouse=WH&role=ANALYST
    snowflake://USER:PASSWORD@ACCOUNT/DATABASE/SCHEMA?warehouse=WH
    snowflake://USER@ACCOUNT/DB/SCHEMA?warehouse=WH&authenticator=externalbrowser
    snowflake://USER@ACCOUNT/DB/SCHEMA?warehouse=WH&private_key_file=/path/rsa_key.p8

Without a password in the URL, SNOWFLAKE_PASSWORD is used when set. The compiler renders SQLGlot's
Snowflake placeholders ``:p0``; the connector binds no named markers, so ``run`` rewrites them to
numeric ones (``:1``, server-side binding, ``paramstyle="numeric"``) and passes values in order.
Upper-case result names (Snowflake folds unquoted aliases: ``AS value`` -> ``VALUE``) are lowered.
"""

from __future__ import annotations

import os
import time
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from ..columns import Columns
from ..errors import ConfigError, DataError, InternalError, missing_extra
from ..i18n import _

VERSION_SECONDS = 30.0
_PASSTHROUGH = ("warehouse", "role", "authenticator", "private_key_file", "private_key_file_pwd", "token")


def _sf() -> Any:
    try:
        import snowflake.connector
    except ImportError as e:
        raise missing_extra("snowflake-connector-python", "snowflake") from e
    return snowflake.connector


def numeric_binding(sql: str, params: dict[str, Any]) -> tuple[str, list[Any]]:
    """Rewrite named ``:p0`` markers to ``:1``-style ones and list their values in that order.

    >>> numeric_binding("SELECT 1 FROM t WHERE a = :p3 AND b = :p1 AND c = :p3", {"p1": 1, "p3": 2})
    ('SELECT 1 FROM t WHERE a = :1 AND b = :2 AND c = :1', [2, 1])
    """
    if not params:
        return sql, []
    import sqlglot
    from sqlglot import exp

    order: dict[str, int] = {}

    def renumber(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder) and node.this in params:
            index = order.setdefault(node.this, len(order) + 1)
            return exp.Placeholder(this=str(index))
        return node

    tree = sqlglot.parse_one(sql, read="snowflake").transform(renumber)
    return tree.sql(dialect="snowflake"), [params[name] for name in order]


class SnowflakeBackend:
    dialect = "snowflake"

    def __init__(self, connection: Any, *, url: str) -> None:
        self.connection = connection
        self.url = url
        self._version: tuple[float, str | None] = (float("-inf"), None)

    @classmethod
    def from_url(cls, url: str) -> "SnowflakeBackend":
        sf = _sf()
        try:
            con = sf.connect(paramstyle="numeric", session_parameters={"TIMEZONE": "UTC"}, **connect_args(url))
        except sf.errors.Error as e:
            raise ConfigError(_("connection '{account}': cannot connect to Snowflake: {msg} (check account, user, "
                                "password/authenticator, warehouse)").format(
                account=url.split("@")[-1], msg=e.msg)) from e
        return cls(con, url=url)

    def run(self, sql: str, params: dict[str, Any]) -> Columns:
        sf = _sf()
        query, values = numeric_binding(sql, params or {})
        cur = self.connection.cursor()
        try:
            cur.execute(query, values or None)
            if cur.description is None:
                return Columns()
            return Columns.from_rows([_name(d.name) for d in cur.description], cur.fetchall())
        except sf.errors.ProgrammingError as e:
            if "does not exist" in (e.msg or "") or "invalid identifier" in (e.msg or ""):
                raise DataError(_("Snowflake: {msg} (check tables: and columns in definitions.yaml)").format(
                    msg=e.msg)) from e
            raise InternalError(_("Snowflake query failed: {msg}").format(msg=e.msg)) from e
        finally:
            cur.close()

    def table_columns(self, table: str) -> list[str] | None:
        cur = self.connection.cursor()
        try:
            cur.execute("SELECT * FROM IDENTIFIER(:1) LIMIT 0", [table])
            return [d.name.lower() if d.name.isupper() else d.name for d in cur.description]
        except _sf().errors.ProgrammingError:
            return None
        finally:
            cur.close()

    def data_version(self) -> str | None:
        """Latest LAST_ALTERED of the tables in the current schema (DML moves it); reused for
        VERSION_SECONDS, since each lookup is a query on the warehouse."""
        if time.monotonic() - self._version[0] < VERSION_SECONDS:
            return self._version[1]
        df = self.run("SELECT MAX(last_altered) AS v FROM information_schema.tables "
                      "WHERE table_schema = CURRENT_SCHEMA()", {})
        v = df.scalar()
        version = None if v is None else f"sf:{v}"
        self._version = (time.monotonic(), version)
        return version

    def close(self) -> None:
        self.connection.close()


def connect_args(url: str) -> dict[str, Any]:
    """snowflake.connector.connect keyword arguments from a snowflake:// URL."""
    parts = urlsplit(url)
    path = [unquote(p) for p in parts.path.strip("/").split("/") if p]
    if not parts.hostname or not parts.username:
        raise ConfigError(_("connection '{url}': expected snowflake://USER@ACCOUNT/DATABASE/SCHEMA?warehouse=WH").format(
            url=url))
    args: dict[str, Any] = {"account": parts.hostname, "user": unquote(parts.username),
                            "application": "kpi"}
    password = unquote(parts.password) if parts.password else os.environ.get("SNOWFLAKE_PASSWORD")
    if password:
        args["password"] = password
    if path:
        args["database"] = path[0]
    if len(path) > 1:
        args["schema"] = path[1]
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    args.update({k: query[k] for k in _PASSTHROUGH if k in query})
    return args


def _name(name: str) -> str:
    """Snowflake upper-cases unquoted names: VALUE -> value, as the other engines name it."""
    return name.lower() if name.isupper() else name
