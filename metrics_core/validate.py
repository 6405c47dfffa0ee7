"""Semantic rules over a structurally valid Definitions (layer: definitions; pure).

Each rule yields ``(path, message)`` findings; ``check(defs, raw)`` runs them all and turns the
paths into ``Issue``s with file:line. Nothing stops at the first problem.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

from .catalog import BUILTINS, Catalog, reserved_dimension
from .errors import Issue, hint_for
from .i18n import _
from .expressions import ExprError, parse_snippet
from .models import METRIC_TYPES, ROW_KEYS, ConversionMetric, Definitions, DerivedMetric
from .validate_sql import rule_dialect
from .yamlio import dotted, line_of

Finding = tuple[tuple[Any, ...], str]
TIME_TYPES = ("date", "timestamp")


def check(defs: Definitions, raw: Any, source: str) -> list[Issue]:
    cat = Catalog(defs)
    issues = []
    for rule in RULES:
        for path, message in rule(cat):
            issues.append(Issue(message, source, line_of(raw, path), dotted(path)))
    return issues


def _expr(cat: Catalog, sql: str | None, table: str, path: tuple) -> Iterator[Finding]:
    if sql is None:
        return
    try:
        cat.parse(sql, table)
    except ExprError as e:
        yield path, str(e)


def _time_column(cat: Catalog, table: str, column: str | None, path: tuple, what: str) -> Iterator[Finding]:
    if column is None:
        return
    t = cat.column_type(table, column)
    if t is None:
        yield path, _unknown_column(cat, table, column)
    elif t not in TIME_TYPES:
        yield path, _("{what} '{column}' is a {type} column; it must be declared date or timestamp").format(
            what=what, column=column, type=t)


NUMERIC_AGGS = ("sum", "avg", "median", "percentile")


def _numeric(cat: Catalog, agg: str, sql: str | None, table: str, path: tuple) -> Iterator[Finding]:
    """A sum or average over a text or date column is a type mismatch, not a number."""
    if agg not in NUMERIC_AGGS or not sql:
        return
    try:
        expr = cat.parse(sql, table)
    except ExprError:
        return  # reported by _expr
    from sqlglot import exp

    if isinstance(expr, exp.Column):
        resolved = cat.resolve(table, expr.table, expr.name)
        kind = cat.column_type(*resolved) if resolved else None
        if kind not in (None, "number", "integer"):
            yield path, _("agg '{agg}' needs numbers, but '{sql}' is a {type} column "
                          "(declare it type: number, or use agg: count / count_distinct)").format(agg=agg, sql=sql, type=kind)


def rule_tables(cat: Catalog) -> Iterator[Finding]:
    tables = cat.defs.tables
    for name, t in tables.items():
        base = ("tables", name)
        for alias, j in t.joins.items():
            if j.table not in tables:
                yield (*base, "joins", alias, "table"), _unknown("table", j.table, tables)
                continue
            for local, remote in j.on.items():
                q, _dot, col = local.rpartition(".")
                if q and q not in t.joins:
                    yield (*base, "joins", alias, "on"), _("'{column}': unknown join '{join}'").format(
                        column=local, join=q) + hint_for(q, t.joins, what=_("joins"))
                elif not q and col not in t.columns:
                    yield (*base, "joins", alias, "on"), _unknown_column(cat, name, col)
                if remote not in tables[j.table].columns:
                    yield (*base, "joins", alias, "on"), _("unknown column '{column}' in joined table '{table}'").format(
                        column=remote, table=j.table) + hint_for(remote, tables[j.table].columns, what=_("columns"))
        for dim, d in t.dimensions.items():
            if reserved_dimension(dim):
                yield (*base, "dimensions", dim), (
                    _("dimension name '{dimension}' is a key of every answer row ({keys}): rename it").format(
                        dimension=dim, keys=", ".join(ROW_KEYS)))
            yield from _expr(cat, d.expr, name, (*base, "dimensions", dim))
        for key in ("primary_key",):
            col = getattr(t, key)
            if col and col not in t.columns:
                yield (*base, key), _("unknown column '{column}'").format(column=col) + hint_for(col, t.columns, what=_("columns"))
        yield from _time_column(cat, name, t.time, (*base, "time"), _("time"))
        for col, c in t.columns.items():
            if c.values is not None and c.type != "string":
                yield (*base, "columns", col, "values"), _("values: maps text; column '{column}' is {type}").format(
                    column=col, type=c.type)
            if c.expr is not None:
                try:
                    parse_snippet(c.expr, cat.dialect)
                except ExprError as e:
                    yield (*base, "columns", col, "expr"), str(e)


def rule_measures(cat: Catalog) -> Iterator[Finding]:
    tables = cat.defs.tables
    for name, m in cat.defs.measures.items():
        base = ("measures", name)
        if m.table not in tables:
            yield (*base, "table"), _unknown("table", m.table, tables)
            continue
        yield from _expr(cat, m.expr, m.table, (*base, "expr"))
        yield from _numeric(cat, m.agg, m.expr, m.table, (*base, "expr"))
        yield from _expr(cat, m.filter, m.table, (*base, "filter"))
        if m.snapshot:
            yield from _time_column(cat, m.table, m.snapshot.from_, (*base, "snapshot", "from"), _("snapshot from"))
            yield from _time_column(cat, m.table, m.snapshot.to, (*base, "snapshot", "to"), _("snapshot to"))
        else:
            if m.time is None and tables[m.table].time is None:
                yield (*base, "time"), _("no time column: give time: (the date that places a row in a period) here or on "
                                         "the table")
            yield from _time_column(cat, m.table, m.time, (*base, "time"), _("time"))
        if m.first_per:
            yield from _expr(cat, m.first_per, m.table, (*base, "first_per"))
        yield from _prorate(cat, name)


def _prorate(cat: Catalog, name: str) -> Iterator[Finding]:
    """``partial: prorate`` spreads a sum over the days of each month; an average, a minimum, a
    distinct count (or a snapshot, or first rows) has no share of a month, so it is refused at load
    instead of being quietly refused per question."""
    m = cat.defs.measures[name]
    t = cat.defs.tables[m.table]
    grain, partial = m.grain or t.grain, m.partial or t.partial
    if grain == "day" or partial != "prorate":
        return
    what = (f"agg {m.agg}" if m.agg != "sum" else "a snapshot" if m.snapshot else "first_per" if m.first_per else None)
    if what is None:
        return
    path = ("measures", name, "partial") if m.partial else ("tables", m.table, "partial")
    yield path, (f"measure '{name}': partial: prorate spreads sums over the days of each {grain}; {what} cannot be "
                 f"spread (allowed: agg sum; hint: give measure '{name}' partial: refuse)")


def rule_metric_refs(cat: Catalog) -> Iterator[Finding]:
    defs = cat.defs
    for name, m in defs.metrics.items():
        base = ("metrics", name)
        for key in ("measure", "numerator", "denominator"):
            ref = getattr(m, key, None)
            if ref is not None and ref not in defs.measures:
                yield (*base, key), _unknown("measure", ref, defs.measures)
        if isinstance(m, ConversionMetric):
            for side in ("base", "target"):
                s = getattr(m, side)
                if s.measure not in defs.measures:
                    yield (*base, side, "measure"), _unknown("measure", s.measure, defs.measures)
                elif defs.measures[s.measure].table in defs.tables:  # else reported on the measure
                    yield from _expr(cat, s.entity, defs.measures[s.measure].table, (*base, side, "entity"))
        if isinstance(m, DerivedMetric):
            try:
                subs = cat.metric_refs(name)[1]
            except ExprError as e:
                yield (*base, "expr"), str(e)
                continue
            for sub in subs:
                if sub not in defs.metrics:
                    yield (*base, "expr"), _unknown("metric", sub, [*defs.metrics, *BUILTINS])
                elif defs.metrics[sub].type == "cumulative":  # its windows are widened; the others' are not
                    yield (*base, "expr"), _("metric '{name}' is cumulative; a derived metric cannot use it (define the "
                                             "cumulative metric over measures: measure:, or numerator: and "
                                             "denominator:)").format(name=sub)


MAX_DERIVED_DEPTH = 20  # derived metrics built on derived metrics, this many levels at most


def rule_cycles(cat: Catalog) -> Iterator[Finding]:
    """Cycles among derived metrics, and chains deeper than ``MAX_DERIVED_DEPTH``.

    One depth-first pass (iterative, linear in metrics + references): every edge back to a metric
    still on the path closes a cycle. Enumerating every path instead took 52 s for seven metrics
    that all refer to each other.
    """
    graph: dict[str, list[str]] = {}
    for name in cat.defs.metrics:
        try:
            graph[name] = [s for s in cat.metric_refs(name)[1] if s in cat.defs.metrics]
        except ExprError:
            graph[name] = []
    depth: dict[str, int] = {}  # longest chain below a finished metric (back edges left out)
    on_path: dict[str, int] = {}  # metric -> its index in path
    for root in graph:
        if root in depth:
            continue
        path, edges = [root], [iter(graph[root])]
        on_path[root] = 0
        while path:
            node = path[-1]
            nxt = next(edges[-1], None)
            if nxt is None:  # node finished
                depth[node] = max((depth.get(c, 0) + 1 for c in graph[node] if c in depth), default=0)
                del on_path[node]
                path.pop()
                edges.pop()
                if depth[node] == MAX_DERIVED_DEPTH + 1:  # where a chain crosses the limit, once
                    yield ("metrics", node, "expr"), _("derived metrics nest {depth} levels deep here; "
                                                       "the limit is {limit}").format(depth=depth[node], limit=MAX_DERIVED_DEPTH)
            elif nxt in on_path:
                cycle = path[on_path[nxt]:]
                yield ("metrics", nxt, "expr"), _("derived metrics form a cycle: {cycle}").format(
                    cycle=" -> ".join([*cycle, nxt]))
            elif nxt not in depth:
                on_path[nxt] = len(path)
                path.append(nxt)
                edges.append(iter(graph[nxt]))


def rule_dimensions(cat: Catalog) -> Iterator[Finding]:
    defs = cat.defs
    for name, m in defs.metrics.items():
        try:
            measures = [x for x in cat.breakdown_measures(name) if x in defs.measures and defs.measures[x].table in defs.tables]
        except ExprError:
            continue
        for i, dim in enumerate(m.dimensions or []):
            bad = next((x for x in measures if dim not in cat.measure_dimensions(x)), None)
            if bad is not None:
                table = defs.measures[bad].table
                yield ("metrics", name, "dimensions", i), (
                    _("dimension '{dimension}' cannot break down measure '{measure}': table '{table}' has no such "
                      "dimension").format(dimension=dim, measure=bad, table=table)
                    + hint_for(dim, cat.measure_dimensions(bad), what=_("its dimensions")))
                continue
            # A derived metric breaks down only as every metric it reads allows.
            stricter = next((x for x in cat.metrics_read(name)[1:]
                             if defs.metrics[x].dimensions is not None and dim not in defs.metrics[x].dimensions), None)
            if stricter is not None:
                yield ("metrics", name, "dimensions", i), (
                    _("dimension '{dimension}' is not allowed for metric '{metric}', which this metric reads "
                      "(allowed there: {dimensions})").format(
                        dimension=dim, metric=stricter, dimensions=", ".join(defs.metrics[stricter].dimensions or []) or _("none")))
        known = set(cat.metric_dimensions(name)) if measures else set()
        for i, t in enumerate(m.targets):
            for dim in t.where:
                if dim not in known:
                    yield ("metrics", name, "targets", i, "where"), _unknown("dimension", dim, known)


def rule_synonyms(cat: Catalog) -> Iterator[Finding]:
    from .catalog import normalize_words

    owner: dict[str, str] = {normalize_words(n): n for n in cat.defs.metrics}
    for name, m in cat.defs.metrics.items():
        for i, word in enumerate(m.synonyms):
            key = normalize_words(word)
            if owner.setdefault(key, name) != name:
                yield ("metrics", name, "synonyms", i), _("synonym '{word}' is already used by metric '{metric}'").format(
                    word=word, metric=owner[key])
        if m.format.currency:
            from babel.numbers import list_currencies

            if m.format.currency.upper() not in list_currencies():
                yield ("metrics", name, "format", "currency"), _("unknown currency code '{code}' (ISO 4217, e.g. USD, "
                                                                 "EUR, PLN)").format(code=m.format.currency)


def rule_defaults(cat: Catalog) -> Iterator[Finding]:
    from datetime import date

    from .errors import QueryError
    from .periods import resolve_period

    try:
        resolve_period(cat.defs.defaults.period, cat.defs.calendar.to_calendar(), date(2026, 1, 15))
    except QueryError as e:
        yield ("defaults", "period"), str(e)


def rule_rollups(cat: Catalog) -> Iterator[Finding]:
    """Rollups name known measures, conversions and dimensions, and only what they can store exactly."""
    defs = cat.defs
    for name, t in defs.tables.items():
        for key in ("updated_at", "append_only"):
            yield from _column_of(cat, name, getattr(t, key), ("tables", name, key))
    for name, r in defs.rollups.named.items():
        base = ("rollups", name)
        tables: list[tuple[str, str]] = []  # (what, table) whose dimensions the rollup needs
        for i, meas in enumerate(r.measures):
            m = defs.measures.get(meas)
            if m is None:
                yield (*base, "measures", i), _unknown("measure", meas, defs.measures)
                continue
            if m.snapshot and m.agg not in ("count", "sum", "avg"):
                yield (*base, "measures", i), _("snapshot measure '{measure}' with agg '{agg}' cannot be rolled up "
                                                "exactly (count, sum and avg can)").format(measure=meas, agg=m.agg)
            if m.table in defs.tables:
                tables.append((_("measure '{name}'").format(name=meas), m.table))
        for i, conv in enumerate(r.conversions):
            c = defs.metrics.get(conv)
            if not isinstance(c, ConversionMetric):
                convs = [n for n, x in defs.metrics.items() if isinstance(x, ConversionMetric)]
                yield (*base, "conversions", i), _("'{name}' is not a conversion metric").format(name=conv) \
                    + hint_for(conv, convs, what=_("conversions"))
                continue
            bm = defs.measures.get(c.base.measure)
            if bm is None or bm.table not in defs.tables:
                continue
            if c.base.entity != defs.tables[bm.table].primary_key:
                yield (*base, "conversions", i), _("conversion '{name}' counts distinct '{entity}', which is not the "
                                                   "primary key of table '{table}': it cannot be summed over days "
                                                   "exactly").format(name=conv, entity=c.base.entity, table=bm.table)
            tables.append((_("conversion '{name}'").format(name=conv), bm.table))
        for i, dim in enumerate(r.dimensions):
            for what, table in tables:
                dims = cat.table_dimensions(table)
                if dim not in dims:
                    yield (*base, "dimensions", i), _("'{dimension}' is not a dimension of {what} (table '{table}')").format(
                        dimension=dim, what=what, table=table) + hint_for(dim, dims, what=_("its dimensions"))
                    break


def _column_of(cat: Catalog, table: str, column: str | None, path: tuple) -> Iterator[Finding]:
    if column is not None and column not in cat.columns(table):
        yield path, _unknown_column(cat, table, column)


def _unknown_column(cat: Catalog, table: str, column: str) -> str:
    return _("unknown column '{column}' in table '{table}'").format(column=column, table=table) \
        + hint_for(column, cat.columns(table), what=_("columns"))


def _unknown(kind: str, name: str, known: Any) -> str:
    """"unknown measure 'spnd' (did you mean 'spend'?)" for a table, measure, metric or dimension."""
    if kind == "table":
        return _("unknown table '{name}'").format(name=name) + hint_for(name, known, what=_("tables"))
    if kind == "measure":
        return _("unknown measure '{name}'").format(name=name) + hint_for(name, known, what=_("measures"))
    if kind == "metric":
        return _("unknown metric '{name}'").format(name=name) + hint_for(name, known, what=_("metrics"))
    return _("unknown dimension '{name}'").format(name=name) + hint_for(name, known, what=_("dimensions"))


def rule_cumulative(cat: Catalog) -> Iterator[Finding]:
    """A cumulative metric's span must not cut the rows of a measure dated by month (or week, quarter,
    year): its span is widened past the question's windows, where the coarse-grain checks do not look."""
    from .models import CumulativeMetric

    steps = {"week": ("week", "month", "quarter", "year"), "month": ("month", "quarter", "year"),
             "quarter": ("quarter", "year"), "year": ("year",)}
    for name, m in cat.defs.metrics.items():
        if not isinstance(m, CumulativeMetric):
            continue
        for key in ("measure", "numerator", "denominator"):
            meas = cat.defs.measures.get(getattr(m, key) or "")
            if meas is None or meas.table not in cat.defs.tables:
                continue
            grain = meas.grain or cat.defs.tables[meas.table].grain  # as compile_scan.effective_grain
            if grain == "day":
                continue
            span = m.window_span
            if span is not None and span[1] not in steps[grain]:
                yield (("metrics", name, "window"), f"measure '{getattr(m, key)}' is dated by {grain}: "
                       f"a window of {span[1]}s cuts its {grain}s (use a window of whole {grain}s, e.g. '3 {steps[grain][0]}s')")
            if m.since is not None and grain in ("month", "quarter", "year") and m.since.day != 1:
                yield (("metrics", name, "since"), f"measure '{getattr(m, key)}' is dated by {grain}: "
                       f"since: must be the first day of a {grain} (not {m.since.isoformat()})")


def rule_row_links(cat: Catalog) -> Iterator[Finding]:
    """``url:`` links each row (``kpi rows``, Slack's Show records): http(s), declared column names in braces."""
    import string

    for name, t in cat.defs.tables.items():
        if t.url is None:
            continue
        path = ("tables", name, "url")
        example = "{" + (t.primary_key or "id") + "}"
        if not t.url.startswith(("https://", "http://")):
            yield path, _("url '{url}' must start with https:// or http://").format(url=t.url)
        try:
            parts = [(f, spec, conv) for _lit, f, spec, conv in string.Formatter().parse(t.url) if f is not None]
        except ValueError as e:
            yield path, _("url '{url}': {error}; write column names in braces, e.g. {example}").format(
                url=t.url, error=e, example=example)
            continue
        if not parts:
            yield path, _("url '{url}' names no column; e.g. {example}").format(url=t.url, example=example)
        for field, spec, conv in parts:
            if field not in t.columns or spec or conv:
                shown = "{" + field + ("!" + conv if conv else "") + (":" + spec if spec else "") + "}"
                yield path, (_("url: '{field}' is not a column of table '{table}'").format(field=shown, table=name)
                             + hint_for(field, t.columns, what=_("columns")))


RULES: tuple[Callable[[Catalog], Iterator[Finding]], ...] = (
    rule_tables, rule_measures, rule_metric_refs, rule_cycles, rule_dimensions, rule_synonyms, rule_defaults,
    rule_rollups, rule_dialect, rule_cumulative, rule_row_links)
__all__ = ["check", "RULES", "METRIC_TYPES"]
