"""The embedded default engine: a DuckDB file (or memory) in process."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from ..errors import DataError


class DuckDBBackend:
    dialect = "duckdb"

    def __init__(self, path: str, *, read_only: bool = False) -> None:
        self.url = f"duckdb:///{path}"
        self.path = path
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._con = duckdb.connect(path, read_only=read_only and Path(path).exists())
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, *, base_dir: Path, read_only: bool = False) -> "DuckDBBackend":
        raw = url.split("://", 1)[1] if "://" in url else url
        # SQLAlchemy's convention: duckdb:///relative/path, duckdb:////absolute/path
        raw = raw[1:] if raw.startswith("/") else raw
        if raw in ("", ":memory:"):
            return cls(":memory:")
        path = Path(raw)
        if not path.is_absolute():
            path = base_dir / path
        return cls(str(path), read_only=read_only)

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        return self._con

    def run(self, sql: str, params: dict[str, Any]) -> pd.DataFrame:
        # One cursor per call: DuckDB connections are not safe to share across threads,
        # cursors on one connection are (the bot answers concurrently).
        cur = self._con.cursor()
        try:
            return cur.execute(sql, params or None).df()
        except duckdb.CatalogException as e:
            raise DataError(f"{e}".splitlines()[0] + " (run `kpi demo` to create the demo data, or check tables: in definitions)") from e
        except duckdb.BinderException as e:  # a declared column the source does not have
            raise DataError(f"{str(e).splitlines()[0]} (`kpi validate --check-data` lists every missing column)") from e
        except duckdb.ConversionException as e:
            raise DataError(f"data does not match its declaration: {str(e).splitlines()[0]}") from e
        finally:
            cur.close()

    def table_columns(self, table: str) -> list[str] | None:
        cur = self._con.cursor()
        try:
            rows = cur.execute(f"DESCRIBE SELECT * FROM {table}").fetchall()  # table is a validated identifier
        except duckdb.Error:
            return None
        finally:
            cur.close()
        return [r[0] for r in rows]

    def data_version(self) -> str | None:
        if self.path == ":memory:":
            return None
        p = Path(self.path)
        wal = p.with_suffix(p.suffix + ".wal")
        stamps = [f"{x.stat().st_mtime_ns}:{x.stat().st_size}" for x in (p, wal) if x.exists()]
        return "|".join(stamps) or None

    def close(self) -> None:
        self._con.close()
