"""The statement that answers a question from rollup parts (layer: compile; pure).

``serve_sql`` writes one statement in the compiler's output shape (pid, g, d0.., value, m0, m0_n,
c0, c0_base, s0..), so the answer is assembled exactly like a raw one. Rollup parts are small (a
row per day and dimension value), so the engine's time goes into planning and into a few fixed
costs per operator, not into data: the statement is kept to one fold, one small join and one
GROUPING SETS::

    WITH periods AS (SELECT * FROM (VALUES (0, 1, 3, 92), ...) AS v_(pid, lo, hi, days)),
         f AS (SELECT CASE WHEN k < e0 THEN 0 WHEN k < e1 THEN 1 ... END AS j, d0, SUM(m0) AS m0, ...
               FROM (<part 0's rows> UNION ALL <part 1's rows> ...) AS r GROUP BY 1, 2),
         u AS (SELECT p.pid, f.d0, f.m0, ... FROM f JOIN periods AS p ON f.j > p.lo AND f.j <= p.hi
               UNION ALL <prorated parts joined by overlap>),
         a AS (SELECT pid, d0, GROUPING(d0) AS g, COALESCE(SUM(m0), 0) AS m0, ... FROM u
               GROUP BY GROUPING SETS ((pid, d0), (pid)))
    SELECT a.pid, a.g, a.d0, <metric expression> AS value, ... FROM a WHERE <the row exists in raw SQL>

(A window no part has a row in gets its totals from ``Compiled.empty_sql``, run only then; no ORDER BY.
A metric that reads a window's length, an annualized rate, gets it as ``a.days``: each row of u
carries its window's ``days``, cheaper than joining ``periods`` once more at the end.)

The windows' edges e0 < e1 < ... cut time into segments; ``j`` is the segment a key falls in
(0: before the first edge; a window from edge lo to edge hi covers segments lo+1..hi). Every part
is folded onto segments at once, each column by its own aggregate (SUM, or MIN/MAX):
- a plain or conversion part counts in a window when ``lo < j <= hi``;
- a snapshot's open count at edge e adds up every key before e over all history: ``j <= hi`` (at
  end) or ``j <= lo`` (at start);
- a prorated sum whose windows all start and end on its rows' grain is plain; otherwise each row
  takes its share of days of every window its period overlaps (its own join, by dates).
Folding all parts into one ``f`` and adding up across dimension values once, in ``a``, is exact
because every stored partial adds up over dimensions (counts, sums, min/max, avg as sum and count,
a snapshot's +1/-1, a conversion's counts). Parts of exact-only measures (count distinct, median)
serve only windows of one bucket without dimensions, so each window's segment holds one key.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from .catalog import Catalog
from .compile import Compiled, MetricQuery, _Builder
from .compile_cumulative import widen
from .compile_filters import condition_sql, table_fields
from .compile_scan import grain_span, windows_only
from .compile_values import value_condition
from .rollup_serve import Candidate, Plan, data_grain, prorates, is_boundary, needed
from .statement import for_engine

NULLS_ARE_ZERO = ("count", "count_distinct", "sum")  # the compiler's COALESCE(SUM(...), 0)


class _Exprs:
    """The compiler's metric expressions over the ``a`` columns (shared, so both paths agree)."""

    metric_sql = _Builder.metric_sql

    def __init__(self, cat: Catalog) -> None:
        self.cat, self.defs = cat, cat.defs


def _lit(d: date) -> str:
    return f"DATE '{d.isoformat()}'"


class _Serve:
    """What one statement needs: the query's columns and windows, and each part's rows."""

    def __init__(self, cat: Catalog, query: MetricQuery, plan: Plan) -> None:
        self.cat, self.defs, self.query, self.plan = cat, cat.defs, widen(cat, query), plan
        measures, conversions = needed(cat, self.query.metric)
        self.mcols = {m: f"m{i}" for i, m in enumerate(measures)}
        self.ccols = {c: (f"c{i}", f"c{i}_base") for i, c in enumerate(conversions)}
        self.dim_cols = tuple(f"d{i}" for i in range(len(self.query.dimensions)))
        self.out_cols = [u for item in [*measures, *conversions] for u in self.outputs(item)]
        self.params: dict[str, Any] = {}
        slots = self.query.slots
        self.edges = sorted({d for s in slots for d in (s.period.start, s.period.end_exclusive)})
        self.index = {d: i for i, d in enumerate(self.edges)}
        self.first, self.last = self.edges[0], self.edges[-1]

    def outputs(self, item: str) -> dict[str, str]:
        """u column -> the part column that feeds it."""
        if item in self.ccols:
            return {self.ccols[item][0]: "conv_n", self.ccols[item][1]: "base_n"}
        col = self.mcols[item]
        if self.defs.measures[item].agg == "avg":
            return {col + "_s": f"{item}__s", col + "_c": f"{item}__c", col + "_n": f"{item}__n"}
        if self.counts_rows(item):
            return {col: f"{item}__v"}
        return {col: f"{item}__v", col + "_n": f"{item}__n"}

    def counts_rows(self, item: str) -> bool:
        """A count without an expression: its value is its rows counted (__v = __n), carried once."""
        m = self.defs.measures.get(item) if item not in self.ccols else None
        return m is not None and m.agg == "count" and not m.expr

    def reagg(self, u: str) -> str:
        """How an output column adds up over keys and dimension values: MIN/MAX for those measures."""
        m = next((m for m, col in self.mcols.items() if u == col), None)
        agg = self.defs.measures[m].agg if m else "sum"
        return agg.upper() if agg in ("min", "max") else "SUM"

    def periods(self, dates: bool) -> str:
        """Each window: its edges' indexes, its length, and (for prorated rows) its first and end day."""
        def row(s: Any) -> str:
            d = f", {_lit(s.period.start)}, {_lit(s.period.end_exclusive)}" if dates else ""
            return f"({s.pid}, {self.index[s.period.start]}, {self.index[s.period.end_exclusive]}, {s.period.days}{d})"
        rows = ", ".join(row(s) for s in self.query.slots)
        return f"SELECT * FROM (VALUES {rows}) AS v_(pid, lo, hi, days{', lo_d, hi_d' if dates else ''})"

    def rule(self, items: list[str], c: Candidate) -> str:
        """Which windows a part's key counts in: "range", "end" / "start" (a snapshot), "prorate"."""
        if c.part.kind == "snapshot":
            return self.defs.measures[items[0]].snapshot.at  # type: ignore[union-attr]
        cut = [item for item in items if prorates(self.defs, item, c.part)]
        grain = data_grain(self.defs, cut[0]) if cut else "day"
        whole = grain in ("month", "quarter", "year") and all(is_boundary(d, grain) for d in self.edges)
        return "prorate" if cut and not whole else "range"

    def rows(self, items: list[str], c: Candidate, rule: str, typed: bool = True) -> str:
        """The part's rows inside what the windows read, with every output column (NULL: not this part's;
        typed in a UNION ALL's first branch only: the others' NULLs take its types)."""
        q = self.query
        if rule == "end":
            where = [f"r.k < {_lit(max(s.period.end_exclusive for s in q.slots))}"]  # all history before
        elif rule == "start":
            where = [f"r.k < {_lit(max(s.period.start for s in q.slots))}"]
        elif rule == "prorate":
            start, end = grain_span("r.k", data_grain(self.defs, items[0]))
            where = [f"{end} > {_lit(self.first)}", f"r.k < {_lit(self.last)}"]
        else:  # literal bounds let DuckDB skip Parquet row groups (and every engine rows) before the join
            where = [f"r.k >= {_lit(self.first)}", f"r.k < {_lit(self.last)}"]
        for dim, values in q.filters:
            where.append(value_condition(f"r.d_{dim}", values, self.params))
        if q.condition is not None:  # on the part's dimension columns, which hold the raw values
            m = self.defs.measures.get(items[0])
            table = m.table if m else self.defs.measures[self.defs.metrics[items[0]].base.measure].table
            fields = table_fields(self.cat, table)
            where.append(condition_sql(q.condition, lambda d: (f"r.d_{d}", fields[d].kind), self.params))
        wanted = {u: src for item in items for u, src in self.outputs(item).items()}
        cols = ["r.k", *(f"r.d_{d} AS {col}" for d, col in zip(q.dimensions, self.dim_cols)),
                *(f"CAST(r.{wanted[u]} AS DOUBLE) AS {u}" if u in wanted else
                  f"CAST(NULL AS DOUBLE) AS {u}" if typed else f"NULL AS {u}"
                  for u in self.out_cols)]  # one column order for all parts: a UNION ALL is positional
        return f"SELECT {', '.join(cols)} FROM {c.relation} AS r WHERE {' AND '.join(where)}"

    def segment(self) -> str:
        """The segment of key k: 0 before the first edge, i for [edge i-1, edge i)."""
        return "CASE " + " ".join(f"WHEN r.k < {_lit(e)} THEN {i}" for i, e in enumerate(self.edges)) + " END"


def serve_sql(cat: Catalog, query: MetricQuery, plan: Plan, dialect: str) -> Compiled:
    """One statement answering ``query`` from the plan's parts, in the compiler's output shape."""
    s = _Serve(cat, query, plan)
    dim_cols, out_cols = s.dim_cols, s.out_cols
    by_part: dict[str, list[str]] = {}
    for item, c in plan.parts.items():
        by_part.setdefault(c.part.name, []).append(item)
    folded: list[str] = []
    rules: dict[str, str] = {}  # output column -> its part's rule (folded parts)
    prorated: list[tuple[list[str], Candidate]] = []
    for items in by_part.values():
        c = plan.parts[items[0]]
        rule = s.rule(items, c)
        if rule == "prorate":
            prorated.append((items, c))
            continue
        folded.append(s.rows(items, c, rule, typed=not folded))
        rules.update({u: rule for item in items for u in s.outputs(item)})
    exprs = _Exprs(cat)
    metric = s.query.metric
    metric_cols = {metric: "value"}
    selects = [f"{exprs.metric_sql(metric, s.mcols, s.ccols)} AS value"]
    _, subs = cat.metric_refs(metric)
    for i, sub in enumerate(subs):
        metric_cols[sub] = f"s{i}"
        selects.append(f"{exprs.metric_sql(sub, s.mcols, s.ccols)} AS s{i}")
    # a window's length where a metric reads it (period_days): carried along, instead of a join at the end
    days = any(re.search(r"\bp\.days\b", x) for x in selects)
    selects = [re.sub(r"\bp\.days\b", "a.days", x) for x in selects]
    ctes = [f"periods AS ({s.periods(dates=bool(prorated))})"]
    dims = "".join(f", {d}" for d in dim_cols)
    branches = []
    if folded:
        sums = ", ".join(f"{s.reagg(u)}({u}) AS {u}" for u in out_cols)
        ords = ", ".join(str(i + 1) for i in range(1 + len(dim_cols)))
        ctes.append(f"f AS (SELECT {s.segment()} AS j{''.join(f', r.{d}' for d in dim_cols)}, {sums} "
                    f"FROM ({' UNION ALL '.join(folded)}) AS r GROUP BY {ords})")
        kinds = set(rules.values())
        # one join for all folded parts; a column whose rule is narrower than the join's says so itself
        join = ("f.j > p.lo AND f.j <= p.hi" if kinds == {"range"} else
                "f.j <= p.lo" if kinds == {"start"} else "f.j <= p.hi")
        narrower = {"range": "f.j > p.lo", "start": "f.j <= p.lo"}
        cols = [f"CASE WHEN {narrower[rules[u]]} THEN f.{u} END AS {u}"
                if rules.get(u) in narrower and len(kinds) > 1 else f"f.{u}" for u in out_cols]
        branches.append(f"SELECT p.pid{', p.days' if days else ''}{''.join(f', f.{d}' for d in dim_cols)}, {', '.join(cols)} "
                        f"FROM f JOIN periods AS p ON {join}")
    for items, c in prorated:  # a row dated by month counts in every window its month overlaps, by its share of days
        start, end = grain_span("r.k", data_grain(s.defs, items[0]))
        share = (f"CAST(DATE_DIFF('day', GREATEST({start}, p.lo_d), LEAST({end}, p.hi_d)) AS DOUBLE) "
                 f"/ DATE_DIFF('day', {start}, {end})")
        cut = {u for item in items if prorates(s.defs, item, c.part) for u in s.outputs(item)}
        cols = [f"r.{u} * {share} AS {u}" if u in cut else f"r.{u}" for u in out_cols]
        branches.append(f"SELECT p.pid{', p.days' if days else ''}{''.join(f', r.{d}' for d in dim_cols)}, {', '.join(cols)} "
                        f"FROM ({s.rows(items, c, 'prorate')}) AS r JOIN periods AS p ON {start} < p.hi_d AND {end} > p.lo_d")
    aggs, present = (["MAX(days) AS days"] if days else []), []
    for m, col in s.mcols.items():
        agg = s.defs.measures[m].agg
        if agg == "avg":
            aggs.append(f"CAST(SUM({col}_s) AS DOUBLE) / NULLIF(SUM({col}_c), 0) AS {col}")
        elif agg in ("min", "max"):
            aggs.append(f"{agg.upper()}({col}) AS {col}")
        elif agg in NULLS_ARE_ZERO:
            aggs.append(f"COALESCE(SUM({col}), 0) AS {col}")
        else:
            aggs.append(f"SUM({col}) AS {col}")
        aggs.append(f"COALESCE(SUM({col if s.counts_rows(m) else col + '_n'}), 0) AS {col}_n")
        present.append(f"a.{col}_n")
    for conv, base in s.ccols.values():
        aggs += [f"COALESCE(SUM({conv}), 0) AS {conv}", f"COALESCE(SUM({base}), 0) AS {base}"]
        present.append(f"a.{base}")
    # a window no part has a row in gets its totals from the empty statement (statement.complete), run only then
    spine, flat = windows_only(out_cols, dim_cols, aggs, ("days",) if days else ())
    empty = [ctes[0], spine, flat]
    if not branches:
        ctes += [spine, flat]
    else:
        ctes.append("u AS (" + " UNION ALL ".join(branches) + ")")
        ctes.append(f"a AS (SELECT pid{dims}, GROUPING({dim_cols[0]}) AS g, {', '.join(aggs)} FROM u "
                    f"GROUP BY GROUPING SETS ((pid{dims}), (pid)))" if dim_cols else
                    f"a AS (SELECT pid, 0 AS g, {', '.join(aggs)} FROM u GROUP BY pid)")
    comps = [f"a.{c}" for c in s.mcols.values()] + [f"a.{c}_n" for c in s.mcols.values()]
    comps += [f"a.{c}" for pair in s.ccols.values() for c in pair]
    adims = "".join(f", a.{d}" for d in dim_cols)
    # a breakdown row exists in raw SQL only where some measure counted a row (or a conversion had a base row)
    where = f" WHERE a.g = 1 OR {' + '.join(present)} > 0" if dim_cols else ""
    final = f"SELECT a.pid, a.g{adims}, {', '.join(selects + comps)} FROM a{where}"
    sql = for_engine(f"WITH {', '.join(ctes)}\n{final}", dialect)
    return Compiled(sql, s.params, dialect, s.mcols, s.ccols, metric_cols, dim_cols, f"WITH {', '.join(empty)}\n{final}",
                    tuple(sorted({slot.pid for slot in query.slots})))
