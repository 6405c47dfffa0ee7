"""Dimension values: `kpi values DIMENSION`, and what an empty filtered answer means (layer: facade).

    kpi.values("segment", metric="win_rate", period="last-quarter")
    -> DimensionValues(rows=(("SMB", 3), ("Enterprise", 1)), ...)   # closed deals of the quarter

A filter value that matches no row at all is a typo: ``where region=Europe`` is refused with the
real values to choose from. A value that exists but has no rows in the asked window gives an empty
answer with a note saying so. The check runs only when the filtered answer is empty (one small
statement), so no other answer pays for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from .statement import Compiled
from .errors import QueryError, hint_for
from .filters import NEGATIVE, ORDERED, Cond, Filter, conds, describe, join
from .i18n import _
from .models import MeasureDef
from .periods import Period, resolve_period, today

if TYPE_CHECKING:
    from .api import KPI
    from .assemble import Request


@dataclass(frozen=True)
class DimensionValues:
    dimension: str
    metric: str | None
    table: str
    measure: str | None  # whose rows were counted (None: every row of the table)
    period: Period | None
    rows: tuple[tuple[str | None, int], ...]  # (value, rows), most rows first; None is the blank value
    sql: str

    def to_json(self) -> dict[str, Any]:
        from .compile_values import BLANK

        period = None if self.period is None else {"text": self.period.text, "start": self.period.start.isoformat(),
                                                   "end": self.period.end.isoformat()}
        return {"dimension": self.dimension, "metric": self.metric, "table": self.table, "measure": self.measure,
                "period": period, "values": [{"value": BLANK if v is None else v, "blank": v is None, "rows": n}
                                             for v, n in self.rows]}


def list_values(kpi: "KPI", dimension: str, *, metric: str | None = None, period: str | None = None,
                as_of: date | None = None) -> DimensionValues:
    from .compile_values import base_measure, tables_with, values_sql  # SQLGlot: imported when values are listed

    cat = kpi.catalog
    dim = dimension.strip().lower()
    if metric:
        name: str | None = kpi.metric_info(metric).name
        allowed = cat.metric_dimensions(name)  # type: ignore[arg-type]
        if dim not in allowed:
            raise QueryError(_("cannot break {metric} down by '{dimension}'").format(metric=name, dimension=dim)
                             + cat.breakdown_hint(name, dim))  # type: ignore[arg-type]
        measure: str | None = base_measure(cat, name)  # type: ignore[arg-type]
        mdef = kpi.definitions.measures[measure]  # type: ignore[index]
    else:
        name = measure = None
        tables = tables_with(cat, dim)
        if not tables:
            every = {d for t in kpi.definitions.tables for d in cat.table_dimensions(t)}
            raise QueryError(_("unknown dimension '{dimension}'").format(dimension=dim)
                             + hint_for(dim, every, what=_("dimensions")))
        if len(tables) > 1:
            raise QueryError(_("'{dimension}' is a dimension of several tables ({tables}); name a metric: "
                               "kpi values {dimension} --metric METRIC").format(dimension=dim, tables=", ".join(tables)))
        mdef = MeasureDef(table=tables[0], agg="count")
    window = resolve_period(period, kpi.calendar, as_of or today(kpi.calendar)) if period else None
    sql, params = values_sql(cat, kpi.calendar, dim, mdef, period=window, counted=measure is not None,
                             dialect=kpi.dialect, base_dir=kpi.loaded.base_dir)
    rows = [(_text(r["value"]), int(r["n"] or 0)) for r in _rows(kpi.backend.run(sql, params))]
    rows.sort(key=lambda vn: (-vn[1], vn[0] is None, vn[0] or ""))
    return DimensionValues(dim, name, mdef.table, measure, window, tuple(rows), sql)


def empty_filter_note(kpi: "KPI", req: "Request", compiled: Compiled, table: Any) -> str | None:
    """None unless a filtered answer is empty or a filter says ``!=``/``not in``. Then: a ``QueryError``
    with did-you-mean when a text value matches no row of the table at any time (a typo after ``!=``
    would silently keep every row), else, for an empty answer, a note that the window has no such rows."""
    q = req.query
    cols = [c + "_n" for c in compiled.measure_cols.values()] + [b for _c, b in compiled.conversion_cols.values()]
    tree = join(q.filters, q.condition)
    if tree is None or not cols:
        return None
    empty = _empty(table, cols, compiled)
    check_filter_values(kpi, q.metric, tree, empty=empty)
    if not empty:
        return None
    if q.condition is None:
        shown = _(" and ").join(f"{d}={'|'.join(vs)}" for d, vs in q.filters)
        return _("no rows match {filters} in this period (the values exist in other periods)").format(filters=shown)
    return _("no rows match {filters} in this period").format(filters=describe(tree))


def check_filter_values(kpi: "KPI", metric: str, tree: Filter | None, *, empty: bool) -> None:
    """The did-you-mean check of text values: all of them when nothing matched, else those after
    ``!=``/``not in`` (one small statement, only when there is something to check)."""
    from .compile_filters import metric_fields  # SQLGlot: only for a question with filters

    kinds = metric_fields(kpi.catalog, metric)
    text_conds = [c for c in conds(tree) if kinds.get(c.dim) == "text" and c.op not in ORDERED]
    _check_values(kpi, metric, text_conds if empty else [c for c in text_conds if c.op in NEGATIVE])


def _empty(table: Any, cols: list[str], compiled: Compiled) -> bool:
    total = 1 if compiled.dim_cols else 0
    return not any(int(r["pid"]) == 0 and int(r["g"]) == total and any(float(r.get(c) or 0) for c in cols)
                   for r in _rows(table))


def _check_values(kpi: "KPI", metric: str, checked: list[Cond]) -> None:
    """A ``QueryError`` with did-you-mean for the first value no row of the table has, at any time."""
    if not checked:
        return
    from .compile_values import BLANK, base_measure, is_blank, known_values_sql

    mdef = kpi.definitions.measures[base_measure(kpi.catalog, metric)]
    dims = list(dict.fromkeys(c.dim for c in checked))
    sql = known_values_sql(kpi.catalog, kpi.calendar, dims, mdef, dialect=kpi.dialect, base_dir=kpi.loaded.base_dir)
    seen: dict[int, dict[str | None, str]] = {i: {} for i in range(len(dims))}  # lower-case -> as stored
    for r in _rows(kpi.backend.run(sql, {})):
        v = _text(r["value"])
        seen[int(r["f"])][None if v is None else v.lower()] = BLANK if v is None else v
    for c in checked:
        i = dims.index(c.dim)
        for value in c.values:
            if (None if is_blank(value) else str(value).lower()) not in seen[i]:
                real = list(seen[i].values())
                raise QueryError(_("no row has {dimension}={value}").format(dimension=c.dim, value=value)
                                 + hint_for(str(value), real, what=_("its values"))
                                 + _("; `kpi values {dimension} --metric {metric}` lists them")
                                 .format(dimension=c.dim, metric=metric))


def _text(value: Any) -> str | None:
    return None if value is None or (isinstance(value, float) and value != value) else str(value)


def _rows(table: Any) -> list[dict[str, Any]]:
    from .columns import _records  # the one reader of an engine's answer

    return _records(table)
