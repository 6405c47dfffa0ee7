"""A ``where`` tree -> a SQL condition with every value a bound parameter (layer: compile; pure).

    condition_sql(parse_where("segment != SMB and (amount > 50000 or region = EMEA)"), column, params)
    -> "(NOT COALESCE(LOWER(CAST(j_account.segment AS VARCHAR)) IN (:p0), FALSE))
        AND ((t.amount > :p1) OR (LOWER(CAST(j_account.region AS VARCHAR)) IN (:p2)))"
       params = {"p0": "smb", "p1": 50000.0, "p2": "emea"}

What a field is: a dimension of the table (text, compared case-insensitively as before), or a
number or date column (``amount``, ``closed_at``) that can be filtered but not broken down by.
``>``/``>=``/``<``/``<=`` need a number or a date; a value is checked against its field's type
before any SQL exists (``amount > big``: "amount is a number; 'big' is not").

``!=`` and ``not in`` are the exact complement of ``=`` and ``in``: ``segment != SMB`` keeps the
rows with a blank segment (unless ``(blank)`` is among the values), so = and != add up to all rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable, Literal

from sqlglot import exp

from .catalog import Catalog
from .compile_values import is_blank, value_condition
from .errors import QueryError, hint_for
from .expressions import ExprError
from .filters import NEGATIVE, ORDERED, AllOf, AnyOf, Cond, Filter, conds
from .i18n import _

Kind = Literal["text", "number", "date"]
_NUMBER = re.compile(r"^[$€£]?\s*(-?)(\d{1,3}(?:[,_]\d{3})+|\d+)(\.\d+)?\s*([kKmM]?)$")  # 50000, 50,000, 1.5m


@dataclass(frozen=True)
class FilterField:
    expr: str  # SQL snippet on the table (a dimension's expr, or a column name)
    kind: Kind


def table_fields(cat: Catalog, table: str) -> dict[str, FilterField]:
    """Every name a filter on ``table``'s rows may use: its dimensions, then its number and date columns."""
    out: dict[str, FilterField] = {}
    for name, d in cat.table_dimensions(table).items():
        out[name] = FilterField(d.expr, _kind(cat, table, d.expr))
    t = cat.defs.tables[table]
    for col, cdef in t.columns.items():
        if col not in out and col != t.primary_key and cdef.type in ("number", "integer", "date"):
            out[col] = FilterField(col, "date" if cdef.type == "date" else "number")
    return out


def metric_fields(cat: Catalog, metric: str) -> dict[str, Kind]:
    """Fields a filter on ``metric`` may use: its dimensions and, when all its measures read one table,
    that table's number and date columns (``amount`` on two tables need not mean the same thing)."""
    measures = [m for m in cat.breakdown_measures(metric) if m in cat.defs.measures]
    if not measures:
        return {}
    table = cat.defs.measures[measures[0]].table
    fields = table_fields(cat, table)
    out = {d: fields[d].kind if d in fields else "text" for d in cat.metric_dimensions(metric)}
    if all(cat.defs.measures[m].table == table for m in measures):
        for name, f in fields.items():
            out.setdefault(name, f.kind)
    return out


def _kind(cat: Catalog, table: str, sql: str) -> Kind:
    """A dimension that is one column has that column's type; any other expression is text."""
    try:
        node = cat.parse(sql, table)
    except ExprError:
        return "text"
    if not isinstance(node, exp.Column):
        return "text"
    found = cat.resolve(table, node.table, node.name)
    typ = cat.column_type(*found) if found else None
    return "number" if typ in ("number", "integer") else "date" if typ == "date" else "text"


def check_types(tree: Filter | None, kinds: dict[str, Kind]) -> None:
    """Raise the one-line error for the first value that does not fit its field (names are checked before)."""
    for c in conds(tree):
        typed(c, kinds.get(c.dim, "text"))


def typed(c: Cond, kind: Kind) -> list[Any]:
    """The condition's values as they are bound: lower-case text, floats, dates; None for ``(blank)``."""
    if kind == "text":
        if c.op in ORDERED:
            raise QueryError(_("filter '{text}': {dimension} is text; {op} needs a number or a date "
                               "(use = or in)").format(text=c.text or c.dim, dimension=c.dim, op=c.op))
        return [None if is_blank(v) else str(v).lower() for v in c.values]
    out: list[Any] = []
    for v in c.values:
        if is_blank(v):
            if c.op in ORDERED:
                raise QueryError(_("filter '{text}': (blank) cannot be compared with {op}")
                                 .format(text=c.text or c.dim, op=c.op))
            out.append(None)
        elif kind == "number":
            out.append(_number(c, v))
        else:
            out.append(_date(c, v))
    return out


def _number(c: Cond, value: str) -> float:
    m = _NUMBER.match(value.strip())
    if not m:
        raise QueryError(_("filter '{text}': {dimension} is a number; '{value}' is not")
                         .format(text=c.text or c.dim, dimension=c.dim, value=value))
    n = float(m[1] + re.sub("[,_]", "", m[2]) + (m[3] or ""))
    return n * {"": 1, "k": 1e3, "m": 1e6}[m[4].lower()]


def _date(c: Cond, value: str) -> date:
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            raise ValueError(value)
        return date.fromisoformat(value.strip())
    except ValueError:
        raise QueryError(_("filter '{text}': {dimension} is a date; '{value}' is not (write 2026-01-31)")
                         .format(text=c.text or c.dim, dimension=c.dim, value=value)) from None


def condition_sql(tree: Filter, column: Callable[[str], tuple[str, Kind]], params: dict[str, Any]) -> str:
    """SQL for ``tree``; ``column(dim)`` gives the field's SQL and kind; values go into ``params``."""
    if isinstance(tree, (AllOf, AnyOf)):
        word = " AND " if isinstance(tree, AllOf) else " OR "
        return "(" + word.join(f"({condition_sql(p, column, params)})" for p in tree.parts) + ")"
    col, kind = column(tree.dim)
    values = typed(tree, kind)
    if kind == "text" and tree.op not in ORDERED:
        positive = value_condition(col, tuple(tree.values), params)
    elif tree.op in ORDERED:
        key = _bind(params, values[0])
        return f"{col} {tree.op} ${key}"
    else:
        names = [f"${_bind(params, v)}" for v in values if v is not None]
        parts = [f"{col} IN ({', '.join(names)})"] if names else []
        if len(names) < len(values):
            parts.append(f"{col} IS NULL")
        positive = " OR ".join(f"({p})" for p in parts)
    # NULL = 'x' is unknown: COALESCE makes it false, so != keeps blank rows (the complement of =)
    return f"NOT COALESCE({positive}, FALSE)" if tree.op in NEGATIVE else positive


def _bind(params: dict[str, Any], value: Any) -> str:
    key = f"p{len(params)}"
    params[key] = value
    return key


def unknown_field(metric: str, dim: str, allowed: dict[str, Kind]) -> QueryError:
    return QueryError(_("cannot filter {metric} by '{dimension}'").format(metric=metric, dimension=dim)
                      + hint_for(dim, allowed, what=_("its dimensions")))
