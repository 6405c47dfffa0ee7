"""Conversion metrics -> the CTEs of one statement (layer: compile; pure).

"Of the leads created in a window, the share whose own deal was won within 90 days": base rows
get their bucket key like any scan (cr), the base rows followed by a target event for the same
entity within N days are found by an inner join on the entity (cm, so only matches travel), and
each window counts its entities (cw: base, conv). When the entity is the base table's key (a
lead's lead_id) every row is its own entity, so counts per bucket add up to the window; otherwise
an entity counts once per window (COUNT DISTINCT over the window's rows).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from .models import ConversionMetric

if TYPE_CHECKING:
    from .compile import _Builder


def conversion_ctes(bld: "_Builder", i: int, name: str) -> list[str]:
    """Base rows with their bucket key (cr), the base rows followed by a target event for the same
    entity within the window (cm: an inner join, so only matches travel), and per window how many
    entities each has (cw: base, conv)."""
    c: ConversionMetric = bld.defs.metrics[name]
    bm, tm = bld.defs.measures[c.base.measure], bld.defs.measures[c.target.measure]
    b_from = bld.tables.from_clause(bm, [*bld._needed(c.base.measure, bm), c.base.entity])
    t_time_col = tm.time or bld.defs.tables[tm.table].time
    t_from = bld.tables.from_clause(tm, [tm.filter or "", t_time_col or "", c.target.entity])
    dims = [f"{bld._dimension_sql(c.base.measure, d)} AS {col}" for d, col in zip(bld.q.dimensions, bld.dim_cols)]
    b_time = bld.tables.expr(bm.time or bld.defs.tables[bm.table].time, bm.table)
    t_time = bld.tables.expr(t_time_col, tm.table)
    keys, in_time, on = bld._keys(bm)
    b_where = [in_time] + ([bld.tables.expr(bm.filter, bm.table)] if bm.filter else []) + bld._filter_sql(c.base.measure)
    t_where = ([bld.tables.expr(tm.filter, tm.table)] if tm.filter else []) + [f"{t_time} IS NOT NULL"]
    # only target events that can follow a base event of these windows: prune by date first
    first, last = bld.edges.dates[0], bld.edges.dates[-1] + timedelta(days=c.within_days)
    t_where.append(f"CAST({t_time} AS DATE) >= DATE '{first.isoformat()}' AND CAST({t_time} AS DATE) < DATE '{last.isoformat()}'")
    bw = " WHERE " + " AND ".join(f"({w})" for w in b_where)
    tw = " WHERE " + " AND ".join(f"({w})" for w in t_where)
    key = ", ".join(f"{sql} AS {k}" for k, sql in keys)
    rows = (f"cr{i} AS (SELECT {key}{''.join(', ' + d for d in dims)}, "
            f"{bld.tables.expr(c.base.entity, bm.table)} AS ent, CAST({b_time} AS DATE) AS bt FROM {b_from}{bw})")
    target = (f"SELECT DISTINCT {bld.tables.expr(c.target.entity, tm.table)} AS ent, CAST({t_time} AS DATE) AS tt "
              f"FROM {t_from}{tw}")
    kd = ", ".join(["k", *bld.dim_cols])
    bkd = ", ".join(f"b.{x}" for x in ["k", *bld.dim_cols])
    matched = (f"cm{i} AS (SELECT DISTINCT {bkd}, b.ent FROM cr{i} AS b JOIN ({target}) AS tg ON tg.ent = b.ent "
               f"AND tg.tt >= b.bt AND tg.tt <= b.bt + INTERVAL {c.within_days} DAY)")
    # When the entity is the base table's key (a lead's lead_id) every row is its own entity: count
    # rows per bucket, then add buckets up. Otherwise an entity counts once per window: distinct.
    if c.base.entity == bld.defs.tables[bm.table].primary_key:
        split = (f"cs{i} AS (SELECT {kd}, COUNT(*) AS base, 0 AS conv FROM cr{i} GROUP BY {kd} "
                 f"UNION ALL SELECT {kd}, 0 AS base, COUNT(*) AS conv FROM cm{i} GROUP BY {kd})")
        per = bld._per_window(f"cs{i}", ["SUM(s.base) AS base", "SUM(s.conv) AS conv"], on)
    else:
        split = (f"cs{i} AS (SELECT {kd}, ent, 0 AS hit FROM cr{i} UNION ALL SELECT {kd}, ent, 1 AS hit FROM cm{i})")
        per = bld._per_window(f"cs{i}", ["COUNT(DISTINCT CASE WHEN s.hit = 0 THEN s.ent END) AS base",
                                          "COUNT(DISTINCT CASE WHEN s.hit = 1 THEN s.ent END) AS conv"], on)
    return [rows, matched, split, f"cw{i} AS ({per})"]
