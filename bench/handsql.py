"""The baseline kpi is measured against: the DuckDB SQL a skilled analyst writes by hand.

No semantic layer and nothing shaped like kpi's statements: clean the CRM's dirty stage and
segment spellings in a CTE, ``GROUP BY date_trunc(month or quarter, local time), segment``, take
each account's first won deal with ``MIN(closed_at)``, count open deals at each month end with a
join to the month list, test "won within 90 days" with ``EXISTS``, then add the months up to the
windows. Leads are stamped in UTC and the calendar is New York's, so the lead CTE converts once to
local time (``AT TIME ZONE``) for the month, as an analyst must to get New York months, after
filtering on the stored UTC time so row groups outside the window are skipped.

``hand_sql(metric, form, windows)`` returns one statement whose rows are (pid, seg, g, value):
pid 0 = the asked window, 1 = its comparison, 2.. = the months of the series; g = 1 on a window's
total, 0 on a segment's row. The same cells as kpi's answer, so the benchmark can check every value.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

SEG = ("CASE lower(trim(segment)) WHEN 'smb' THEN 'SMB' WHEN 'mid-market' THEN 'Mid-Market' "
       "WHEN 'mid market' THEN 'Mid-Market' WHEN 'enterprise' THEN 'Enterprise' WHEN 'ent' THEN 'Enterprise' "
       "ELSE trim(segment) END")
CLEAN = {
    "d": ("d AS (SELECT deal_id, account_id, lead_id, created_at, closed_at, amount, deal_type, "
          "CASE lower(trim(stage)) WHEN 'closed won' THEN 'won' WHEN 'won' THEN 'won' WHEN 'closed lost' THEN 'lost' "
          "WHEN 'closed-lost' THEN 'lost' ELSE 'open' END AS stage FROM crm_deals)"),
    "a": f"a AS (SELECT account_id, customer_since, churned_at, {SEG} AS seg FROM crm_accounts)",
    "l": (f"l AS (SELECT lead_id, created_at, (created_at AT TIME ZONE 'UTC') AT TIME ZONE 'America/New_York' AS local_at, "
          f"{SEG} AS seg FROM crm_leads)"),
}

# measure -> (tables it needs, its CTE: {b} bucket of a time, {lo} {hi} the dates read, {gs} grouping)
MEASURES = {
    "deals": ("da", """deals_m AS (SELECT {bucket_closed} AS bucket, {seg_a}, {cols}
    FROM d{join_a} WHERE d.closed_at >= DATE '{lo}' AND d.closed_at < DATE '{hi}' {gs})"""),
    "leads": ("l", """leads_m AS (SELECT {bucket_lead} AS bucket, {seg_l}, count(*) AS leads
    FROM l WHERE l.created_at >= TIMESTAMP '{lo_utc}' AND l.created_at < TIMESTAMP '{hi_utc}' {gs})"""),
    "conv": ("dl", """conv_m AS (SELECT {bucket_lead} AS bucket, {seg_l}, count(*) AS base,
    count(*) FILTER (WHERE EXISTS (SELECT 1 FROM d WHERE d.lead_id = l.lead_id AND d.stage = 'won'
        AND d.closed_at >= CAST(l.created_at AS DATE) AND d.closed_at <= CAST(l.created_at AS DATE) + INTERVAL 90 DAY)) AS converted
    FROM l WHERE l.created_at >= TIMESTAMP '{lo_utc}' AND l.created_at < TIMESTAMP '{hi_utc}' {gs})"""),
    "new_cust": ("da", """firsts AS (SELECT account_id, min(closed_at) AS first_won FROM d
    WHERE stage = 'won' AND account_id IS NOT NULL GROUP BY account_id),
new_cust_m AS (SELECT {bucket_first} AS bucket, {seg_a}, count(*) AS new_cust
    FROM firsts f{join_a} WHERE f.first_won >= DATE '{lo}' AND f.first_won < DATE '{hi}' {gs})"""),
    "spend": ("", """spend_m AS (SELECT {bucket_spend} AS bucket, {seg_s}, sum(amount) AS spend
    FROM (SELECT month, kind, amount, segment AS seg FROM spend) s WHERE s.kind IN ('marketing', 'sales') AND s.month >= DATE '{lo}' AND s.month < DATE '{hi}' {gs})"""),
    "open": ("da", """open_m AS (SELECT b.bucket, {seg_a}, count(*) AS open
    FROM d{join_a}
    JOIN buckets b ON d.created_at < b.bucket_end AND (d.closed_at IS NULL OR d.closed_at >= b.bucket_end) {gsb})"""),
    "open_nb": ("da", """open_nb_m AS (SELECT b.bucket, {seg_a}, count(*) AS open_nb
    FROM d{join_a}
    JOIN buckets b ON d.deal_type = 'new_business' AND d.created_at < b.bucket_end
        AND (d.closed_at IS NULL OR d.closed_at >= b.bucket_end) {gsb})"""),
    "churned": ("a", """churned_m AS (SELECT {bucket_churn} AS bucket, {seg_a}, count(*) AS churned
    FROM a WHERE a.churned_at >= DATE '{lo}' AND a.churned_at < DATE '{hi}' {gs})"""),
    "cust_start": ("a", """cust_start_m AS (SELECT b.bucket, {seg_a}, count(*) AS cust_start
    FROM a JOIN buckets b ON a.customer_since < b.bucket AND (a.churned_at IS NULL OR a.churned_at >= b.bucket) {gsb})"""),
}
NEW = "deal_type = 'new_business'"  # the funnel metrics count new business only
DEAL_COLS = {
    "won": f"count(*) FILTER (WHERE stage = 'won' AND {NEW}) AS won",
    "closed": f"count(*) FILTER (WHERE stage IN ('won', 'lost') AND {NEW}) AS closed",
    "amt": (f"sum(amount) FILTER (WHERE stage = 'won' AND {NEW}) AS amt_sum, "
            f"count(amount) FILTER (WHERE stage = 'won' AND {NEW}) AS amt_n"),
    "amt_all": ("sum(amount) FILTER (WHERE stage = 'won') AS amt_all_sum, "
                "count(amount) FILTER (WHERE stage = 'won') AS amt_all_n"),
    "cyc": (f"sum(date_diff('day', created_at, closed_at)) FILTER (WHERE stage = 'won' AND closed_at >= created_at AND {NEW}) "
            f"AS cyc_sum, count(*) FILTER (WHERE stage = 'won' AND closed_at >= created_at AND {NEW}) AS cyc_n"),
    "ren": ("count(*) FILTER (WHERE stage = 'won' AND deal_type = 'renewal') AS ren_won, "
            "count(*) FILTER (WHERE stage IN ('won', 'lost') AND deal_type = 'renewal') AS ren_closed"),
}
AVG = "amt_sum / nullif(amt_n, 0)"
WIN = "won / nullif(closed, 0)"
CYCLE = "cyc_sum / nullif(cyc_n, 0)"
ANNUAL = "churned / nullif(cust_start, 0) * 365.0 / days"
CAC = "spend / nullif(new_cust, 0)"
CLV = f"({AVG}) * 0.75 / nullif({ANNUAL}, 0)"
METRICS = {  # metric -> (deal columns, other measures, formula over the summed columns)
    "new_leads": ([], ["leads"], "leads"),
    "renewal_win_rate": (["ren"], [], "ren_won / nullif(ren_closed, 0)"),
    "avg_deal_size_all": (["amt_all"], [], "amt_all_sum / nullif(amt_all_n, 0)"),
    "open_new_deals": ([], ["open_nb"], "open_nb"),
    "conversion_rate": (["won"], ["leads"], "won / nullif(leads, 0)"),
    "lead_to_win_rate": ([], ["conv"], "converted / nullif(base, 0)"),
    "sales_cycle_days": (["cyc"], [], CYCLE),
    "win_rate": (["won", "closed"], [], WIN),
    "avg_deal_size": (["amt"], [], AVG),
    "cac": ([], ["spend", "new_cust"], CAC),
    "gross_margin": ([], [], "0.75"),
    "customer_churn_rate": ([], ["churned", "cust_start"], "churned / nullif(cust_start, 0)"),
    "annual_churn_rate": ([], ["churned", "cust_start"], ANNUAL),
    "clv": (["amt"], ["churned", "cust_start"], CLV),
    "open_deals": ([], ["open"], "open"),
    "pipeline_velocity": (["won", "closed", "amt", "cyc"], ["open_nb"], f"open_nb * ({WIN}) * ({AVG}) / nullif({CYCLE}, 0)"),
    "ltv_cac_ratio": (["amt"], ["churned", "cust_start", "spend", "new_cust"], f"({CLV}) / nullif({CAC}, 0)"),
    "cac_payback_months": (["amt"], ["spend", "new_cust"], f"({CAC}) / nullif(({AVG}) / 12.0 * 0.75, 0)"),
}
SNAPSHOT_END, SNAPSHOT_START = {"open", "open_nb"}, {"cust_start"}
ACCOUNTS = {"churned", "cust_start"}  # measures of the accounts table itself


def hand_sql(metric: str, windows: list[tuple[date, date]], grain: str, by_segment: bool) -> str:
    """windows: [(start, end inclusive)] of the asked period and its comparison; grain: the bucket
    ("quarter": one per window; "month": the series of the asked window, and the months of both)."""
    deal_cols, others, formula = METRICS[metric]
    if not deal_cols and not others:  # a constant
        return "SELECT 0 AS pid, NULL AS seg, 1 AS g, 0.75 AS value UNION ALL SELECT 1, NULL, 1, 0.75"
    (cur_lo, cur_hi), (cmp_lo, cmp_hi) = windows
    lo, hi = min(cur_lo, cmp_lo), max(cur_hi, cmp_hi)
    hi_x = _next(hi, "month")
    step = "3 MONTH" if grain == "quarter" else "1 MONTH"
    fill = fills(grain, lo, hi_x, deal_cols, by_segment, grouped=True)
    measures = (["deals"] if deal_cols else []) + others
    tables = sorted({t for m in measures for t in MEASURES[m][0] if t != "a" or by_segment or m in ACCOUNTS})
    ctes = [CLEAN[t] for t in tables]
    if SNAPSHOT_END & set(others) or SNAPSHOT_START & set(others):
        ctes.append(f"buckets AS (SELECT CAST(bucket AS DATE) AS bucket, CAST(bucket + INTERVAL {step} AS DATE) AS bucket_end "
                    f"FROM generate_series(DATE '{lo}', DATE '{_prev(hi_x, grain)}', INTERVAL {step}) t(bucket))")
    ctes += [MEASURES[m][1].format(**fill) for m in measures]
    parts = " UNION ALL BY NAME ".join(f"SELECT * FROM {m}_m" for m in measures)
    window = f"CASE WHEN bucket >= DATE '{cur_lo}' AND bucket <= DATE '{cur_hi}' THEN 0 ELSE 1 END"
    days = f"CASE WHEN pid = 0 THEN {(cur_hi - cur_lo).days + 1} ELSE {(cmp_hi - cmp_lo).days + 1} END"
    sums = [f"sum({c}) AS {c}" for c in _columns(deal_cols, others) if c not in SNAPSHOT_END | SNAPSHOT_START]
    # a snapshot is the state at the window's last (open) or first (customers) bucket, not a sum
    last = ", ".join(f"DATE '{_prev(_next(h, 'month'), grain)}'" for _, h in windows)
    sums += [f"sum({m}) FILTER (WHERE bucket IN ({last})) AS {m}" for m in sorted(SNAPSHOT_END & set(others))]
    sums += [f"sum(cust_start) FILTER (WHERE bucket IN (DATE '{cur_lo}', DATE '{cmp_lo}')) AS cust_start"
             for _ in SNAPSHOT_START & set(others)]
    cols = ", ".join(c for c in _columns(deal_cols, others))
    ctes.append(f"months AS (SELECT bucket, seg, g, {', '.join(_merge(deal_cols, others))} FROM ({parts}) p GROUP BY ALL)")
    ctes.append(f"win AS (SELECT {window} AS pid, seg, g, {', '.join(sums)} FROM months GROUP BY ALL)")
    select = [f"SELECT pid, seg, g, {formula} AS value FROM (SELECT *, {days} AS days FROM win)"]
    if grain == "month":
        series_days = "CAST(bucket + INTERVAL 1 MONTH AS DATE) - bucket"
        month_no = f"date_diff('month', DATE '{cur_lo}', bucket)"
        keep = "g = 0" if by_segment else "true"
        select.append(f"SELECT 2 + {month_no} AS pid, seg, g, {formula} AS value FROM "
                      f"(SELECT bucket, seg, g{', ' + cols if cols else ''}, {series_days} AS days FROM months) "
                      f"WHERE bucket >= DATE '{cur_lo}' AND {keep}")
    return "WITH " + ",\n".join(ctes) + "\n" + "\nUNION ALL\n".join(select) + "\nORDER BY pid, g DESC, seg"


def fills(grain: str, lo: date, hi: date, deal_cols: list[str], by_segment: bool, *, grouped: bool) -> dict[str, object]:
    """What the MEASURES templates are filled with, rows read from ``lo`` to before ``hi``: ``grouped``
    adds each bucket's total across segments (GROUPING SETS); else one row per (bucket, segment)."""
    if grouped:
        seg, gs, gsb = ("GROUPING({e})", "GROUP BY GROUPING SETS ((bucket, seg), (bucket))",
                        "GROUP BY GROUPING SETS ((b.bucket, seg), (b.bucket))")
        gs, gsb = (gs, gsb) if by_segment else ("GROUP BY bucket", "GROUP BY b.bucket")
    else:
        seg, gs, gsb = "0", "GROUP BY ALL", "GROUP BY ALL"
    return {
        "join_a": " LEFT JOIN a USING (account_id)" if by_segment else "",
        "lo": lo, "hi": hi, "lo_utc": _utc(lo), "hi_utc": _utc(hi), "cols": ", ".join(DEAL_COLS[c] for c in deal_cols),
        "bucket_closed": f"CAST(date_trunc('{grain}', d.closed_at) AS DATE)",
        "bucket_lead": f"CAST(date_trunc('{grain}', l.local_at) AS DATE)",
        "bucket_first": f"CAST(date_trunc('{grain}', f.first_won) AS DATE)",
        "bucket_spend": f"CAST(date_trunc('{grain}', s.month) AS DATE)",
        "bucket_churn": f"CAST(date_trunc('{grain}', a.churned_at) AS DATE)",
        **{f"seg_{t}": (f"{e} AS seg, {seg.format(e=e)} AS g" if by_segment else "NULL AS seg, 1 AS g")
           for t, e in (("a", "a.seg"), ("l", "l.seg"), ("s", "s.seg"))},
        "gs": gs, "gsb": gsb,
    }


def _columns(deal_cols: list[str], others: list[str]) -> list[str]:
    names = {"won": ["won"], "closed": ["closed"], "amt": ["amt_sum", "amt_n"], "cyc": ["cyc_sum", "cyc_n"],
             "amt_all": ["amt_all_sum", "amt_all_n"], "ren": ["ren_won", "ren_closed"],
             "leads": ["leads"], "conv": ["base", "converted"], "new_cust": ["new_cust"], "spend": ["spend"],
             "open": ["open"], "open_nb": ["open_nb"], "churned": ["churned"], "cust_start": ["cust_start"]}
    return [c for m in [*deal_cols, *others] for c in names[m]]


def _merge(deal_cols: list[str], others: list[str]) -> list[str]:
    # UNION ALL BY NAME leaves a measure's column NULL on the other tables' rows: sum per month
    return [f"coalesce(sum({c}), 0) AS {c}" for c in _columns(deal_cols, others)]


def _utc(d: date) -> str:
    """Local midnight of ``d`` in New York as a UTC timestamp: the leads are filtered on their stored
    UTC time, so the engine skips row groups outside the window before converting any row."""
    local = datetime.combine(d, time(0), ZoneInfo("America/New_York"))
    return local.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M:%S")


def _next(d: date, grain: str) -> date:
    """The first day of the month after ``d``."""
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def _prev(d: date, grain: str) -> date:
    months = 3 if grain == "quarter" else 1
    idx = d.year * 12 + d.month - 1 - months
    return date(idx // 12, idx % 12 + 1, 1)
