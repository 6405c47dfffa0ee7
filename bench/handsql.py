"""Hand-written DuckDB SQL for every shipped metric: the baseline kpi is measured against.

Written the way an analyst would query the raw CRM tables directly (no semantic layer): clean
the stage and segment values inline, list the windows, aggregate each input, combine. Each
statement returns one row per (window, segment) plus a total row per window, like kpi's.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

TZ = ZoneInfo("America/New_York")
SEGMENTS = ("SMB", "Mid-Market", "Enterprise")

CLEAN = """
d AS (SELECT deal_id, account_id, lead_id, created_at, closed_at, amount,
             CASE lower(trim(stage)) WHEN 'closed won' THEN 'won' WHEN 'won' THEN 'won'
                  WHEN 'closed lost' THEN 'lost' WHEN 'closed-lost' THEN 'lost' ELSE 'open' END AS stage
      FROM crm_deals),
a AS (SELECT account_id, customer_since, churned_at,
             CASE lower(trim(segment)) WHEN 'smb' THEN 'SMB' WHEN 'mid-market' THEN 'Mid-Market'
                  WHEN 'mid market' THEN 'Mid-Market' WHEN 'enterprise' THEN 'Enterprise'
                  WHEN 'ent' THEN 'Enterprise' ELSE trim(segment) END AS seg
      FROM crm_accounts),
l AS (SELECT lead_id, created_at,
             CASE lower(trim(segment)) WHEN 'smb' THEN 'SMB' WHEN 'mid-market' THEN 'Mid-Market'
                  WHEN 'mid market' THEN 'Mid-Market' WHEN 'enterprise' THEN 'Enterprise'
                  WHEN 'ent' THEN 'Enterprise' ELSE trim(segment) END AS seg
      FROM crm_leads)"""


def _utc(d: date) -> str:
    local = datetime.combine(d, time(0), TZ)
    return local.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M:%S")


def windows_cte(windows: list[tuple[date, date]]) -> str:
    rows = [f"({i}, DATE '{lo}', DATE '{hi + timedelta(days=1)}', TIMESTAMP '{_utc(lo)}', "
            f"TIMESTAMP '{_utc(hi + timedelta(days=1))}', {(hi - lo).days + 1})" for i, (lo, hi) in enumerate(windows)]
    return f"w(pid, lo, hi, lo_ts, hi_ts, days) AS (VALUES {', '.join(rows)})"


# measure -> (FROM ... JOIN w ON ..., segment expression, aggregate)
MEASURES = {
    "won": ("d LEFT JOIN a USING (account_id) JOIN w ON d.closed_at >= w.lo AND d.closed_at < w.hi WHERE d.stage = 'won'",
            "a.seg", "COUNT(*)"),
    "closed": ("d LEFT JOIN a USING (account_id) JOIN w ON d.closed_at >= w.lo AND d.closed_at < w.hi "
               "WHERE d.stage IN ('won', 'lost')", "a.seg", "COUNT(*)"),
    "leads": ("l JOIN w ON l.created_at >= w.lo_ts AND l.created_at < w.hi_ts", "l.seg", "COUNT(*)"),
    "avg_won": ("d LEFT JOIN a USING (account_id) JOIN w ON d.closed_at >= w.lo AND d.closed_at < w.hi "
                "WHERE d.stage = 'won' AND d.amount IS NOT NULL", "a.seg", "AVG(d.amount)"),
    "cycle": ("d LEFT JOIN a USING (account_id) JOIN w ON d.closed_at >= w.lo AND d.closed_at < w.hi "
              "WHERE d.stage = 'won' AND d.closed_at >= d.created_at", "a.seg",
              "AVG(date_diff('day', d.created_at, d.closed_at))"),
    "new_cust": ("(SELECT *, row_number() OVER (PARTITION BY account_id ORDER BY closed_at, deal_id) AS rn "
                 "FROM d WHERE stage = 'won' AND account_id IS NOT NULL) f LEFT JOIN a USING (account_id) "
                 "JOIN w ON f.closed_at >= w.lo AND f.closed_at < w.hi WHERE f.rn = 1", "a.seg", "COUNT(*)"),
    "spend": ("spend s JOIN w ON s.month >= w.lo AND s.month < w.hi WHERE s.kind IN ('marketing', 'sales')",
              "s.segment", "SUM(s.amount)"),
    "open": ("d LEFT JOIN a USING (account_id) JOIN w ON d.created_at < w.hi AND (d.closed_at IS NULL OR d.closed_at >= w.hi)",
             "a.seg", "COUNT(*)"),
    "churned": ("a JOIN w ON a.churned_at >= w.lo AND a.churned_at < w.hi", "a.seg", "COUNT(*)"),
    "cust_start": ("a JOIN w ON a.customer_since < w.lo AND (a.churned_at IS NULL OR a.churned_at >= w.lo)",
                   "a.seg", "COUNT(*)"),
}

ANNUAL_CHURN = "(churned * 1.0 / NULLIF(cust_start, 0)) * 365.0 / days"
AVG = "avg_won"
CLV = f"({AVG} * 0.75 / NULLIF({ANNUAL_CHURN}, 0))"
CAC = "(spend / NULLIF(new_cust, 0))"
WIN = "(won * 1.0 / NULLIF(closed, 0))"
METRICS = {  # metric -> (measures, formula over them)
    "conversion_rate": (["won", "leads"], "won * 1.0 / NULLIF(leads, 0)"),
    "lead_to_win_rate": (["conv"], "converted * 1.0 / NULLIF(base, 0)"),
    "sales_cycle_days": (["cycle"], "cycle"),
    "win_rate": (["won", "closed"], WIN),
    "avg_deal_size": ([AVG], AVG),
    "cac": (["spend", "new_cust"], CAC),
    "gross_margin": ([], "0.75"),
    "customer_churn_rate": (["churned", "cust_start"], "churned * 1.0 / NULLIF(cust_start, 0)"),
    "annual_churn_rate": (["churned", "cust_start"], ANNUAL_CHURN),
    "clv": ([AVG, "churned", "cust_start"], CLV),
    "open_deals": (["open"], "open"),
    "pipeline_velocity": (["open", "won", "closed", AVG, "cycle"], f"open * {WIN} * {AVG} / NULLIF(cycle, 0)"),
    "ltv_cac_ratio": ([AVG, "churned", "cust_start", "spend", "new_cust"], f"{CLV} / NULLIF({CAC}, 0)"),
    "cac_payback_months": (["spend", "new_cust", AVG], f"{CAC} / NULLIF({AVG} / 12.0 * 0.75, 0)"),
}

CONVERSION = """conv AS (
  SELECT pid, {seg_sel}, COUNT(*) AS base, SUM(hit) AS converted FROM (
    SELECT w.pid, l.seg, l.lead_id, MAX(CASE WHEN t.lead_id IS NULL THEN 0 ELSE 1 END) AS hit
    FROM l JOIN w ON l.created_at >= w.lo_ts AND l.created_at < w.hi_ts
    LEFT JOIN (SELECT DISTINCT lead_id, closed_at FROM d WHERE stage = 'won' AND closed_at IS NOT NULL) t
      ON t.lead_id = l.lead_id AND t.closed_at >= CAST(l.created_at AS DATE)
     AND t.closed_at <= CAST(l.created_at AS DATE) + INTERVAL 90 DAY
    GROUP BY w.pid, l.seg, l.lead_id) x
  GROUP BY {group})"""


def hand_sql(metric: str, windows: list[tuple[date, date]], by_segment: bool) -> str:
    measures, formula = METRICS[metric]
    seg_sel = "seg, GROUPING(seg) AS g" if by_segment else "NULL AS seg, 1 AS g"
    group = "GROUPING SETS ((pid, seg), (pid))" if by_segment else "pid"
    ctes = [CLEAN.strip(), windows_cte(windows)]
    for m in measures:
        if m == "conv":
            ctes.append(CONVERSION.format(seg_sel=seg_sel, group=group))
            continue
        src, seg, agg = MEASURES[m]
        sel = f"{seg} AS seg, GROUPING({seg}) AS g" if by_segment else "NULL AS seg, 1 AS g"
        grp = f"GROUPING SETS ((w.pid, {seg}), (w.pid))" if by_segment else "w.pid"
        ctes.append(f"{m}_m AS (SELECT w.pid, {sel}, {agg} AS v FROM {src} GROUP BY {grp})")
    segs = ", ".join(f"('{s}')" for s in SEGMENTS)
    spine = "SELECT pid, days, NULL AS seg, 1 AS g FROM w" + (
        f" UNION ALL SELECT pid, days, s.seg, 0 AS g FROM w CROSS JOIN (VALUES {segs}) s(seg)" if by_segment else "")
    ctes.append(f"spine AS ({spine})")
    cols, joins = [], []
    for m in measures:
        if m == "conv":
            cols += ["conv.base", "conv.converted"]
            joins.append("LEFT JOIN conv ON conv.pid = spine.pid AND conv.g = spine.g AND conv.seg IS NOT DISTINCT FROM spine.seg")
        else:
            cols.append(f"{m}_m.v AS {m}")
            joins.append(f"LEFT JOIN {m}_m ON {m}_m.pid = spine.pid AND {m}_m.g = spine.g "
                         f"AND {m}_m.seg IS NOT DISTINCT FROM spine.seg")
    inner = f"SELECT spine.pid, spine.seg, spine.g, spine.days{''.join(', ' + c for c in cols)} FROM spine {' '.join(joins)}"
    counts = [m for m in measures if m in ("won", "closed", "leads", "new_cust", "open", "churned", "cust_start", "spend")]
    fill = "".join(f", COALESCE({m}, 0) AS {m}" for m in counts)
    keep = "".join(f", {m}" for m in measures if m not in counts and m != "conv") + (", base, converted" if "conv" in measures else "")
    return (f"WITH {', '.join(ctes)}\nSELECT pid, seg, g, {formula} AS value FROM "
            f"(SELECT pid, seg, g, days{fill}{keep} FROM ({inner}) z) y ORDER BY pid, g DESC, seg")
