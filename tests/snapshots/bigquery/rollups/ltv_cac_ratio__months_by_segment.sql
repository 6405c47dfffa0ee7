WITH periods AS (
  SELECT
    *
  FROM UNNEST([
    STRUCT(0 AS pid, 1 AS lo, 13 AS hi, 365 AS days),
    STRUCT(1 AS pid, 0 AS lo, 1 AS hi, 365 AS days),
    STRUCT(2 AS pid, 1 AS lo, 2 AS hi, 30 AS days),
    STRUCT(3 AS pid, 2 AS lo, 3 AS hi, 31 AS days),
    STRUCT(4 AS pid, 3 AS lo, 4 AS hi, 31 AS days),
    STRUCT(5 AS pid, 4 AS lo, 5 AS hi, 28 AS days),
    STRUCT(6 AS pid, 5 AS lo, 6 AS hi, 31 AS days),
    STRUCT(7 AS pid, 6 AS lo, 7 AS hi, 30 AS days),
    STRUCT(8 AS pid, 7 AS lo, 8 AS hi, 31 AS days),
    STRUCT(9 AS pid, 8 AS lo, 9 AS hi, 30 AS days),
    STRUCT(10 AS pid, 9 AS lo, 10 AS hi, 31 AS days),
    STRUCT(11 AS pid, 10 AS lo, 11 AS hi, 31 AS days),
    STRUCT(12 AS pid, 11 AS lo, 12 AS hi, 30 AS days),
    STRUCT(13 AS pid, 12 AS lo, 13 AS hi, 31 AS days)
  ]) AS v_
), f AS (
  SELECT
    CASE
      WHEN r.k < CAST('2024-11-01' AS DATE)
      THEN 0
      WHEN r.k < CAST('2025-11-01' AS DATE)
      THEN 1
      WHEN r.k < CAST('2025-12-01' AS DATE)
      THEN 2
      WHEN r.k < CAST('2026-01-01' AS DATE)
      THEN 3
      WHEN r.k < CAST('2026-02-01' AS DATE)
      THEN 4
      WHEN r.k < CAST('2026-03-01' AS DATE)
      THEN 5
      WHEN r.k < CAST('2026-04-01' AS DATE)
      THEN 6
      WHEN r.k < CAST('2026-05-01' AS DATE)
      THEN 7
      WHEN r.k < CAST('2026-06-01' AS DATE)
      THEN 8
      WHEN r.k < CAST('2026-07-01' AS DATE)
      THEN 9
      WHEN r.k < CAST('2026-08-01' AS DATE)
      THEN 10
      WHEN r.k < CAST('2026-09-01' AS DATE)
      THEN 11
      WHEN r.k < CAST('2026-10-01' AS DATE)
      THEN 12
      WHEN r.k < CAST('2026-11-01' AS DATE)
      THEN 13
    END AS j,
    r.d0,
    SUM(m0) AS m0,
    SUM(m1) AS m1,
    SUM(m2_s) AS m2_s,
    SUM(m2_c) AS m2_c,
    SUM(m2_n) AS m2_n,
    SUM(m3) AS m3,
    SUM(m3_n) AS m3_n,
    SUM(m4) AS m4
  FROM (
    SELECT
      r.k,
      r.d_segment AS d0,
      CAST(r.churned_customers__v AS FLOAT64) AS m0,
      CAST(NULL AS FLOAT64) AS m1,
      CAST(NULL AS FLOAT64) AS m2_s,
      CAST(NULL AS FLOAT64) AS m2_c,
      CAST(NULL AS FLOAT64) AS m2_n,
      CAST(NULL AS FLOAT64) AS m3,
      CAST(NULL AS FLOAT64) AS m3_n,
      CAST(NULL AS FLOAT64) AS m4
    FROM rollup_accounts_daily__0 AS r
    WHERE
      r.k >= CAST('2024-11-01' AS DATE) AND r.k < CAST('2026-11-01' AS DATE)
    UNION ALL
    SELECT
      r.k,
      r.d_segment AS d0,
      NULL AS m0,
      CAST(r.customers_at_start__v AS FLOAT64) AS m1,
      NULL AS m2_s,
      NULL AS m2_c,
      NULL AS m2_n,
      NULL AS m3,
      NULL AS m3_n,
      NULL AS m4
    FROM rollup_accounts_daily__1 AS r
    WHERE
      r.k < CAST('2026-10-01' AS DATE)
    UNION ALL
    SELECT
      r.k,
      r.d_segment AS d0,
      NULL AS m0,
      NULL AS m1,
      CAST(r.avg_won_amount__s AS FLOAT64) AS m2_s,
      CAST(r.avg_won_amount__c AS FLOAT64) AS m2_c,
      CAST(r.avg_won_amount__n AS FLOAT64) AS m2_n,
      NULL AS m3,
      NULL AS m3_n,
      NULL AS m4
    FROM rollup_deals_by_segment__0 AS r
    WHERE
      r.k >= CAST('2024-11-01' AS DATE) AND r.k < CAST('2026-11-01' AS DATE)
    UNION ALL
    SELECT
      r.k,
      r.d_segment AS d0,
      NULL AS m0,
      NULL AS m1,
      NULL AS m2_s,
      NULL AS m2_c,
      NULL AS m2_n,
      CAST(r.acquisition_spend__v AS FLOAT64) AS m3,
      CAST(r.acquisition_spend__n AS FLOAT64) AS m3_n,
      NULL AS m4
    FROM rollup_spend_daily__0 AS r
    WHERE
      r.k >= CAST('2024-11-01' AS DATE) AND r.k < CAST('2026-11-01' AS DATE)
    UNION ALL
    SELECT
      r.k,
      r.d_segment AS d0,
      NULL AS m0,
      NULL AS m1,
      NULL AS m2_s,
      NULL AS m2_c,
      NULL AS m2_n,
      NULL AS m3,
      NULL AS m3_n,
      CAST(r.new_customers__v AS FLOAT64) AS m4
    FROM rollup_deals_by_segment__1 AS r
    WHERE
      r.k >= CAST('2024-11-01' AS DATE) AND r.k < CAST('2026-11-01' AS DATE)
  ) AS r
  GROUP BY
    1,
    2
), u AS (
  SELECT
    p.pid,
    p.days,
    f.d0,
    CASE WHEN f.j > p.lo THEN f.m0 END AS m0,
    CASE WHEN f.j <= p.lo THEN f.m1 END AS m1,
    CASE WHEN f.j > p.lo THEN f.m2_s END AS m2_s,
    CASE WHEN f.j > p.lo THEN f.m2_c END AS m2_c,
    CASE WHEN f.j > p.lo THEN f.m2_n END AS m2_n,
    CASE WHEN f.j > p.lo THEN f.m3 END AS m3,
    CASE WHEN f.j > p.lo THEN f.m3_n END AS m3_n,
    CASE WHEN f.j > p.lo THEN f.m4 END AS m4
  FROM f
  JOIN periods AS p
    ON f.j <= p.hi
), a AS (
  SELECT
    pid,
    d0,
    GROUPING(d0) AS g,
    MAX(days) AS days,
    COALESCE(SUM(m0), 0) AS m0,
    COALESCE(SUM(m0), 0) AS m0_n,
    COALESCE(SUM(m1), 0) AS m1,
    COALESCE(SUM(m1), 0) AS m1_n,
    CAST(SUM(m2_s) AS FLOAT64) / NULLIF(SUM(m2_c), 0) AS m2,
    COALESCE(SUM(m2_n), 0) AS m2_n,
    COALESCE(SUM(m3), 0) AS m3,
    COALESCE(SUM(m3_n), 0) AS m3_n,
    COALESCE(SUM(m4), 0) AS m4,
    COALESCE(SUM(m4), 0) AS m4_n
  FROM u
  GROUP BY
    GROUPING SETS (
      (pid, d0),
      (
        pid
      )
    )
)
SELECT
  a.pid,
  a.g,
  a.d0,
  CAST((
    CAST((
      a.m2
    ) * (
      0.75
    ) AS FLOAT64) / NULLIF(
      CAST((
        CAST((
          CAST(a.m0 AS FLOAT64) / NULLIF(CAST(a.m1 AS FLOAT64), 0)
        ) * 365 AS FLOAT64) / NULLIF(CAST(CAST(a.days AS FLOAT64) AS FLOAT64), 0)
      ) AS FLOAT64),
      0
    )
  ) AS FLOAT64) / NULLIF(CAST((
    CAST(a.m3 AS FLOAT64) / NULLIF(CAST(a.m4 AS FLOAT64), 0)
  ) AS FLOAT64), 0) AS value,
  CAST((
    a.m2
  ) * (
    0.75
  ) AS FLOAT64) / NULLIF(
    CAST((
      CAST((
        CAST(a.m0 AS FLOAT64) / NULLIF(CAST(a.m1 AS FLOAT64), 0)
      ) * 365 AS FLOAT64) / NULLIF(CAST(CAST(a.days AS FLOAT64) AS FLOAT64), 0)
    ) AS FLOAT64),
    0
  ) AS s0,
  CAST(a.m3 AS FLOAT64) / NULLIF(CAST(a.m4 AS FLOAT64), 0) AS s1,
  a.m0,
  a.m1,
  a.m2,
  a.m3,
  a.m4,
  a.m0_n,
  a.m1_n,
  a.m2_n,
  a.m3_n,
  a.m4_n
FROM a
WHERE
  a.g = 1 OR a.m0_n + a.m1_n + a.m2_n + a.m3_n + a.m4_n > 0
