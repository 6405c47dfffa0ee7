"""Rules about what snippets mean for the data and the engine (layer: definitions; pure).

* ``rule_dialect`` (part of ``validate.RULES``): a snippet the connection's engine cannot run (a
  function SQLGlot cannot write in that dialect), found at load instead of at the first question.
* ``rule_mapped_filters`` (run by ``kpi validate`` only, see ``checkdata.check_definitions``): a
  measure filter comparing a mapped column with a value its ``values:`` mapping never yields
  (``stage = 'Closed Won'`` after ``Closed Won: won`` counted nothing). Loading for answers does
  not refuse it, so a running bot keeps serving and ``kpi doctor`` can count what it costs.

Both yield ``(path, message)`` findings like the other rules.
"""

from __future__ import annotations

from typing import Any, Iterator

from sqlglot import exp
from sqlglot.errors import ErrorLevel, UnsupportedError

from .catalog import Catalog
from .expressions import ExprError
from .i18n import _

Finding = tuple[tuple[Any, ...], str]


def rule_mapped_filters(cat: Catalog) -> Iterator[Finding]:
    """Without a ``default:``, unmapped values pass through as they are, so only the mapping's own
    keys are impossible then; with one, anything but the mapped values and the default is."""
    for name, m in cat.defs.measures.items():
        if not m.filter or m.table not in cat.defs.tables:
            continue
        try:
            expr = cat.parse(m.filter, m.table)
        except ExprError:
            continue  # reported by rule_measures
        for col, literal in _comparisons(expr):
            resolved = cat.resolve(m.table, col.table, col.name)
            c = cat.defs.tables[resolved[0]].columns[resolved[1]] if resolved else None
            if c is not None and c.values:
                problem = _never_yielded(literal, c)
                if problem:
                    yield ("measures", name, "filter"), _("'{column}' is compared with {problem}").format(
                        column=col.sql(), problem=problem)


def _comparisons(expr: exp.Expression) -> Iterator[tuple[exp.Column, str]]:
    """(column, string literal) of every ``col = 'x'``, ``'x' = col``, ``col != 'x'``, ``col IN ('x', ...)``."""
    for node in expr.find_all(exp.EQ, exp.NEQ):
        for a, b in ((node.this, node.expression), (node.expression, node.this)):
            if isinstance(a, exp.Column) and isinstance(b, exp.Literal) and b.is_string:
                yield a, b.this
    for node in expr.find_all(exp.In):
        if isinstance(node.this, exp.Column):
            for b in node.expressions:
                if isinstance(b, exp.Literal) and b.is_string:
                    yield node.this, b.this


def _never_yielded(value: str, c: Any) -> str | None:
    outputs = {v for v in c.values.values() if v is not None}
    if value in outputs or (c.default is not None and value == c.default):
        return None
    keys = {(k.strip().lower() if c.normalize else k): v for k, v in c.values.items()}
    key = value.strip().lower() if c.normalize else value
    allowed = ", ".join(sorted(outputs | ({c.default} if c.default is not None else set())))
    if key in keys:
        return _("'{value}', which its values: mapping turns into '{mapped}'; compare with the mapped "
                 "value (it yields: {allowed})").format(value=value, mapped=keys[key], allowed=allowed)
    if c.default is not None:
        return _("'{value}', which its values: mapping never yields (it yields: {allowed})").format(
            value=value, allowed=allowed)
    return None


def rule_dialect(cat: Catalog) -> Iterator[Finding]:
    target = engine_dialect(cat.defs.connection.url)
    if target == cat.dialect:
        return
    for path, sql, table in _snippets(cat):
        try:
            cat.parse(sql, table).sql(dialect=target, unsupported_level=ErrorLevel.RAISE)
        except ExprError:
            continue  # reported by the other rules
        except UnsupportedError as e:
            yield path, _("'{sql}' cannot be written for {engine}: {reason}").format(
                sql=sql, engine=target, reason=str(e).splitlines()[0])


def _snippets(cat: Catalog) -> Iterator[tuple[tuple, str, str]]:
    for name, m in cat.defs.measures.items():
        if m.table in cat.defs.tables:
            for key in ("expr", "filter"):
                if getattr(m, key):
                    yield ("measures", name, key), getattr(m, key), m.table
    for name, t in cat.defs.tables.items():
        for dim, d in t.dimensions.items():
            yield ("tables", name, "dimensions", dim), d.expr, name


def engine_dialect(url: str) -> str:
    """The SQLGlot dialect of a connection URL's engine ("postgresql://..." -> "postgres")."""
    scheme = url.split("://", 1)[0].split("+")[0].lower() if "://" in url else "duckdb"
    return {"postgresql": "postgres", "postgres": "postgres", "sc": "spark", "spark": "spark",
            "bigquery": "bigquery", "snowflake": "snowflake"}.get(scheme, "duckdb")
