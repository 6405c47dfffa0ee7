"""Build one rollup part, in full or incrementally (layer: backends; I/O).

A full build runs the part's SELECT (rollup_sql.BuildSQL) on the engine and stores the rows as a
new version (a Parquet file, or a table in the warehouse). An incremental refresh is taken when
the part is a plain one (no snapshot, conversion or first_per: those depend on all history), its
table declares ``updated_at`` or ``append_only``, nothing it joins changed, and the definitions
and zone are the same: the buckets of the rows changed since the watermark are recomputed from
the source and the rest copied from the previous version. Afterwards the rows the part counts
must add up to the source's (``rows_``); if a row left an untouched bucket (moved, deleted) they
do not, and the part is rebuilt in full.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from .rollup_sql import BuildSQL, Part
from .rollup_store import MAX_CHANGED_KEYS, Entry, as_dates, elapsed, now_text, version_of

if TYPE_CHECKING:
    from .rollup_store import Rollups


def build_part(r: "Rollups", part: Part, entry: Entry | None, *, full: bool = False) -> tuple[Entry | None, dict[str, Any]]:
    t0 = time.perf_counter()
    tables = r.tables_of(part)
    stamp, per = r.stamps(tables)
    def_hash, zone = r._hashes[part.name], r.defs.calendar.timezone
    row: dict[str, Any] = {"rollup": part.rollup, "part": part.name, "kind": part.kind}
    same_defs = entry is not None and entry.definition_hash == def_hash and entry.zone == zone
    if same_defs and not full and entry.stamp == stamp:  # type: ignore[union-attr]
        row.update(mode="fresh (kept)", rows=entry.rows, bytes=entry.bytes, seconds=elapsed(t0))  # type: ignore[union-attr]
        return None, row
    col = r._change_column(part.table)
    watermark = per[part.table].split("|")[0].split(":", 1)[1] if col and ":" in per[part.table] else None
    if watermark == "None":
        watermark = None
    b = BuildSQL(r.cat, part, r.loaded.base_dir)
    new = None
    if (same_defs and not full and part.kind == "plain" and col and entry.watermark  # type: ignore[union-attr]
            and not any(r.defs.measures[m].first_per for m in part.measures)
            and all(per[t] == entry.tables.get(t) for t in tables if t != part.table)):  # type: ignore[union-attr]
        new = _incremental(r, b, part, entry, col, version_of(def_hash, zone, stamp, watermark))  # type: ignore[arg-type]
    mode = "incremental" if new else "full"
    if new is None:
        new = _store(r, part, version_of(def_hash, zone, stamp, watermark), b.select(r.backend.dialect))
    location, relation = new
    rows, size = _size(r, relation, location)
    built = Entry(part.rollup, part.name, version_of(def_hash, zone, stamp, watermark), relation, location,
                  def_hash, zone, stamp, per, watermark, now_text(), rows, size, elapsed(t0), mode)
    row.update(mode=mode, rows=rows, bytes=size, seconds=built.seconds)
    return built, row


def _incremental(r: "Rollups", b: BuildSQL, part: Part, entry: Entry, col: str, version: str) -> tuple[str, str] | None:
    dialect = r.backend.dialect
    since = _literal(r, part.table, col, entry.watermark)  # type: ignore[arg-type]
    keys = as_dates(list(r.backend.run(b.changed_keys_sql(dialect, col, since), {})["k"]))
    if len(keys) > MAX_CHANGED_KEYS:
        return None
    fresh_rows = b.select(dialect, keys)
    listed = ", ".join(f"DATE '{k.isoformat()}'" for k in keys) or "NULL"
    kept = f"SELECT * FROM {entry.relation} AS o WHERE o.k NOT IN ({listed})"
    new = _store(r, part, version, fresh_rows, keep=kept)
    total = r.backend.run(b.row_count_sql(dialect), {}).scalar()
    counted = _scalar(r, new[1], "SUM(rows_)")
    if int(total or 0) != int(counted or 0):  # a row left an untouched bucket: rebuild in full
        _drop_location(r, new)
        return None
    return new


def _literal(r: "Rollups", table: str, col: str, value: str) -> str:
    kind = r.cat.column_type(table, col)
    text = exp.Literal.string(value).sql("duckdb")
    return {"timestamp": f"CAST({text} AS TIMESTAMP)", "date": f"CAST({text} AS DATE)",
            "integer": f"CAST({text} AS BIGINT)", "number": f"CAST({text} AS DOUBLE)"}.get(kind or "", text)


def _store(r: "Rollups", part: Part, version: str, select: str, *, keep: str | None = None) -> tuple[str, str]:
    """Write a new version; ``keep`` (DuckDB text over the old relation) adds the rows kept from it."""
    name = f"{part.name}__{version}"
    dialect = r.backend.dialect
    if r.local:
        r.dir.mkdir(parents=True, exist_ok=True)
        path = r.dir / f"{name}.parquet"
        tmp = r.dir / f".{name}.parquet.tmp"
        target = exp.Literal.string(str(tmp)).sql("duckdb")
        if dialect == "duckdb":
            body = f"({keep}) UNION ALL BY NAME ({select})" if keep else select
            con = r.backend.connection.cursor()
            try:
                con.execute(f"COPY ({body}) TO {target} (FORMAT parquet)")
            finally:
                con.close()
        else:
            import duckdb
            import pyarrow as pa

            frame = pa.Table.from_pandas(r.backend.run(select, {}).to_pandas(), preserve_index=False)
            con = duckdb.connect(":memory:")
            try:
                con.register("fresh_rows", frame)
                body = f"({keep}) UNION ALL BY NAME (SELECT * FROM fresh_rows)" if keep else "SELECT * FROM fresh_rows"
                con.execute(f"COPY ({body}) TO {target} (FORMAT parquet)")
            finally:
                con.close()
        tmp.replace(path)
        return str(path), f"read_parquet({exp.Literal.string(str(path)).sql('duckdb')})"
    import sqlglot

    schema = r.settings.schema_
    table = f'"{schema}"."{name}"'
    ddl_schema = "CREATE DATABASE IF NOT EXISTS" if dialect in ("spark", "databricks") else "CREATE SCHEMA IF NOT EXISTS"
    r.backend.run(f"{ddl_schema} {sqlglot.exp.to_identifier(schema, quoted=True).sql(dialect)}", {})
    body = select
    if keep:
        body = f"{sqlglot.transpile(keep, read='duckdb', write=dialect)[0]} UNION ALL {select}"
    target = sqlglot.exp.to_table(f"{schema}.{name}").sql(dialect, identify=True)
    using = " USING PARQUET" if dialect in ("spark", "databricks") else ""
    r.backend.run(f"CREATE TABLE {target}{using} AS {body}", {})
    return table, table


def _drop_location(r: "Rollups", new: tuple[str, str]) -> None:
    from pathlib import Path

    if new[1].startswith("read_parquet("):
        Path(new[0]).unlink(missing_ok=True)
    else:
        r._run(f"DROP TABLE IF EXISTS {new[0]}")


def _scalar(r: "Rollups", relation: str, agg: str) -> Any:
    sql = f"SELECT {agg} AS v FROM {relation} AS x"
    if relation.startswith("read_parquet("):
        import duckdb

        con = duckdb.connect(":memory:")
        try:
            return con.execute(sql).fetchone()[0]  # type: ignore[index]
        finally:
            con.close()
    return r._run(sql).scalar()


def _size(r: "Rollups", relation: str, location: str) -> tuple[int, int | None]:
    rows = int(_scalar(r, relation, "COUNT(*)") or 0)
    if relation.startswith("read_parquet("):
        from pathlib import Path

        return rows, Path(location).stat().st_size
    if r.backend.dialect == "postgres":
        df = r.backend.run("SELECT pg_total_relation_size(CAST(%(t)s AS regclass)) AS b", {"t": location})
        return rows, int(df.scalar())
    return rows, None
