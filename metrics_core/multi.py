"""Several metrics in one question (layer: facade helpers; pure data and row picking).

    r = kpi.query_many("win_rate, avg_deal_size, sales_cycle_days last-quarter by segment")
    r.results          # one MetricResult per metric: what kpi.query answers for that metric alone
    r.statements       # how many statements answered them (1 when they share windows)
    r.to_json()        # {"metrics": [<the `kpi query --json` object of each metric>]}
    r.wide("breakdown")            # (key columns, rows): one row per breakdown value, a record per metric

Metrics asked together share the period, breakdown, filters and comparison, so the compiler computes
them in one statement (``compile_query(..., also=...)``): each table is read once for the union of the
measures. ``view`` then picks one metric's columns out of the shared rows under the names its own
statement would have used, so ``build_result`` makes the MetricResult a single question makes (one
corner differs: a breakdown value whose rows fall in the window but that none of the metric's measures
counts is left out, where the metric's own statement may show it with no value).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

from .catalog import Catalog
from .columns import Columns
from .statement import Compiled, needs
from .result import MetricResult


@dataclass(frozen=True)
class MultiResult:
    """The answer to a question naming several metrics, in the order they were asked."""

    results: tuple[MetricResult, ...]
    statements: int = 1  # statements run for the values (fine print like maturing cohorts may add some)

    def to_json(self) -> dict[str, Any]:
        """``{"metrics": [...]}``: each element is exactly the single-metric ``kpi query --json`` object."""
        return {"metrics": [r.to_json() for r in self.results]}

    @property
    def metrics(self) -> tuple[str, ...]:
        return tuple(r.metric for r in self.results)

    def wide(self, part: "Part") -> tuple[list[str], list[tuple[tuple, list[dict | None]]]]:
        """The answers side by side (see ``wide``): what the CLI and Slack tables show."""
        return wide(self.results, part)


def view(cat: Catalog, c: Compiled, table: Columns, metric: str, position: int) -> tuple[Compiled, Columns]:
    """One metric's part of a shared statement's rows, with the columns its own statement would have:
    ``value`` (from ``value<position>``), its sub-metrics ``s<i>``, measures ``m<i>``/``m<i>_n`` and
    conversions ``c<i>``/``c<i>_base`` numbered as ``compile_query`` numbers them for it alone."""
    rows = table.rename(str.lower)
    measures, conversions = needs(cat, metric)
    subs = cat.metric_refs(metric)[1]
    mcols = {m: f"m{i}" for i, m in enumerate(measures)}
    ccols = {cv: (f"c{i}", f"c{i}_base") for i, cv in enumerate(conversions)}
    pick = {"pid": "pid", "g": "g", **{d: d for d in c.dim_cols},
            "value": "value" if position == 0 else f"value{position}"}
    pick.update({f"s{i}": c.metric_cols[sub] for i, sub in enumerate(subs)})
    pick.update({mcols[m]: c.measure_cols[m] for m in measures})
    pick.update({mcols[m] + "_n": c.measure_cols[m] + "_n" for m in measures})
    for cv in conversions:
        pick.update(zip(ccols[cv], c.conversion_cols[cv]))
    mine = replace(c, measure_cols=mcols, conversion_cols=ccols,
                   metric_cols={metric: "value", **{sub: f"s{i}" for i, sub in enumerate(subs)}})
    picked = Columns({new: rows[old] for new, old in pick.items()})
    if not c.dim_cols:
        return mine, picked
    # A breakdown row exists because some table has rows with that value; keep only the values this
    # metric's own measures counted rows for, as its own statement would (other tables' values are not its).
    counts = [col + "_n" for col in mcols.values()] + [col for pair in ccols.values() for col in pair]
    keep = [r for r in picked.records() if r["g"] != 0 or any(r[col] for col in counts)]
    return mine, Columns.from_records(keep, picked.names)


Part = Literal["totals", "breakdown", "series"]


def wide(results: tuple[MetricResult, ...], part: Part) -> tuple[list[str], list[tuple[tuple, list[dict | None]]]]:
    """The answers side by side: (key columns, [(key values, [each metric's record or None])]).

    totals: one row per metric (no key columns); breakdown: one row per dimension value(s), in the
    first metric's order; series: one row per bucket (and dimension values), in time order."""
    if part == "totals":
        return [], [((), [_total(r) if i == j else None for j in range(len(results))])
                    for i, r in enumerate(results)]
    first = results[0]
    keys = list(first.dimensions) if part == "breakdown" else ["label", *first.dimensions]
    order: dict[tuple, tuple] = {}
    cells: dict[tuple, list[dict | None]] = {}
    for j, r in enumerate(results):
        table = r.breakdown_columns if part == "breakdown" else r.series_columns
        for rec in (table.records() if table is not None else ()):
            key = tuple(rec.get(k) for k in keys)
            order.setdefault(key, (rec["start"] if part == "series" else 0, len(order)))
            cells.setdefault(key, [None] * len(results))[j] = rec
    ranked = sorted(order, key=order.__getitem__)
    return keys, [(k, cells[k]) for k in ranked]


def _total(r: MetricResult) -> dict[str, Any]:
    prev = r.comparison.value if r.comparison is not None else None
    change = r.comparison.relative if r.comparison is not None else None
    return {"value": r.value, "formatted": r.formatted, "previous": prev, "change": change,
            "sample_size": r.sample_size, "small_sample": r.small_sample, "maturing": r.maturing}
