"""Time buckets and measure scans: the part of a statement that reads the big tables (layer: compile; pure).

Every window of an answer (the asked period, its comparison, the series buckets) starts and ends
on a local midnight, so their edges cut time into a few consecutive **segments**. A row's segment
is its bucket key, computed from its time column by comparing with the edges (a balanced
``CASE WHEN t < edge ...``: about log2(edges) comparisons, no time-zone arithmetic per row,
because a UTC timestamp column is compared with each edge's UTC instant)::

    edges   2026-04-01   2026-07-01   2026-10-01          windows: pid 1 = segment 1, pid 0 = segment 2
    k           |     1      |     2      |

A DATE column needs no CASE: the day itself is the key (rows group by day and each window adds
up the days between its edges, ``k >= lo_d AND k < hi_d`` on the small grouped table).

A scan reads its table once, keeps rows inside the windows (the edges' ranges, gaps left out),
and groups them by (k, breakdown) into partial aggregates: counts, sums, min, max, and avg as a
sum and a count. Each window then takes the sum of its segments' partials from that small table,
so a series, its total and the comparison come from one pass over the rows, and windows may
overlap (a trend's current period is also its last bucket). Measures whose aggregate does not
split into partials (count_distinct, median, percentile) keep their rows and aggregate each
window from them.

A snapshot ("open at the period end") is placed by two keys: a = the segment its start falls in,
b = the segment its end falls in. It is open at edge j when a <= j < b, so rows group by (a, b)
and each window counts the groups around its edge.

The scan CTE ``s<i>`` is the seam for pre-aggregated sources: whatever relation is read, it has
columns ``k`` (a segment number, or a day for DATE time columns; ``a, b`` for snapshots), ``d0..`` (the breakdown) and the partials named by ``partials()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, assert_never

from .models import MeasureDef
from .periods import Calendar, Period, utc_bounds

DECOMPOSABLE = ("count", "sum", "min", "max", "avg")
Kind = Literal["date", "timestamp"]


@dataclass(frozen=True)
class Edges:
    """The sorted distinct edges (local dates) of all windows; each window as (lo, hi) edge indexes."""

    dates: tuple[date, ...]
    windows: dict[int, tuple[int, int]]  # pid -> (index of its start, index of its end_exclusive)
    cal: Calendar

    @classmethod
    def of(cls, periods: dict[int, Period], cal: Calendar) -> "Edges":
        dates = tuple(sorted({d for p in periods.values() for d in (p.start, p.end_exclusive)}))
        where = {d: i for i, d in enumerate(dates)}
        return cls(dates, {pid: (where[p.start], where[p.end_exclusive]) for pid, p in periods.items()}, cal)

    def literals(self, kind: Kind) -> list[str]:
        """Each edge as a SQL literal: a DATE, or for a (UTC) timestamp column the local midnight's UTC instant."""
        if kind == "timestamp":
            return [f"TIMESTAMP '{utc_bounds(Period('x', 'day', d, d), self.cal)[0]:%Y-%m-%d %H:%M:%S}'" for d in self.dates]
        return [f"DATE '{d.isoformat()}'" for d in self.dates]

    def covered(self) -> list[tuple[int, int]]:
        """The windows' union as disjoint (lo, hi) index ranges: rows outside them are never read."""
        out: list[tuple[int, int]] = []
        for lo, hi in sorted(self.windows.values()):
            if out and lo <= out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], hi))
            else:
                out.append((lo, hi))
        return out


def position(col: str, lits: list[str], offset: int = 0) -> str:
    """SQL for ``offset`` + how many of ``lits`` (ascending) are <= ``col``: a balanced CASE tree.

    position(t, ['a', 'b', 'c']) = CASE WHEN t < 'b' THEN (CASE WHEN t < 'a' THEN 0 ELSE 1 END)
    ELSE (CASE WHEN t < 'c' THEN 2 ELSE 3 END) END. A NULL ``col`` gives the highest position.
    """
    if not lits:
        return str(offset)
    mid = len(lits) // 2
    return (f"CASE WHEN {col} < {lits[mid]} THEN {position(col, lits[:mid], offset)} "
            f"ELSE {position(col, lits[mid + 1:], offset + mid + 1)} END")


def in_windows(col: str, edges: Edges, kind: Kind) -> str:
    """``col`` inside the windows' union (one range, or one per gap-separated group of windows)."""
    lits = edges.literals(kind)
    parts = [f"{col} >= {lits[lo]} AND {col} < {lits[hi]}" for lo, hi in edges.covered()]
    return parts[0] if len(parts) == 1 else " OR ".join(f"({p})" for p in parts)


def event_key(col: str, edges: Edges, kind: Kind) -> str:
    """The segment of a row already inside the windows: 1 .. len(edges) - 1 (segment k ends at edge k)."""
    return position(col, edges.literals(kind)[1:-1], 1)


def snapshot_keys(start: str, start_kind: Kind, end: str | None, end_kind: Kind, edges: Edges) -> tuple[str, str, str]:
    """(a, b, WHERE) for a row counting from ``start`` until ``end`` (NULL: still counting).

    Open at edge j (start < edge_j <= end) exactly when a <= j < b, with a = how many edges are
    <= start and b = how many are <= end (no end: past the last edge)."""
    n = len(edges.dates)
    s_lits = edges.literals(start_kind)
    a = position(start, s_lits)
    where = [f"{start} < {s_lits[-1]}"]
    if end is None:
        return a, str(n + 1), where[0]
    e_lits = edges.literals(end_kind)
    b = f"CASE WHEN {end} IS NULL THEN {n + 1} ELSE {position(end, e_lits)} END"
    where.append(f"({end} IS NULL OR {end} >= {e_lits[0]})")
    return a, b, " AND ".join(where)


# -- coarse grains: rows dated by month (spend) spread over the days of their month -------------------

GRAIN_STEP = {"week": "INTERVAL 7 DAY", "month": "INTERVAL 1 MONTH", "quarter": "INTERVAL 3 MONTH",
              "year": "INTERVAL 1 YEAR"}


def windows_only(ucols: list[str], dim_cols: tuple[str, ...], aggs: list[str], carry: tuple[str, ...] = ()) -> tuple[str, str]:
    """The ``u`` and ``a`` CTEs of a statement over ``periods`` alone: one row per window, its totals over no
    rows (``aggs`` of NULLs: counts and sums 0, averages and extremes NULL), the breakdown's total row
    (g = 1) when broken down. ``carry``: columns of ``periods`` kept along (a window's ``days``)."""
    u = "u AS (SELECT " + ", ".join(["pid", *carry, *(f"CAST(NULL AS DOUBLE) AS {c}" for c in ucols)]) + " FROM periods)"
    a = (f"a AS (SELECT pid{''.join(f', NULL AS {d}' for d in dim_cols)}, {1 if dim_cols else 0} AS g"
         f"{''.join(f', {x}' for x in aggs)} FROM u GROUP BY pid)")
    return u, a


def effective_grain(defs: Any, m: MeasureDef) -> str:
    return m.grain or defs.tables[m.table].grain


def effective_partial(defs: Any, m: MeasureDef) -> str:
    return m.partial or defs.tables[m.table].partial


def prorated(defs: Any, m: MeasureDef) -> bool:
    """A sum over rows dated by a coarse grain, declared ``partial: prorate``: a window gets the share
    of each row's period it covers (Nov 16-22 gets 7/30 of November's spend)."""
    return (effective_grain(defs, m) != "day" and effective_partial(defs, m) == "prorate"
            and m.agg == "sum" and m.snapshot is None and not m.first_per)


def grain_span(col: str, grain: str) -> tuple[str, str]:
    """SQL for [start, end) of the grain period a row's date falls in (the 1st of its month, the next 1st)."""
    # a weekly row is dated on its own week start (the calendar's, not the engine's idea of one)
    start = f"CAST({col} AS DATE)" if grain == "week" else f"CAST(DATE_TRUNC('{grain}', {col}) AS DATE)"
    return start, f"CAST({start} + {GRAIN_STEP[grain]} AS DATE)"


def segments_sql(edges: Edges) -> str:
    """One row per segment between consecutive edges: k, its first day, the day after its last (one
    VALUES list: a UNION ALL of one-row SELECTs costs the engine a plan branch per row)."""
    rows = ", ".join(f"({k}, DATE '{edges.dates[k - 1].isoformat()}', DATE '{edges.dates[k].isoformat()}')"
                     for k in range(1, len(edges.dates)))
    return f"SELECT * FROM (VALUES {rows}) AS sg_(k, slo, shi)"


def aligned(edges: Edges, grain: str) -> bool:
    """Every edge starts a ``grain`` period (DATE_TRUNC's calendar months, quarters, years): no window
    cuts a row's period, so prorating by days would give each row all of itself or nothing."""
    starts = {"month": (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12), "quarter": (1, 4, 7, 10), "year": (1,)}
    return grain in starts and all(d.day == 1 and d.month in starts[grain] for d in edges.dates)


# -- aggregates ------------------------------------------------------------------------------------

def partials(m: MeasureDef, value: str, k: int) -> list[str]:
    """The per-segment aggregates of measure ``k`` over ``value`` (NULL where its filter fails)."""
    match m.agg:
        case "count":
            return [f"COUNT({value}) AS v{k}"]
        case "sum":
            return [f"SUM({value}) AS v{k}"]
        case "min":
            return [f"MIN({value}) AS v{k}"]
        case "max":
            return [f"MAX({value}) AS v{k}"]
        case "avg":
            return [f"SUM(CAST({value} AS DOUBLE)) AS v{k}", f"COUNT({value}) AS w{k}"]
        case "count_distinct" | "median" | "percentile":
            raise AssertionError(f"{m.agg} has no partials")
    assert_never(m.agg)


def combine(m: MeasureDef, k: int) -> str:
    """A window's aggregate from its segments' partials of measure ``k``."""
    match m.agg:
        case "count" | "sum":
            return f"SUM(s.v{k})"
        case "min":
            return f"MIN(s.v{k})"
        case "max":
            return f"MAX(s.v{k})"
        case "avg":
            return f"SUM(s.v{k}) / NULLIF(SUM(s.w{k}), 0)"
        case "count_distinct" | "median" | "percentile":
            raise AssertionError(f"{m.agg} has no partials")
    assert_never(m.agg)


def aggregate(m: MeasureDef, x: str) -> str:
    """The aggregate of ``x`` (a column or a ``CASE WHEN filter THEN value END``: NULLs are skipped)."""
    match m.agg:
        case "count":
            return f"COUNT({x})"
        case "count_distinct":
            return f"COUNT(DISTINCT {x})"
        case "sum":
            return f"SUM({x})"
        case "avg":
            return f"AVG(CAST({x} AS DOUBLE))"
        case "min":
            return f"MIN({x})"
        case "max":
            return f"MAX({x})"
        case "median":
            return f"QUANTILE_CONT({x}, 0.5)"
        case "percentile":
            return f"QUANTILE_CONT({x}, {float(m.p)})"  # type: ignore[arg-type]
    assert_never(m.agg)
