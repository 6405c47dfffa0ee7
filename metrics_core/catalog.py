"""What a validated Definitions can serve (layer: definitions; pure).

The catalog answers the questions both the validator and the compiler ask: which columns a
table has, what ``alias.column`` means in a table's expressions, which measures a metric
reads, and which dimensions every one of those measures can be broken down by.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import TYPE_CHECKING

from .errors import ExprError, hint_for
from .i18n import _
from .models import RESERVED_DIMENSIONS, ConversionMetric, CumulativeMetric, Definitions, DerivedMetric, DimensionDef, RatioMetric, SimpleMetric

if TYPE_CHECKING:
    from sqlglot import exp

BUILTINS = ("period_days",)


def reserved_dimension(name: str) -> bool:
    """A name an answer row already uses (value, target_status, ...) or a compiled column (m0, c1_base)."""
    return name in RESERVED_DIMENSIONS or bool(re.fullmatch(r"[mcdsv]\d+(_n|_base)?", name))  # names a derived expression may use besides metrics


class Catalog:
    def __init__(self, defs: Definitions) -> None:
        self.defs = defs
        self.dialect = defs.sql_dialect
        self._refs: dict[str, tuple[list[str], list[str]]] = {}

    # -- tables -------------------------------------------------------------------------------
    def scope(self, table: str) -> dict[str, str]:
        """Qualifier -> logical table for expressions on ``table`` ('' is the table itself)."""
        out = {"": table}
        if table not in self.defs.tables:  # a measure naming an unknown table: reported by the rules
            return out
        for alias, j in self.defs.tables[table].joins.items():
            out[alias] = j.table
        return out

    def columns(self, table: str) -> set[str]:
        t = self.defs.tables.get(table)
        return set(t.columns) if t else set()

    def column_type(self, table: str, column: str) -> str | None:
        t = self.defs.tables.get(table)
        c = t.columns.get(column) if t else None
        return c.type if c else None

    def resolve(self, table: str, ref_qualifier: str, name: str) -> tuple[str, str] | None:
        """(logical table, column) a reference in an expression on ``table`` points at, or None."""
        target = self.scope(table).get(ref_qualifier)
        if target is None or target not in self.defs.tables or name not in self.columns(target):
            return None
        return target, name

    def parse(self, sql: str, table: str) -> exp.Expression:
        """Parse a snippet on ``table`` and check every column it reads (raises ExprError)."""
        from .expressions import column_refs, parse_snippet  # SQLGlot: only when a snippet is read

        expr = parse_snippet(sql, self.dialect)
        for ref in column_refs(expr):
            target = self.scope(table).get(ref.qualifier)
            if target is not None and target not in self.defs.tables:
                continue  # a join to an unknown table: reported once on the join, not per column
            if self.resolve(table, ref.qualifier, ref.name) is None:
                raise ExprError(self._unknown_column(table, ref.qualifier, ref.name))
        return expr

    def _unknown_column(self, table: str, qualifier: str, name: str) -> str:
        from .errors import hint_for

        scope = self.scope(table)
        if qualifier and qualifier not in scope:
            return _("unknown table alias '{alias}' on table '{table}'").format(alias=qualifier, table=table) \
                + hint_for(qualifier, [a for a in scope if a], what=_("joins"))
        target = scope[qualifier]
        known = self.columns(target) if target in self.defs.tables else set()
        if qualifier:
            text = _("unknown column '{column}' in table '{table}' (joined as '{alias}')").format(
                column=name, table=target, alias=qualifier)
        else:
            text = _("unknown column '{column}' in table '{table}'").format(column=name, table=target)
        return text + hint_for(name, known, what=_("columns"))

    def join_path(self, table: str, alias: str) -> list[str]:
        """Join aliases needed, in order, to reach ``alias`` (a join may start from an earlier one)."""
        joins = self.defs.tables[table].joins
        path: list[str] = []
        while alias and alias not in path:
            path.insert(0, alias)
            locals_ = [k.split(".", 1)[0] for k in joins[alias].on if "." in k]
            alias = locals_[0] if locals_ else ""
        return path

    # -- dimensions ---------------------------------------------------------------------------
    def table_dimensions(self, table: str) -> dict[str, DimensionDef]:
        t = self.defs.tables[table]
        dims = dict(t.dimensions)
        for col, cdef in t.columns.items():  # every string column can be a breakdown too
            if (cdef.type in ("string", "boolean") and col not in dims and col != t.primary_key
                    and not col.endswith("_id") and not reserved_dimension(col)):
                dims[col] = DimensionDef(expr=col)
        return dims

    def measure_dimensions(self, measure: str) -> dict[str, DimensionDef]:
        return self.table_dimensions(self.defs.measures[measure].table)

    # -- metrics ------------------------------------------------------------------------------
    def metric_refs(self, name: str) -> tuple[list[str], list[str]]:
        """(measures, metrics) a metric reads directly (remembered: definitions are frozen)."""
        hit = self._refs.get(name)
        if hit is None:
            hit = self._refs[name] = self._metric_refs(name)
        return list(hit[0]), list(hit[1])

    def _metric_refs(self, name: str) -> tuple[list[str], list[str]]:
        m = self.defs.metrics[name]
        if isinstance(m, CumulativeMetric):  # the same measures, over widened windows
            m = m.per_window()
        if isinstance(m, SimpleMetric):
            return [m.measure], []
        if isinstance(m, RatioMetric):
            return [m.numerator, m.denominator], []
        if isinstance(m, ConversionMetric):
            return [m.base.measure, m.target.measure], []
        if isinstance(m, DerivedMetric):
            from .expressions import identifiers, parse_snippet

            names = identifiers(parse_snippet(m.expr, self.dialect))
            return [], [n for n in dict.fromkeys(names) if n not in BUILTINS]
        return [], []

    def breakdown_measures(self, name: str) -> list[str]:
        """Measures whose rows a breakdown splits (a conversion splits by its base only; cycle-safe).

        Depth-first preorder over the derived metrics it reads, each visited once: linear even
        when many derived metrics refer to each other (a path-by-path walk was exponential).
        """
        out: list[str] = []
        seen: set[str] = set()
        todo = [name]
        while todo:
            current = todo.pop()
            if current in seen or current not in self.defs.metrics:
                continue
            seen.add(current)
            m = self.defs.metrics[current]
            if isinstance(m, ConversionMetric):
                out.append(m.base.measure)
                continue
            try:
                measures, metrics = self.metric_refs(current)
            except ExprError:  # a derived expression that does not parse: reported by the rules
                continue
            out += measures
            todo += reversed(metrics)
        return list(dict.fromkeys(out))

    def metric_dimensions(self, name: str) -> list[str]:
        """Dimensions every measure of the metric serves, limited by its ``dimensions:`` list and by
        those of the metrics it reads (cac_payback_months breaks down only as cac and avg_deal_size do)."""
        common = set(self.served_dimensions(name))
        for metric in self.metrics_read(name):
            allowed = self.defs.metrics[metric].dimensions
            if allowed is not None:
                common &= set(allowed)
        return sorted(common)

    def breakdown_hint(self, name: str, dim: str) -> str:
        """After "cannot break M down by 'd'": for a dimension the metric's definition leaves out, what it
        allows; for anything else, a did-you-mean or the list."""
        allowed = self.metric_dimensions(name)
        if dim in self.served_dimensions(name):
            # TRANSLATORS: after "cannot break win_rate down by 'stage'"; {dimensions} lists names
            return _(": not a meaningful breakdown of this metric (allowed: {dimensions})").format(
                dimensions=", ".join(allowed) or _("none"))
        return hint_for(dim, allowed, what=_("it can use"))

    def served_dimensions(self, name: str) -> list[str]:
        """Dimensions every measure of the metric can be broken down by, before any ``dimensions:`` list."""
        measures = [m for m in self.breakdown_measures(name)
                    if m in self.defs.measures and self.defs.measures[m].table in self.defs.tables]
        if not measures:
            return []
        common = set(self.measure_dimensions(measures[0]))
        for m in measures[1:]:
            common &= set(self.measure_dimensions(m))
        return sorted(common)

    def metrics_read(self, name: str) -> list[str]:
        """The metric and every metric its derived expressions read, each once (cycle-safe)."""
        seen: list[str] = []
        todo = [name]
        while todo:
            current = todo.pop()
            if current in seen or current not in self.defs.metrics:
                continue
            seen.append(current)
            try:
                todo += self.metric_refs(current)[1]
            except ExprError:  # reported by the rules
                continue
        return seen

    @cached_property
    def synonyms(self) -> dict[str, str]:
        """Normalised name, label or synonym -> metric name."""
        out: dict[str, str] = {}
        for name, m in self.defs.metrics.items():
            for word in (name, self.defs.metric_label(name), *m.synonyms):
                out.setdefault(normalize_words(word), name)
        return out


def normalize_words(text: str) -> str:
    """'Win-Rate', 'win_rate', ' win  rate ' -> 'win rate'."""
    return " ".join(text.lower().replace("-", " ").replace("_", " ").split())
