"""Execution behind one small protocol (layer: backends; the only layer that does I/O on data).

A backend runs SQL that the compiler already rendered in its dialect, with bound parameters, and
returns plain ``Columns`` (no pandas needed; ``.to_pandas()`` when wanted). The compiler never imports a driver; drivers are optional extras
imported lazily, and a missing one is named with its install command.

    backend = connect("duckdb:///.kpi/kpi.duckdb", base_dir=Path("."))
    backend.dialect            # "duckdb" (a SQLGlot dialect name)
    backend.run(sql, {"p0": "webinar"})  -> Columns
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ..columns import Columns
from ..errors import ConfigError, hint_for, mark_url_password, redact
from ..i18n import _

SCHEMES = ("duckdb", "postgresql", "postgres", "spark", "sc", "bigquery", "snowflake")


@runtime_checkable
class Backend(Protocol):
    dialect: str
    url: str

    def run(self, sql: str, params: dict[str, Any]) -> Columns:
        """Run one statement; ``params`` are bound by name (placeholders rendered by the compiler)."""

    def table_columns(self, table: str) -> list[str] | None:
        """Column names of a table in the connection, or None when it does not exist."""

    def data_version(self) -> str | None:
        """A token that changes when the data changes (for the result cache), or None if unknown."""

    def close(self) -> None: ...


def connect(url: str, *, base_dir: Path = Path("."), read_only: bool = False, missing_ok: bool = False) -> Backend:
    """Open the backend a connection URL names (see README "Connections").

    ``missing_ok``: a DuckDB file that does not exist opens in memory (definitions reading only files);
    otherwise reading from a missing DuckDB file is a ``ConfigError``, never a new empty file."""
    mark_url_password(url)  # whatever goes wrong below, its message never shows the password
    # Not urlparse: "spark://local[2]" reads as a bracketed IPv6 host there.
    scheme = url.split("://", 1)[0].split("+")[0].lower() if "://" in url else ""
    if scheme == "duckdb" or url.endswith((".duckdb", ".db")) and "://" not in url:
        from .duckdb import DuckDBBackend

        return DuckDBBackend.from_url(url, base_dir=base_dir, read_only=read_only, missing_ok=missing_ok)
    if scheme in ("postgresql", "postgres"):
        from .postgres import PostgresBackend

        return PostgresBackend(url)
    if scheme in ("spark", "sc"):
        from .spark import SparkBackend

        return SparkBackend.from_url(url)
    if scheme == "bigquery":
        from .bigquery import BigQueryBackend

        return BigQueryBackend.from_url(url)
    if scheme == "snowflake":
        from .snowflake import SnowflakeBackend

        return SnowflakeBackend.from_url(url)
    raise ConfigError(_("connection '{url}': unknown engine '{scheme}'").format(
        url=redact(url), scheme=scheme) + hint_for(scheme, SCHEMES))
