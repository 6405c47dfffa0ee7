"""Logical tables -> SQL FROM clauses (layer: compile; pure).

A logical table is its source (a table, CSV/Parquet files, or a query) seen through its column
declarations: renames (``from:``), value mappings (``Closed Won`` -> ``won``), text dates parsed
with a format, numbers with thousands separators cleaned. Only the columns a measure reads are
staged, so the engine reads no more than hand-written SQL would::

    (SELECT CAST("Close Date" AS DATE) AS closed_at,
            CASE LOWER(TRIM("Stage")) WHEN 'closed won' THEN 'won' ... ELSE 'open' END AS stage
     FROM crm_deals) AS t
    LEFT JOIN (SELECT account_id, segment FROM crm_accounts) AS j_account ON t.account_id = j_account.account_id
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from sqlglot import exp

from .catalog import Catalog
from .expressions import column_refs
from .models import ColumnDef, MeasureDef, SourceDef


RAW = "__raw"  # suffix of a string column staged as stored (compile.py maps its values after grouping)


def _q(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql("duckdb")


def _lit(text: str) -> str:
    return exp.Literal.string(text).sql("duckdb")


class TableSQL:
    def __init__(self, cat: Catalog, base_dir: Path | None = None) -> None:
        self.cat = cat
        self.defs = cat.defs
        self.base_dir = base_dir or Path(".")

    # -- expressions ---------------------------------------------------------------------------
    def expr(self, sql: str, table: str) -> str:
        """A snippet on ``table`` with its columns qualified: ``t.stage``, ``j_account.segment``."""
        tree = self.cat.parse(sql, table)

        def qualify(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Column):
                parts = [p.name for p in node.parts]
                alias = "t" if len(parts) == 1 else "j_" + parts[0]
                return exp.column(parts[-1], table=alias, quoted=True)
            return node

        return tree.transform(qualify).sql("duckdb")

    # -- FROM ----------------------------------------------------------------------------------
    def from_clause(self, m: MeasureDef, snippets: list[str], raw: dict[str, set[str]] | None = None,
                    before: str | None = None) -> str:
        """FROM for the measure's rows, staging what ``snippets`` read; ``raw``: alias ("" the table itself)
        -> string columns also staged as stored, before their values: mapping (``<column>__raw``).
        ``before``: a first_per measure's rows from this time on are not read (a SQL literal: the last
        window's end). Exact: an entity first seen before it has the same first row without them, and
        one first seen at or after it is in no window either way; the answer reads fewer rows."""
        table = m.table
        needed: dict[str, set[str]] = defaultdict(set)
        for alias, names in (raw or {}).items():
            needed[alias] |= {n + RAW for n in names}
        for sql in snippets:
            if sql:
                for ref in column_refs(self.cat.parse(sql, table)):
                    needed[ref.qualifier].add(ref.name)
        joins = self.defs.tables[table].joins
        order: list[str] = []
        for alias in [a for a in needed if a]:
            for step in self.cat.join_path(table, alias):
                if step not in order:
                    order.append(step)
        for alias in order:  # join keys are needed on both sides
            for local, remote in joins[alias].on.items():
                q, _, col = local.rpartition(".")
                needed[q].add(col)
                needed[alias].add(remote)
        if m.first_per and self._entity_only(m, snippets, order):
            base = self._first_times(m, before)
        else:
            if m.first_per:
                needed[""] |= {ref.name for ref in column_refs(self.cat.parse(m.first_per, table))}
                needed[""].add(m.time or self.defs.tables[table].time)
                if self.defs.tables[table].primary_key:
                    needed[""].add(self.defs.tables[table].primary_key)
            base = self.stage(table, sorted(needed[""]))
            if m.first_per:
                base = self._first_only(m, base, before)
        sql = f"{base} AS t"
        for alias in order:
            j = joins[alias]
            cond = " AND ".join(
                f"{'j_' + local.rpartition('.')[0] if '.' in local else 't'}.{_q(local.rpartition('.')[2])} = j_{alias}.{_q(remote)}"
                for local, remote in j.on.items())
            sql += f" LEFT JOIN {self.stage(j.table, sorted(needed[alias]))} AS j_{alias} ON {cond}"
        return sql

    def _entity_only(self, m: MeasureDef, snippets: list[str], order: list[str]) -> bool:
        """True when the answer reads nothing of an entity's first row but its time and the entity
        itself (and what joins on the entity: an account's segment): then ``MIN(time)`` per entity
        says all, and no window function has to rank the rows."""
        entity = self.cat.parse(m.first_per, m.table)  # type: ignore[arg-type]
        if not isinstance(entity, exp.Column) or len(entity.parts) != 1 or m.agg != "count" or m.expr:
            return False
        time = m.time or self.defs.tables[m.table].time
        read = {ref.name for sql in snippets if sql and sql != m.filter
                for ref in column_refs(self.cat.parse(sql, m.table)) if not ref.qualifier}
        joins = self.defs.tables[m.table].joins
        via_entity = all(local == entity.name for alias in order for local in joins[alias].on if "." not in local) \
            if all(alias in joins for alias in order) else False
        return read <= {entity.name, time} and via_entity

    def _first_times(self, m: MeasureDef, before: str | None = None) -> str:
        """Each entity's first time among rows passing the filter: ``GROUP BY entity`` + ``MIN(time)``."""
        t = self.defs.tables[m.table]
        time = m.time or t.time
        ent = m.first_per
        staged = self.stage(m.table, sorted({ent, time, *(r.name for r in column_refs(self.cat.parse(m.filter, m.table)))}
                                            if m.filter else {ent, time}))
        where = [f"t.{_q(ent)} IS NOT NULL"] + ([self.expr(m.filter, m.table)] if m.filter else [])  # type: ignore[list-item]
        if before:
            where.append(f"t.{_q(time)} < {before}")
        return (f"(SELECT t.{_q(ent)} AS {_q(ent)}, MIN(t.{_q(time)}) AS {_q(time)} FROM {staged} AS t "
                f"WHERE {' AND '.join(f'({w})' for w in where)} GROUP BY t.{_q(ent)})")

    def _first_only(self, m: MeasureDef, staged: str, before: str | None = None) -> str:
        """Keep each entity's first row that passes the filter (e.g. an account's first won deal)."""
        t = self.defs.tables[m.table]
        time = m.time or t.time
        conds = ([self.expr(m.filter, m.table)] if m.filter else []) + ([f"t.{_q(time)} < {before}"] if before else [])
        where = f" WHERE {' AND '.join(f'({c})' for c in conds)}" if conds else ""
        order = f"t.{_q(time)}" + (f", t.{_q(t.primary_key)}" if t.primary_key else "")
        part = self.expr(m.first_per, m.table)
        ranked = (f"SELECT t.*, {part} AS first_key_, ROW_NUMBER() OVER (PARTITION BY {part} ORDER BY {order}) "
                  f"AS first_rank_ FROM {staged} AS t{where}")
        return f"(SELECT * FROM ({ranked}) AS ranked_ WHERE first_rank_ = 1 AND first_key_ IS NOT NULL)"

    def stage(self, table: str, columns: list[str]) -> str:
        t = self.defs.tables[table]
        cols = [f"{self.column_sql(t.columns[c], c)} AS {_q(c)}" for c in columns if c in t.columns]
        cols += [f"{self._raw(t.columns[c[:-len(RAW)]], c[:-len(RAW)])} AS {_q(c)}" for c in columns
                 if c.endswith(RAW) and c[:-len(RAW)] in t.columns]
        return f"(SELECT {', '.join(cols) or '1 AS one_'} FROM {self.source_sql(t.source)})"

    def source_sql(self, s: SourceDef) -> str:
        if s.table:
            return ".".join(_q(p) for p in s.table.split("."))
        if s.sql:
            return f"({s.sql}) AS src_"
        path = Path(s.files)  # type: ignore[arg-type]
        if not path.is_absolute():
            path = self.base_dir / path
        if str(path).lower().endswith(".parquet"):
            return f"read_parquet({_lit(str(path))})"
        # quote and escape fixed: the sniffer otherwise reads a row with an unclosed quote as data
        opts = f", header = {'true' if s.header else 'false'}, all_varchar = true, quote = '\"', escape = '\"'"
        if s.delimiter:
            opts += f", delim = {_lit(s.delimiter)}"
        return f"read_csv({_lit(str(path))}{opts})"

    # -- one column ----------------------------------------------------------------------------
    def _raw(self, c: ColumnDef, name: str) -> str:
        """The column as its source holds it (renamed or computed, not yet cleaned)."""
        return exp.maybe_parse(c.expr, dialect=self.cat.dialect).sql("duckdb") if c.expr else _q(c.from_ or name)

    def mapping(self, table: str, alias: str, name: str) -> ColumnDef | None:
        """The declaration of a string column whose values are mapped (``normalize``, ``values:``), read
        from ``table`` through ``alias`` ("" = the table itself); None for any other column."""
        target = self.cat.scope(table).get(alias) if alias else table
        c = self.defs.tables[target].columns.get(name) if target in self.defs.tables else None
        return c if c is not None and c.type == "string" and (c.values or c.normalize) else None

    def column_sql(self, c: ColumnDef, name: str) -> str:
        raw = self._raw(c, name)
        if c.type == "string":
            return self.mapped(c, raw)
        text = f"NULLIF(TRIM(CAST({raw} AS VARCHAR)), '')"
        if c.type in ("date", "timestamp"):
            target = c.type.upper()
            if c.format:
                return f"CAST(STRPTIME({text}, {_lit(c.format)}) AS {target})"
            return f"CAST({raw} AS {target})"
        if c.type in ("number", "integer"):
            target = "DOUBLE" if c.type == "number" else "BIGINT"
            if not c.format:
                return f"CAST({raw} AS {target})"
            if c.format == "1,234.56":
                cleaned = f"REGEXP_REPLACE({text}, '[^0-9.\\-]', '', 'g')"
            else:  # '1.234,56' or '1 234,56': drop grouping, decimal comma -> point
                cleaned = f"REPLACE(REGEXP_REPLACE({text}, '[^0-9,\\-]', '', 'g'), ',', '.')"
            return f"CAST(NULLIF({cleaned}, '') AS {target})"
        if c.type == "boolean":
            return f"CAST({raw} AS BOOLEAN)"
        raise AssertionError(c.type)

    def mapped(self, c: ColumnDef, raw: str) -> str:
        """``raw`` (a stored value of ``c``) through ``c``'s mapping (``normalize``, ``values:``, ``default``)."""
        if not c.values and not c.normalize:
            return raw
        key = f"LOWER(TRIM({raw}))" if c.normalize else raw
        whens = []
        for src, dst in (c.values or {}).items():
            k = src.strip().lower() if c.normalize else src
            whens.append(f"WHEN {_lit(k)} THEN {'NULL' if dst is None else _lit(dst)}")
        fallback = _lit(c.default) if c.default is not None else (f"TRIM({raw})" if c.normalize else raw)
        if not whens:
            return fallback
        return f"CASE {key} {' '.join(whens)} ELSE {fallback} END"
