WITH periods AS (
  SELECT
    *
  FROM (VALUES
    (0, 1, 2, 92),
    (1, 0, 1, 91)) AS v_(pid, lo, hi, days)
), f AS (
  SELECT
    CASE
      WHEN r.k < CAST('2026-04-01' AS DATE)
      THEN 0
      WHEN r.k < CAST('2026-07-01' AS DATE)
      THEN 1
      WHEN r.k < CAST('2026-10-01' AS DATE)
      THEN 2
    END AS j,
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
      CAST(r.churned_customers__v AS DOUBLE) AS m0,
      CAST(NULL AS DOUBLE) AS m1,
      CAST(NULL AS DOUBLE) AS m2_s,
      CAST(NULL AS DOUBLE) AS m2_c,
      CAST(NULL AS DOUBLE) AS m2_n,
      CAST(NULL AS DOUBLE) AS m3,
      CAST(NULL AS DOUBLE) AS m3_n,
      CAST(NULL AS DOUBLE) AS m4
    FROM rollup_accounts_daily__0 AS r
    WHERE
      r.k >= CAST('2026-04-01' AS DATE) AND r.k < CAST('2026-10-01' AS DATE)
    UNION ALL
    SELECT
      r.k,
      NULL AS m0,
      CAST(r.customers_at_start__v AS DOUBLE) AS m1,
      NULL AS m2_s,
      NULL AS m2_c,
      NULL AS m2_n,
      NULL AS m3,
      NULL AS m3_n,
      NULL AS m4
    FROM rollup_accounts_daily__1 AS r
    WHERE
      r.k < CAST('2026-07-01' AS DATE)
    UNION ALL
    SELECT
      r.k,
      NULL AS m0,
      NULL AS m1,
      CAST(r.avg_won_amount__s AS DOUBLE) AS m2_s,
      CAST(r.avg_won_amount__c AS DOUBLE) AS m2_c,
      CAST(r.avg_won_amount__n AS DOUBLE) AS m2_n,
      NULL AS m3,
      NULL AS m3_n,
      NULL AS m4
    FROM rollup_deals_by_segment__0 AS r
    WHERE
      r.k >= CAST('2026-04-01' AS DATE) AND r.k < CAST('2026-10-01' AS DATE)
    UNION ALL
    SELECT
      r.k,
      NULL AS m0,
      NULL AS m1,
      NULL AS m2_s,
      NULL AS m2_c,
      NULL AS m2_n,
      CAST(r.acquisition_spend__v AS DOUBLE) AS m3,
      CAST(r.acquisition_spend__n AS DOUBLE) AS m3_n,
      NULL AS m4
    FROM rollup_spend_daily__0 AS r
    WHERE
      r.k >= CAST('2026-04-01' AS DATE) AND r.k < CAST('2026-10-01' AS DATE)
    UNION ALL
    SELECT
      r.k,
      NULL AS m0,
      NULL AS m1,
      NULL AS m2_s,
      NULL AS m2_c,
      NULL AS m2_n,
      NULL AS m3,
      NULL AS m3_n,
      CAST(r.new_customers__v AS DOUBLE) AS m4
    FROM rollup_deals_by_segment__1 AS r
    WHERE
      r.k >= CAST('2026-04-01' AS DATE) AND r.k < CAST('2026-10-01' AS DATE)
  ) AS r
  GROUP BY
    1
), u AS (
  SELECT
    p.pid,
    p.days,
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
    0 AS g,
    MAX(days) AS days,
    COALESCE(SUM(m0), 0) AS m0,
    COALESCE(SUM(m0), 0) AS m0_n,
    COALESCE(SUM(m1), 0) AS m1,
    COALESCE(SUM(m1), 0) AS m1_n,
    CAST(SUM(m2_s) AS DOUBLE) / NULLIF(SUM(m2_c), 0) AS m2,
    COALESCE(SUM(m2_n), 0) AS m2_n,
    COALESCE(SUM(m3), 0) AS m3,
    COALESCE(SUM(m3_n), 0) AS m3_n,
    COALESCE(SUM(m4), 0) AS m4,
    COALESCE(SUM(m4), 0) AS m4_n
  FROM u
  GROUP BY
    pid
)
SELECT
  a.pid,
  a.g,
  CAST((
    CAST((
      a.m2
    ) * (
      0.75
    ) AS DOUBLE) / NULLIF(
      CAST((
        CAST((
          CAST(a.m0 AS DOUBLE) / NULLIF(CAST(a.m1 AS DOUBLE), 0)
        ) * 365 AS DOUBLE) / NULLIF(CAST(CAST(a.days AS DOUBLE) AS DOUBLE), 0)
      ) AS DOUBLE),
      0
    )
  ) AS DOUBLE) / NULLIF(CAST((
    CAST(a.m3 AS DOUBLE) / NULLIF(CAST(a.m4 AS DOUBLE), 0)
  ) AS DOUBLE), 0) AS value,
  CAST((
    a.m2
  ) * (
    0.75
  ) AS DOUBLE) / NULLIF(
    CAST((
      CAST((
        CAST(a.m0 AS DOUBLE) / NULLIF(CAST(a.m1 AS DOUBLE), 0)
      ) * 365 AS DOUBLE) / NULLIF(CAST(CAST(a.days AS DOUBLE) AS DOUBLE), 0)
    ) AS DOUBLE),
    0
  ) AS s0,
  CAST(a.m3 AS DOUBLE) / NULLIF(CAST(a.m4 AS DOUBLE), 0) AS s1,
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
