"""The "rows were excluded" fine print of every answer (layer: facade).

Runs the statement ``excluded_sql`` builds (one more round trip, through the result cache when
there is one) and turns its counts into ``Excluded`` records and whole sentences:

    "3 won deals have no closed_at, so no period counts them."
    "12 won deals in this period have no amount: not counted."

The rows are named by the measure's own label when it counts rows ("won deals"), by a count
measure with the same table and filter when there is one, else as rows of the table.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from .formatting import fmt_count, plural_category
from .i18n import ngettext
from .statement import KINDS, ExcludedSQL, from_duckdb

if TYPE_CHECKING:
    from .api import KPI
    from .assemble import Request
    from .statement import MetricQuery


@dataclass(frozen=True)
class Excluded:
    measure: str
    reason: str  # no_time | no_value | negative | date_order
    count: int
    note: str

    def to_json(self) -> dict[str, Any]:
        return {"measure": self.measure, "reason": self.reason, "count": self.count, "note": self.note}


def excluded_rows(kpi: "KPI", req: "Request", use_cache: bool = True
                  ) -> tuple[tuple[Excluded, ...], dict[tuple, tuple[Excluded, ...]]]:
    """What the measures behind ``req`` leave out (counted on the raw tables, under its filters): for the
    asked window's total, and per part: ``(pid, key)`` -> records, where pid 0 is the asked window and
    2.. a series bucket, and key the breakdown values (``None`` for a window's total)."""
    q = req.query
    dialect = kpi.dialect
    # what the statement reads of the question: the asked window and the buckets, the breakdown, the filters
    windows = tuple((s.pid, s.period) for s in q.slots if s.role in ("current", "bucket"))
    key = ("excluded", q.metric, windows, q.dimensions, q.filters, q.condition, req.as_of, dialect)
    built = kpi.plans.get(key, lambda: _statement(kpi, q, req.as_of, dialect))
    if built is None:
        return (), {}
    sql = built.sql
    if kpi.cache is not None:
        table, _cached = kpi.cache.fetch(kpi.backend, sql, built.params, use_cache=use_cache)
    else:
        table = _counted_once(kpi, sql, built.params)
    from .columns import _records  # the one reader of an engine's answer

    locale = kpi._asm.locale
    dims = [f"d{i}" for i in range(len(q.dimensions))]
    total_g = 1 if dims else 0
    parts: dict[tuple, list[Excluded]] = {}
    for r in sorted(_records(table), key=lambda r: list(built.details).index(str(r["measure"]))):
        name = str(r["measure"])
        g = int(r["g"] if r["g"] is not None else total_g)
        where = (int(r["pid"]), None if g == total_g else tuple(r[d] for d in dims))
        for kind in KINDS:
            n = int(r.get(kind) or 0)
            if n:
                note = _note(kpi, name, kind, n, built.details[name], locale)
                parts.setdefault(where, []).append(Excluded(name, kind, n, note))
    found = {k: tuple(v) for k, v in parts.items()}
    return found.pop((0, None), ()), found


def _statement(kpi: "KPI", q: "MetricQuery", as_of: Any, dialect: str) -> ExcludedSQL | None:
    """The counting statement in the engine's dialect (built as DuckDB text with ``$p0`` parameters: run
    as written on DuckDB, transpiled for another engine)."""
    from .compile_tables import TableSQL
    from .excluded_sql import excluded_sql

    built = excluded_sql(kpi.catalog, TableSQL(kpi.catalog, kpi.loaded.base_dir), kpi.calendar, q, as_of)
    return None if built is None else replace(built, sql=from_duckdb(built.sql, dialect))


def _counted_once(kpi: "KPI", sql: str, params: dict[str, Any]) -> Any:
    """The counts, run once per data version of the engine (the DuckDB file's stamp, read now: any
    write changes it). They change only when the data does, and an answer read from a rollup in a
    few milliseconds should not scan the raw tables again for its fine print on every question."""
    version = kpi.backend.data_version()
    if version is None:
        return kpi.backend.run(sql, params)
    key = (sql, repr(sorted(params.items())), version)
    hit = kpi._counted.get(key)
    if hit is None:
        hit = kpi.backend.run(sql, params)
        with kpi._lock:
            if len(kpi._counted) >= 256:
                kpi._counted.pop(next(iter(kpi._counted)))
            kpi._counted[key] = hit
    return hit


def _rows(kpi: "KPI", name: str, n: int, locale: str) -> str:
    """"3 won deals", or "3 rows of deals read by won revenue"."""
    defs = kpi.definitions
    m = defs.measures[name]
    noun = name if m.agg == "count" and not m.expr else next(
        (k for k, o in defs.measures.items()
         if o.table == m.table and o.filter == m.filter and o.agg == "count" and not o.expr and not o.snapshot), None)
    count = fmt_count(n, locale)
    if noun is not None and defs.measures[noun].label:
        return f"{count} {defs.measure_label(noun, plural_category(n, locale))}"
    # TRANSLATORS: rows a measure reads, e.g. "3 rows of deals read by won revenue"
    return ngettext("{count} row of {table} read by {measure}", "{count} rows of {table} read by {measure}",
                    n).format(count=count, table=m.table, measure=defs.measure_label(name))


def _note(kpi: "KPI", name: str, kind: str, n: int, detail: dict[str, str], locale: str) -> str:
    rows = _rows(kpi, name, n, locale)
    if kind == "no_time":
        # TRANSLATORS: e.g. "3 won deals have no closed_at, so no period counts them."
        return ngettext("{rows} has no {column}, so no period counts it.",
                        "{rows} have no {column}, so no period counts them.", n).format(rows=rows, column=detail["time"])
    if kind == "no_value":
        # TRANSLATORS: e.g. "12 won deals in this period have no amount: not counted."
        return ngettext("{rows} in this period has no {expr}: not counted.",
                        "{rows} in this period have no {expr}: not counted.", n).format(rows=rows, expr=detail["expr"])
    if kind == "negative":
        # TRANSLATORS: e.g. "2 won deals in this period have a negative amount: counted as they are."
        return ngettext("{rows} in this period has a negative {expr}: counted as it is.",
                        "{rows} in this period have a negative {expr}: counted as they are.", n
                        ).format(rows=rows, expr=detail["expr"])
    # TRANSLATORS: e.g. "1 won deal in this period has closed_at before created_at: counted as it is."
    return ngettext("{rows} in this period has {then} before {first}: counted as it is.",
                    "{rows} in this period have {then} before {first}: counted as they are.", n
                    ).format(rows=rows, then=detail["then"], first=detail["first"])
