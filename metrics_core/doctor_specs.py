"""`kpi doctor`: how each finding's rows change the measures it touches (layer: facade; reads definitions only).

``spec(kpi, finding, as_of)`` -> a ``doctor_whatif.Spec``: the condition that keeps or picks the rows, or
the changed table (a mapping, one row per key, a prorated month), or the rewritten filter; None when
the finding needs no statement (rows with no date, stale data) or has nothing to compute. The table of
what each kind's shift means is in ``doctor_shift``.
"""

from __future__ import annotations

import difflib
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from .compile_tables import TableSQL
from .doctor_whatif import (Spec, WhatIf, col, deduplicated, lit, marker, raw_key, rewrite_literal, with_mapping,
                            with_raw_column)
from .periods import Period, utc_bounds

if TYPE_CHECKING:
    from .api import KPI
    from .doctor import Finding

MAX_LISTED = 200  # offending values named in a condition; more: every unknown value counts


def spec(kpi: "KPI", f: "Finding", as_of: date, k: int = 0) -> Spec | None:  # noqa: C901 - one branch per kind
    """How the finding's rows change its measures (None: no query needed, or nothing to compute)."""
    defs, cat, d = kpi.definitions, kpi.catalog, f.detail
    measures = tuple(d.get("measures", ()))
    w = WhatIf(cat)
    if f.check in ("negative_value", "date_order", "future_date"):
        if f.check == "negative_value":
            x = w.snippet(d["expr"], defs.measures[measures[0]].table)
            keep = f"(({x}) IS NULL OR ({x}) >= 0)"
        elif f.check == "date_order":
            a, b = col(d["first"]), col(d["then"])
            keep = f"({b} IS NULL OR {a} IS NULL OR {b} >= {a})"
        else:
            keep = _not_after(kpi, f.table, f.subject, as_of)
        return Spec("left_out", measures, keep=keep)
    if f.check == "no_value":
        return Spec("share", measures, rows=f"({w.snippet(d['expr'], f.table)}) IS NULL", unit="rows")
    if f.check == "join_unmatched":
        j = defs.tables[f.table].joins[f.subject]
        keys = [col(k.rpartition(".")[2], k.rpartition(".")[0]) for k in j.on]
        rows = " AND ".join([*(f"{x} IS NOT NULL" for x in keys), f"{col(d['remote'], f.subject)} IS NULL"])
        return Spec("share", measures, rows=rows)
    if f.check == "blank_dimension":
        x = w.snippet(cat.table_dimensions(f.table)[f.subject].expr, f.table)
        return Spec("share", measures, rows=f"(({x}) IS NULL OR TRIM(CAST(({x}) AS VARCHAR)) = '')")
    if f.check == "duplicate_key":
        t = defs.tables[f.table]
        src = f"({t.source.sql})" if t.source.sql else TableSQL(cat, kpi.loaded.base_dir).source_sql(t.source)
        fixed = deduplicated(t, src, cat.dialect)
        return Spec("deduplicated", measures, tables={f.table: fixed}) if fixed else None
    if f.check == "grain_undeclared":
        t = defs.tables[f.table]
        on = tuple(n for n, m in defs.measures.items() if m.table == f.table)
        return Spec("prorated", on, tables={f.table: t.model_copy(update={"grain": "month", "partial": "prorate"})})
    if f.check == "never_matches":
        return _never_spec(kpi, f)
    if f.check in ("unmapped_near", "unmapped_value", "unmapped_default"):
        return _unmapped_spec(kpi, f, k)
    return None


def _not_after(kpi: "KPI", table: str, column: str, as_of: date) -> str:
    c = col(column)
    if kpi.catalog.column_type(table, column) == "timestamp":
        hi = utc_bounds(Period("today", "day", as_of, as_of), kpi.calendar)[1]
        return f"({c} IS NULL OR {c} < TIMESTAMP '{hi:%Y-%m-%d %H:%M:%S}')"
    return f"({c} IS NULL OR {c} <= DATE '{as_of.isoformat()}')"


def _never_spec(kpi: "KPI", f: "Finding") -> Spec | None:
    """A filter comparing with a mapped source value ('Won'): the filter as if it used the target ('won')."""
    c = kpi.definitions.tables[f.table].columns[f.subject]
    value = f.detail["value"]

    def key(s: str) -> str:
        return s.strip().lower() if c.normalize else s

    target = next((dst for src, dst in (c.values or {}).items() if key(src) == key(value) and dst is not None), None)
    if target is None:
        return None
    measures = tuple(f.detail.get("measures", ()))
    ms = kpi.definitions.measures
    filters = {m: rewrite_literal(kpi.catalog, ms[m].filter, ms[m].table, value, target) for m in measures if ms[m].filter}
    return Spec("mapped", measures, filters=filters)


def _unmapped_spec(kpi: "KPI", f: "Finding", k: int) -> Spec | None:
    defs = kpi.definitions
    t = defs.tables[f.table]
    c = t.columns[f.subject]
    measures = tuple(f.detail.get("measures", ()))
    if f.check == "unmapped_near" and measures:
        added = {v: n for v, _c in f.values if v is not None and (n := _neighbour(str(v), c)) is not None}
        if added:
            return Spec("mapped", measures, tables={f.table: with_mapping(t, f.subject, added)})
    values = [v for v, _n in f.values if v is not None]
    params: dict[str, str] = {}
    known = ", ".join(lit(k) for k in f.detail.get("known", ()))
    # The rows as the table copy sees them: a measure on the same table, or on one joining it for a breakdown.
    target = _reader(kpi, f.table, f.subject, measures)
    if target is None:
        return None
    qual, on, dims = target
    key = raw_key(c).replace('"kpi_doctor_raw_"', col("kpi_doctor_raw_", qual))
    if 0 < len(values) <= MAX_LISTED:
        params = {f"kpi_doctor_{k}_{i}": str(v) for i, v in enumerate(values)}  # data values: bound, never SQL text
        rows = f"{key} IN ({', '.join(lit(marker(n)) for n in params)})"
    else:
        rows = f"{key} IS NOT NULL AND TRIM({key}) <> ''" + (f" AND {key} NOT IN ({known})" if known else "")
    return Spec("share", on, rows=rows, tables={f.table: with_raw_column(t, f.subject)}, dims=dims, params=params)


def _reader(kpi: "KPI", table: str, column: str,
            measures: tuple[str, ...]) -> tuple[str, tuple[str, ...], tuple[str, ...]] | None:
    """(qualifier, measures, dimensions) that read ``table.column``: its own measures, else the measures of
    the first table whose dimension reads it through a join (accounts.segment via deals' ``account.segment``)."""
    if measures:
        return "", measures, ()
    defs, cat = kpi.definitions, kpi.catalog
    for name, t in defs.tables.items():
        on = tuple(n for n, m in defs.measures.items() if m.table == name)
        if not on:
            continue
        found: dict[str, list[str]] = {}
        for dim, d in cat.table_dimensions(name).items():
            for ref in cat.parse(d.expr, name).find_all(exp.Column):
                alias = ref.table
                if ref.name == column and ((alias and alias in t.joins and t.joins[alias].table == table)
                                           or (not alias and name == table)):
                    found.setdefault(alias, []).append(dim)
        for alias, dims in found.items():
            return alias, on, tuple(dims)
    return None


def _neighbour(value: str, col_def: Any) -> str | None:
    """What the mapped value closest to ``value`` becomes ('clossed won' -> 'won'), None when none is close."""
    def key(s: str) -> str:
        return "".join(ch for ch in s.lower() if ch.isalnum())

    best, score = None, 0.85
    for src, dst in (col_def.values or {}).items():
        for known, target in ((src, dst), (dst, dst)):
            if known is None:
                continue
            r = 1.0 if key(known) == key(value) else difflib.SequenceMatcher(None, key(value), key(known)).ratio()
            if r >= score:
                best, score = target, r
    return best
