"""When the data behind a rollup changed: source stamps (layer: backends; I/O, reads only).

A stamp is read before a part is built and again for every question it could answer; a part serves
only while the two are equal. Cheapest exact stamp first:
- every table the part reads declares ``updated_at`` or ``append_only``: count(*) and max(that column);
- else the engine's data version (DuckDB file stamp, PostgreSQL's next transaction id, BigQuery/
  Snowflake last-modified) when our own rollup writes cannot move it (local store; another schema);
- Spark tables and views over files: the files they read (names, sizes, modification times);
- else a checksum of every row (count and a sum of row hashes): exact, but a scan per check.
CSV/Parquet ``files:`` sources add each file's name, size and modification time.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from .catalog import Catalog
from .compile_tables import TableSQL
from .errors import ConfigError
from .load import Loaded
from .statement import from_duckdb

_CHECKSUM = {
    "duckdb": "SELECT COUNT(*) AS n, CAST(SUM(HASH(x)) AS VARCHAR) AS h FROM ({src}) AS x",
    "postgres": "SELECT COUNT(*) AS n, CAST(SUM(HASHTEXT(CAST(x AS TEXT))) AS TEXT) AS h FROM ({src}) AS x",
    "spark": "SELECT COUNT(*) AS n, CAST(SUM(CAST(HASH(*) AS BIGINT)) AS STRING) AS h FROM ({src}) AS x",
    "bigquery": "SELECT COUNT(*) AS n, CAST(BIT_XOR(FARM_FINGERPRINT(TO_JSON_STRING(x))) AS STRING) AS h FROM ({src}) AS x",
    "snowflake": "SELECT COUNT(*) AS n, CAST(HASH_AGG(*) AS VARCHAR) AS h FROM ({src}) AS x",
}


class Stamper:
    def __init__(self, loaded: Loaded, backend: Any, cat: Catalog, local: bool) -> None:
        self.loaded, self.backend, self.cat, self.local = loaded, backend, cat, local
        self.defs = loaded.defs

    def change_column(self, table: str) -> str | None:
        t = self.defs.tables[table]
        return t.updated_at or t.append_only

    def stamps(self, tables: list[str]) -> tuple[str, dict[str, str]]:
        """(the stamp of all ``tables`` together, per-table stamps) as read now."""
        per: dict[str, str] = {}
        files = self._file_stamps(tables)
        if all(self.change_column(t) for t in tables):
            per = self._declared_stamps(tables)
        else:
            version = self._engine_version()
            if version is not None:
                per = {t: version for t in tables}
            else:
                per = self._spark_files(tables) or self._checksums(tables)
        for t, f in files.items():
            per[t] = per.get(t, "") + "|" + f
        joined = json.dumps(per, sort_keys=True)
        return hashlib.sha256(joined.encode()).hexdigest()[:16], per

    def _engine_version(self) -> str | None:
        if self.backend.dialect == "postgres":
            if not self.local:
                return None  # our own rollup writes would move any server-wide counter
            # The next transaction id: it moves when a transaction that writes starts anywhere on the
            # server (never for reads, checkpoints or the WAL records the background writer logs,
            # which move the WAL position the result cache uses).
            df = self.backend.run("SELECT CAST(pg_snapshot_xmax(pg_current_snapshot()) AS TEXT) AS v", {})
            return f"xid:{df.scalar()}"
        return self.backend.data_version()

    def _file_stamps(self, tables: list[str]) -> dict[str, str]:
        out = {}
        for t in tables:
            src = self.defs.tables[t].source
            if src.files:
                path = Path(src.files) if Path(src.files).is_absolute() else self.loaded.base_dir / src.files
                stats = [(p, os.stat(p)) for p in sorted(glob.glob(str(path)))]
                out[t] = ";".join(f"{p}:{s.st_size}:{s.st_mtime_ns}" for p, s in stats)
        return out

    def _declared_stamps(self, tables: list[str]) -> dict[str, str]:
        sql_t = TableSQL(self.cat, self.loaded.base_dir)
        selects = []
        for i, t in enumerate(tables):
            col = self.change_column(t)
            selects.append(f"SELECT {i} AS i, COUNT(*) AS n, CAST(MAX({_quoted(col)}) AS VARCHAR) AS w "  # type: ignore[arg-type]
                           f"FROM {sql_t.stage(t, [col])} AS t")  # type: ignore[list-item]
        df = self.run(" UNION ALL ".join(selects))
        rows = df.rename(str.lower)
        return {tables[int(i)]: f"{int(n)}:{w}" for i, n, w in zip(rows["i"], rows["n"], rows["w"])}

    def _spark_files(self, tables: list[str]) -> dict[str, str] | None:
        """Spark tables and views over files (Parquet, Delta): the files they read now, with size and
        modification time where local. Writes make new files, so a changed list is changed data.
        None when any table reads no files (a view over data in memory): then checksums."""
        session = getattr(self.backend, "session", None)
        if self.backend.dialect not in ("spark", "databricks") or session is None:
            return None
        out = {}
        for t in tables:
            src = self.defs.tables[t].source
            if not src.table:
                return None
            try:
                files = sorted(session.table(src.table).inputFiles())
            except Exception:  # noqa: BLE001 - no file listing here (Spark Connect, a temp view): checksums
                return None
            if not files:
                return None
            stats = []
            for f in files:
                local = f.removeprefix("file://").removeprefix("file:")
                st = os.stat(local) if local.startswith("/") and os.path.exists(local) else None
                stats.append(f"{f}:{st.st_size}:{st.st_mtime_ns}" if st else f)
            out[t] = "files:" + hashlib.sha256(";".join(stats).encode()).hexdigest()[:16]
        return out

    def _checksums(self, tables: list[str]) -> dict[str, str]:
        """Row count and a sum of row hashes per table, in one statement (one scan each)."""
        template = _CHECKSUM.get(self.backend.dialect)
        if template is None:
            raise ConfigError(f"rollups: no way to tell when data changes on {self.backend.dialect}; "
                              "declare updated_at or append_only on the tables")
        sql_t = TableSQL(self.cat, self.loaded.base_dir)
        parts = []
        for i, t in enumerate(tables):
            inner = from_duckdb(f"SELECT * FROM {sql_t.source_sql(self.defs.tables[t].source)}", self.backend.dialect)
            parts.append(template.format(src=inner).replace("SELECT ", f"SELECT {i} AS i, ", 1))
        df = self.backend.run(" UNION ALL ".join(parts), {})
        return {tables[int(i)]: f"sum:{int(n)}:{s}" for i, n, s in zip(*(df[c] for c in df.names[:3]))}

    def run(self, duck_sql: str) -> Any:
        """DuckDB text run on the backend: as written on DuckDB, transpiled for another engine."""
        return self.backend.run(from_duckdb(duck_sql, self.backend.dialect), {})


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
