"""The Sheets benchmark's baseline: the default workbook's numbers in DuckDB SQL written by hand.

What a skilled analyst writes for a tab of metrics x periods without kpi: one statement per tab,
built from bench/handsql.py's plain pieces (the CRM's spellings cleaned in CTEs, ``GROUP BY
date_trunc(grain, local time)``, ``MIN()`` per account for first wins, open deals by a join to the
bucket list, "won within 90 days" by ``EXISTS``), every measure the tab's metrics need added up per
(bucket, segment), then each metric's formula as a column. The last bucket ends on ``as_of`` (the
month or quarter to date); spend, booked once a month, counts in a bucket by the share of its month's
days the bucket covers, as the definitions say (``partial: prorate``).

    hand_tab(metrics, grain, buckets, by_segment) -> SQL with rows (bucket, seg, <metric>...)

Only the numbers of the report tabs: targets are constants of the definitions, and the Why column,
the maturing shading and the Definitions / Data quality / Sync status tabs have no hand-written twin.
"""

from __future__ import annotations

from datetime import date, timedelta

from bench.handsql import CLEAN, MEASURES, METRICS, _columns, fills

SPEND = """spend_m AS (SELECT b.bucket, {seg_s}, sum(s.amount * (least(b.bucket_end, CAST(s.month + INTERVAL 1 MONTH AS DATE))
        - greatest(b.bucket, s.month)) / (CAST(s.month + INTERVAL 1 MONTH AS DATE) - s.month)) AS spend
    FROM (SELECT month, kind, amount, segment AS seg FROM spend) s
    JOIN buckets b ON s.month < b.bucket_end AND CAST(s.month + INTERVAL 1 MONTH AS DATE) > b.bucket
    WHERE s.kind IN ('marketing', 'sales') GROUP BY ALL)"""
ACCOUNTS = {"churned", "cust_start"}


def buckets(grain: str, count: int, as_of: date) -> list[tuple[date, date]]:
    """The last ``count`` calendar months or quarters, [start, end exclusive); the last ends after ``as_of``."""
    months = 3 if grain == "quarter" else 1
    idx = as_of.year * 12 + (as_of.month - 1) // months * months
    out = []
    for i in range(count - 1, -1, -1):
        s, e = idx - i * months, idx - i * months + months
        out.append((date(s // 12, s % 12 + 1, 1), date(e // 12, e % 12 + 1, 1)))
    out[-1] = (out[-1][0], as_of + timedelta(days=1))
    return out


def hand_tab(metrics: list[str], grain: str, spans: list[tuple[date, date]], by_segment: bool) -> str:
    """One statement: a row per (bucket, segment) with a column per metric (named like the metric)."""
    deal_cols = list(dict.fromkeys(c for m in metrics for c in METRICS[m][0]))
    others = list(dict.fromkeys(o for m in metrics for o in METRICS[m][1]))
    lo, hi = spans[0][0], spans[-1][1]
    fill = fills(grain, lo, hi, deal_cols, by_segment, grouped=False)
    measures = (["deals"] if deal_cols else []) + others
    tables = sorted({t for m in measures if m != "spend" for t in MEASURES[m][0] if t != "a" or by_segment or m in ACCOUNTS})
    rows = ", ".join(f"(DATE '{s}', DATE '{e}')" for s, e in spans)
    ctes = [CLEAN[t] for t in tables]
    ctes.append(f"buckets AS (SELECT * FROM (VALUES {rows}) t(bucket, bucket_end))")
    ctes += [(SPEND if m == "spend" else MEASURES[m][1]).format(**fill) for m in measures]
    parts = " UNION ALL BY NAME ".join(f"SELECT * FROM {m}_m" for m in measures)
    cols = _columns(deal_cols, others)
    sums = ", ".join(f"coalesce(sum({c}), 0) AS {c}" for c in cols)
    ctes.append(f"merged AS (SELECT bucket, seg, {sums} FROM ({parts}) p GROUP BY ALL)")
    values = ", ".join(f"{METRICS[m][2]} AS {m}" for m in metrics)
    return ("WITH " + ",\n".join(ctes) + f"\nSELECT bucket, seg, {values} FROM (SELECT m.*, b.bucket_end - b.bucket AS days "
            "FROM merged m JOIN buckets b USING (bucket)) ORDER BY bucket, seg")
