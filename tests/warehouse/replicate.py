"""Copy every table of a DuckDB connection into PostgreSQL or Spark, keeping column types.

    copy_to_postgres(duck, "postgresql://kpi@127.0.0.1:5432/postgres")
    copy_to_spark(duck, spark_session)                      # temp views (tests)
    copy_to_spark(duck, spark_session, via=Path("bench/.data/parquet"))   # views on parquet files (millions of rows)

Types map one to one (DATE stays DATE, TIMESTAMP stays a timestamp, DOUBLE stays double), so the
engines disagree only where their SQL does. PostgreSQL loads through COPY from a CSV that DuckDB
writes (fast at a million rows); Spark loads from Arrow, DuckDB's native export, or for large
tables reads parquet files DuckDB writes (no rows through Python or the JVM driver's heap).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import duckdb

PG_TYPES = {"VARCHAR": "text", "DATE": "date", "TIMESTAMP": "timestamp", "DOUBLE": "double precision",
            "BIGINT": "bigint", "INTEGER": "integer", "BOOLEAN": "boolean", "FLOAT": "real"}
SPARK_TYPES = {"VARCHAR": "string", "DATE": "date", "TIMESTAMP": "timestamp", "DOUBLE": "double",
               "BIGINT": "bigint", "INTEGER": "int", "BOOLEAN": "boolean", "FLOAT": "float"}


def tables(duck: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    """{table: [(column, duckdb type), ...]} for the main schema."""
    out: dict[str, list[tuple[str, str]]] = {}
    for (name,) in duck.execute("SELECT table_name FROM information_schema.tables "
                                "WHERE table_schema = 'main' ORDER BY 1").fetchall():
        out[name] = [(c, t) for c, t, *_ in duck.execute(f'DESCRIBE "{name}"').fetchall()]
    return out


def _mapped(types: dict[str, str], table: str, column: str, duck_type: str) -> str:
    try:
        return types[duck_type]
    except KeyError:
        raise AssertionError(f"{table}.{column}: no mapping for DuckDB type {duck_type}") from None


def copy_to_postgres(duck: duckdb.DuckDBPyConnection, url: str) -> dict[str, int]:
    """(Re)create each table in PostgreSQL and COPY its rows; return row counts."""
    import psycopg

    counts = {}
    with psycopg.connect(url, autocommit=True) as pg, tempfile.TemporaryDirectory() as tmp:
        for table, cols in tables(duck).items():
            ddl = ", ".join(f'"{c}" {_mapped(PG_TYPES, table, c, t)}' for c, t in cols)
            pg.execute(f'DROP TABLE IF EXISTS "{table}"')
            pg.execute(f'CREATE TABLE "{table}" ({ddl})')
            csv = Path(tmp) / f"{table}.csv"
            # FORCE_QUOTE keeps '' (empty text) apart from NULL (an unquoted empty field).
            duck.execute(f"COPY \"{table}\" TO '{csv}' (HEADER false, FORCE_QUOTE *, "
                         "TIMESTAMPFORMAT '%Y-%m-%d %H:%M:%S.%f')")
            with pg.cursor() as cur, cur.copy(f'COPY "{table}" FROM STDIN (FORMAT csv)') as copy, csv.open("rb") as f:
                while chunk := f.read(1 << 20):
                    copy.write(chunk)
            # Now, not later in autovacuum: its WAL writes would move the data version mid-run.
            pg.execute(f'VACUUM (FREEZE, ANALYZE) "{table}"')
            counts[table] = pg.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
    return counts


def copy_to_spark(duck: duckdb.DuckDBPyConnection, spark: Any, *, via: Path | None = None) -> dict[str, int]:
    """Each table as a Spark temp view, from Arrow (or from parquet files under ``via``); row counts."""
    counts = {}
    for table, cols in tables(duck).items():
        if via is None:
            arrow = duck.table(table).arrow()
            df = spark.createDataFrame(arrow.read_all() if hasattr(arrow, "read_all") else arrow)
        else:
            path = Path(via) / f"{table}.parquet"
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                duck.execute(f"COPY \"{table}\" TO '{path}' (FORMAT parquet)")
            df = spark.read.parquet(str(path))
        df = df.select([df[c].cast(_mapped(SPARK_TYPES, table, c, t)).alias(c) for c, t in cols])
        df.createOrReplaceTempView(table)
        counts[table] = spark.table(table).count()
    return counts
