"""What-if definitions for `kpi doctor`'s shifts (layer: compile; pure: definitions in, definitions out).

A finding's rows become numbers by asking the ordinary compiler for *variant* measures and metrics
added next to the real ones, so one statement (``compile_query`` with ``also=``) answers every
metric as it is and under every finding's fix, each table read once per shape:

* ``keep`` (left out): the measure's filter ANDed with a condition that drops the rows
  (``amount IS NULL OR amount >= 0``): the metric without them;
* ``rows`` (their share): the filter ANDed with the rows' condition (``item.product_id IS NULL AND
  product IS NOT NULL``): how much of each measure they carry;
* ``tables`` (fixed tables): a table replaced by a changed copy (a value mapped like its neighbour,
  duplicates counted once, a monthly grain prorated), joined in place of the original;
* ``filters``: a measure's filter rewritten (a literal the mapping never produces -> its target).

Variant names start with ``kpi_doctor_<k>_`` (k: the finding's index). Conditions are written in
DuckDB's dialect from validated identifiers and the definitions' own parsed snippets, then turned
into the definitions' dialect; values taken from data are bound parameters (``Spec.params``, written as marker literals that
``bind`` turns into the engine's placeholders after compiling), except a
typo's neighbour added to a ``values:`` mapping, which becomes a literal of that mapping like any
other (a SQLGlot literal, never text pasted into a statement).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp

from .catalog import Catalog
from .models import (ColumnDef, ConversionMetric, Definitions, DerivedMetric, MeasureDef, RatioMetric, SimpleMetric,
                     SourceDef, TableDef)
from .statement import from_duckdb

PREFIX = "kpi_doctor_"
RAW = "kpi_doctor_raw_"  # the unmapped source value of a checked column, in a table copy


@dataclass(frozen=True)
class Spec:
    """How one finding changes the measures it touches (see the module docstring)."""

    how: str  # mapped | left_out | deduplicated | prorated | share
    measures: tuple[str, ...]
    keep: str | None = None  # DuckDB text over the measure's table: rows that stay
    rows: str | None = None  # DuckDB text over the measure's table: the finding's rows
    tables: dict[str, TableDef] = field(default_factory=dict)  # table -> its changed copy
    filters: dict[str, str] = field(default_factory=dict)  # measure -> its rewritten filter (definitions' dialect)
    dims: tuple[str, ...] = ()  # read through a join: the breakdowns that show the rows
    unit: str = "value"
    params: dict[str, str] = field(default_factory=dict)  # values from the data: ``rows`` holds marker(name)  # a share of the measure's value (sum, count), or "rows" (of its rows)


def q(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql("duckdb")


def col(name: str, alias: str = "") -> str:
    return f"{q(alias)}.{q(name)}" if alias else q(name)


def lit(text: str) -> str:
    return exp.Literal.string(text).sql("duckdb")


def marker(param: str) -> str:
    """The string literal standing for a bound parameter in a snippet (snippets may not hold placeholders);
    ``bind`` swaps it for the engine's placeholder in the compiled statement."""
    return f"kpi_doctor_param:{param}"


def bind(sql: str, params: dict[str, str], dialect: str) -> str:
    """The compiled statement with each marker literal replaced by the parameter's placeholder."""
    for name in params:
        sql = sql.replace(exp.Literal.string(marker(name)).sql(dialect), exp.Placeholder(this=name).sql(dialect))
    return sql


def variant_name(k: int, name: str) -> str:
    return f"{PREFIX}{k}_{name}"


class WhatIf:
    """Adds finding ``k``'s variant tables, measures and metrics to a definitions set."""

    def __init__(self, cat: Catalog) -> None:
        self.cat, self.defs = cat, cat.defs
        self.tables: dict[str, TableDef] = {}
        self.measures: dict[str, MeasureDef] = {}
        self.metrics: dict[str, Any] = {}

    def snippet(self, sql: str, table: str) -> str:
        """A definitions snippet as DuckDB text (to compose conditions with it)."""
        return self.cat.parse(sql, table).sql("duckdb")

    def _out(self, duck: str) -> str:
        return from_duckdb(duck, self.cat.dialect)

    def _table(self, k: int, name: str, spec: Spec) -> str:
        """The table the variant of a measure on ``name`` reads: itself, or a copy joining the copies."""
        touched = {j.table for j in self.defs.tables[name].joins.values()} & set(spec.tables)
        if name not in spec.tables and not touched:
            return name
        for t in {name, *touched} & set(spec.tables):
            if variant_name(k, t) not in self.tables:
                self.tables[variant_name(k, t)] = spec.tables[t]
        base = spec.tables.get(name, self.defs.tables[name])
        joins = {a: j.model_copy(update={"table": variant_name(k, j.table)}) if j.table in spec.tables else j
                 for a, j in base.joins.items()}
        copy = variant_name(k, name)
        self.tables[copy] = base.model_copy(update={"joins": joins})
        return copy

    def measure(self, k: int, name: str, spec: Spec, *, rows: bool = False) -> str:
        """The variant of measure ``name`` under finding ``k`` (``rows``: only the finding's rows)."""
        m = self.defs.measures[name]
        table = self._table(k, m.table, spec)
        parts = []
        base = spec.filters.get(name, m.filter)
        if base:
            parts.append(f"({self.snippet(base, m.table)})")
        extra = spec.rows if rows else spec.keep
        if extra:
            parts.append(f"({extra})")
        update: dict = {"table": table, "filter": self._out(" AND ".join(parts)) if parts else None}
        out = variant_name(k, ("rows_" if rows else "") + name)
        self.measures[out] = m.model_copy(update=update)
        return out

    def metric(self, k: int, name: str, spec: Spec, seen: tuple[str, ...] = ()) -> str | None:
        """The variant of a metric with the finding's measures changed: simple, ratio and conversion metrics
        swap their measures, a derived one its sub-metrics (None: a cumulative metric, or a cycle)."""
        out = variant_name(k, name)
        if out in self.metrics:
            return out
        m = self.defs.metrics[name]
        if isinstance(m, SimpleMetric):
            update: dict = {"measure": self._swap(k, m.measure, spec)}
        elif isinstance(m, RatioMetric):
            update = {"numerator": self._swap(k, m.numerator, spec), "denominator": self._swap(k, m.denominator, spec)}
        elif isinstance(m, ConversionMetric):
            update = {side: getattr(m, side).model_copy(update={"measure": self._swap(k, getattr(m, side).measure, spec)})
                      for side in ("base", "target")}
        elif isinstance(m, DerivedMetric) and name not in seen:
            subs = {s: self.metric(k, s, spec, (*seen, name)) or s for s in self.cat.metric_refs(name)[1]}

            def swap(node: exp.Expression) -> exp.Expression:
                if isinstance(node, exp.Column) and not node.table and node.name in subs:
                    return exp.column(subs[node.name])
                return node

            update = {"expr": sqlglot.parse_one(m.expr, read=self.cat.dialect).transform(swap).sql(self.cat.dialect)}
        else:
            return None
        self.metrics[out] = m.model_copy(update={**update, "targets": []})
        return out

    def share_metric(self, k: int, measure: str, spec: Spec) -> tuple[str, str]:
        """(metric over the finding's rows of ``measure``, metric over all of it): their measure columns."""
        rows = self.measure(k, measure, spec, rows=True)
        self.metrics[rows] = SimpleMetric(measure=rows)
        whole = f"{PREFIX}all_{measure}"
        if whole not in self.metrics:
            self.metrics[whole] = SimpleMetric(measure=measure)
        return rows, whole

    def _swap(self, k: int, measure: str, spec: Spec) -> str:
        return self.measure(k, measure, spec) if measure in spec.measures else measure

    def definitions(self) -> Definitions:
        d = self.defs
        return d.model_copy(update={"tables": {**d.tables, **self.tables}, "measures": {**d.measures, **self.measures},
                                    "metrics": {**d.metrics, **self.metrics}})


# -- changed tables ------------------------------------------------------------------------------

def with_raw_column(t: TableDef, column: str) -> TableDef:
    """``t`` with one more column holding ``column``'s source value before any mapping."""
    c = t.columns[column]
    raw = ColumnDef(type="string", expr=c.expr) if c.expr else ColumnDef(type="string", **{"from": c.from_ or column})
    return t.model_copy(update={"columns": {**t.columns, RAW: raw}})


def raw_key(c: ColumnDef) -> str:
    return f"LOWER(TRIM({col(RAW)}))" if c.normalize else col(RAW)


def with_mapping(t: TableDef, column: str, added: dict[str, str]) -> TableDef:
    c = t.columns[column]
    c = c.model_copy(update={"values": {**(c.values or {}), **added}})
    return t.model_copy(update={"columns": {**t.columns, column: c}})


def deduplicated(t: TableDef, source_sql: str, dialect: str) -> TableDef | None:
    """``t`` read with one row per primary key (the earliest by its time column, then any); the query is
    DuckDB text like every ``sql:`` source (the compiler reads its statement as DuckDB's dialect)."""
    pk = t.columns.get(t.primary_key or "")
    if pk is None:
        return None

    def raw(name: str) -> str:
        c = t.columns[name]
        return exp.maybe_parse(c.expr, dialect=dialect).sql("duckdb") if c.expr else q(c.from_ or name)

    order = ", ".join(raw(c) for c in (t.time, t.primary_key) if c and c in t.columns)
    ranked = (f"SELECT s_.*, ROW_NUMBER() OVER (PARTITION BY {raw(t.primary_key)} ORDER BY {order}) AS kpi_doctor_rank_ "  # type: ignore[arg-type]
              f"FROM {source_sql} AS s_")
    sql = f"SELECT * FROM ({ranked}) AS r_ WHERE kpi_doctor_rank_ = 1"
    return t.model_copy(update={"source": SourceDef(sql=sql)})


def rewrite_literal(cat: Catalog, sql: str, table: str, value: str, target: str) -> str:
    """A filter with the string literal ``value`` replaced by ``target`` (in the definitions' dialect)."""
    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Literal) and node.is_string and node.this == value:
            return exp.Literal.string(target)
        return node

    return cat.parse(sql, table).transform(swap).sql(cat.dialect)
