"""The statement's aggregation when every window adds up partials (layer: compile; pure).

Each scan (``s<i>``: a table read once, grouped by bucket key and breakdown into partial
aggregates) and each row-counting conversion (``cs<i>``) meets its windows by a join to
``periods``; all of them go into one UNION ALL, and one GROUP BY adds every measure up per window,
with the breakdown's total as a grouping set::

    u AS (SELECT p.pid, s.d0, CAST(s.v0 AS DOUBLE) AS m0, ... FROM s0 AS s JOIN periods AS p ON ...
          UNION ALL ...),
    a AS (SELECT pid, d0, GROUPING(d0) AS g, COALESCE(SUM(m0), 0) AS m0, ...
          FROM u GROUP BY GROUPING SETS ((pid, d0), (pid)))

One aggregation for the whole statement instead of one per table plus one over their union: the
engine plans and runs fewer, smaller pipelines (about a third of a statement's fixed cost). A
window no row falls in has no row here; ``bld.empty`` (compile.empty_head) gives its totals, run
only then. A breakdown grouped by its stored values (``bld.late``) gets its mapping in ``u``.
Measures that do not split (count distinct, median, percentile) and conversions counting distinct
entities keep compile.py's per-window aggregation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .compile_conversion import conversion_ctes
from .compile_scan import DECOMPOSABLE

if TYPE_CHECKING:
    from .compile import _Builder


def splits(bld: "_Builder") -> bool:
    """Every scan keeps partial aggregates (no count distinct, median, percentile) and every
    conversion counts rows (its entity is the base table's key): then all windows add up partials."""
    return (all(bld.defs.measures[n].agg in DECOMPOSABLE for n in bld.measures)
            and all(bld.defs.metrics[c].base.entity == bld.defs.tables[bld.defs.measures[
                bld.defs.metrics[c].base.measure].table].primary_key for c in bld.conversions))


def split_ctes(bld: "_Builder", mcols: dict[str, str], ccols: dict[str, tuple[str, str]]) -> str:
    """Partials only: each scan's grouped rows meet their windows (``s JOIN periods``) in one
    UNION ALL, and one GROUP BY (with the breakdown's total as a grouping set) adds up every
    measure per window: one aggregation for the whole statement, not one per table. Sets
    ``bld.empty``, the head for windows without rows."""
    ctes = [bld.periods_cte()]
    cols: dict[str, str] = {}  # u column -> its aggregate in a ("": read by another aggregate)
    branches: list[tuple[str, dict[str, str], str, dict[str, str]]] = []  # (scan cte, {u column: its column}, join,
    #                                                                        {breakdown column: its mapping})
    for i, names in enumerate(bld.scans()):
        ctes.append(bld.scan_ctes(i, names)[0])
        picked: dict[str, str] = {}
        for k, n in enumerate(names):
            m, col = bld.defs.measures[n], mcols[n]
            alone = m.agg == "count" and not m.expr  # the count of rows is the count itself
            picked |= {col: f"v{k}", col + "_n": f"v{k}" if alone else f"n{k}"}
            cols[col] = {"min": f"MIN({col})", "max": f"MAX({col})", "avg": f"SUM({col}) / NULLIF(SUM({col}_w), 0)"
                         }.get(m.agg, f"COALESCE(SUM({col}), 0)")
            cols[col + "_n"] = f"COALESCE(SUM({col}_n), 0)"
            if m.agg == "avg":  # its partials are a sum and a count
                picked[col + "_w"], cols[col + "_w"] = f"w{k}", ""
        branches.append((f"s{i}", picked, bld._keys(bld.defs.measures[names[0]])[2], bld.late.get(i, {})))
    for i, name in enumerate(bld.conversions):
        ctes += conversion_ctes(bld, i, name)[:-1]  # cw: the per-window count, added up in a here
        conv, base = ccols[name]
        cols |= {conv: f"COALESCE(SUM({conv}), 0)", base: f"COALESCE(SUM({base}), 0)"}
        base_m = bld.defs.measures[bld.defs.metrics[name].base.measure]
        branches.append((f"cs{i}", {conv: "conv", base: "base"}, bld._keys(base_m)[2], {}))
    dims = "".join(f"{d}, " for d in bld.dim_cols)
    # a breakdown grouped by its stored values (bld.late) gets its mapping here, on the grouped rows
    union = [f"SELECT p.pid, {''.join(f'{late[d]} AS {d}, ' if d in late else f's.{d}, ' for d in bld.dim_cols)}"
             + ", ".join(f"CAST(s.{picked[c]} AS DOUBLE) AS {c}" if c in picked else f"CAST(NULL AS DOUBLE) AS {c}"
                         for c in cols) + f" FROM {src} AS s JOIN periods AS p ON {on}"
             for src, picked, on, late in branches]
    ctes.append("u AS (" + " UNION ALL ".join(union) + ")")
    sums = [f"{agg} AS {c}" for c, agg in cols.items() if agg]
    if bld.dim_cols:
        group = f"GROUPING SETS ((pid, {', '.join(bld.dim_cols)}), (pid))"
        head = f"pid, {dims}GROUPING({bld.dim_cols[0]}) AS g"
    else:
        group, head = "pid", "pid, 0 AS g"
    ctes.append(f"a AS (SELECT {head}, {', '.join(sums)} FROM u GROUP BY {group})")
    bld.empty = bld.empty_head(list(cols), sums)
    return ("WITH " + ",\n".join(ctes)) if union else bld.empty  # a constant reads no table: its windows alone
