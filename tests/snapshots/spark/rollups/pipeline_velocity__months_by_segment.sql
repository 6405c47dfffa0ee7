WITH periods AS (
  SELECT
    *
  FROM VALUES
    (0, 1, 13, 365),
    (1, 0, 1, 365),
    (2, 1, 2, 30),
    (3, 2, 3, 31),
    (4, 3, 4, 31),
    (5, 4, 5, 28),
    (6, 5, 6, 31),
    (7, 6, 7, 30),
    (8, 7, 8, 31),
    (9, 8, 9, 30),
    (10, 9, 10, 31),
    (11, 10, 11, 31),
    (12, 11, 12, 30),
    (13, 12, 13, 31) AS v_(pid, lo, hi, days)
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
    SUM(m0_s) AS m0_s,
    SUM(m0_c) AS m0_c,
    SUM(m0_n) AS m0_n,
    SUM(m1_s) AS m1_s,
    SUM(m1_c) AS m1_c,
    SUM(m1_n) AS m1_n,
    SUM(m2) AS m2,
    SUM(m3) AS m3,
    SUM(m4) AS m4
  FROM (
    SELECT
      r.k,
      r.d_segment AS d0,
      CAST(r.won_cycle_days__s AS DOUBLE) AS m0_s,
      CAST(r.won_cycle_days__c AS DOUBLE) AS m0_c,
      CAST(r.won_cycle_days__n AS DOUBLE) AS m0_n,
      CAST(r.avg_won_amount__s AS DOUBLE) AS m1_s,
      CAST(r.avg_won_amount__c AS DOUBLE) AS m1_c,
      CAST(r.avg_won_amount__n AS DOUBLE) AS m1_n,
      CAST(NULL AS DOUBLE) AS m2,
      CAST(r.won_new_deals__v AS DOUBLE) AS m3,
      CAST(r.closed_new_deals__v AS DOUBLE) AS m4
    FROM rollup_deals_by_segment__0 AS r
    WHERE
      r.k >= CAST('2024-11-01' AS DATE) AND r.k < CAST('2026-11-01' AS DATE)
    UNION ALL
    SELECT
      r.k,
      r.d_segment AS d0,
      NULL AS m0_s,
      NULL AS m0_c,
      NULL AS m0_n,
      NULL AS m1_s,
      NULL AS m1_c,
      NULL AS m1_n,
      CAST(r.open_new_deals__v AS DOUBLE) AS m2,
      NULL AS m3,
      NULL AS m4
    FROM rollup_deals_by_segment__3 AS r
    WHERE
      r.k < CAST('2026-11-01' AS DATE)
  ) AS r
  GROUP BY
    1,
    2
), u AS (
  SELECT
    p.pid,
    f.d0,
    CASE WHEN f.j > p.lo THEN f.m0_s END AS m0_s,
    CASE WHEN f.j > p.lo THEN f.m0_c END AS m0_c,
    CASE WHEN f.j > p.lo THEN f.m0_n END AS m0_n,
    CASE WHEN f.j > p.lo THEN f.m1_s END AS m1_s,
    CASE WHEN f.j > p.lo THEN f.m1_c END AS m1_c,
    CASE WHEN f.j > p.lo THEN f.m1_n END AS m1_n,
    f.m2,
    CASE WHEN f.j > p.lo THEN f.m3 END AS m3,
    CASE WHEN f.j > p.lo THEN f.m4 END AS m4
  FROM f
  JOIN periods AS p
    ON f.j <= p.hi
), a AS (
  SELECT
    pid,
    d0,
    GROUPING(d0) AS g,
    CAST(SUM(m0_s) AS DOUBLE) / NULLIF(SUM(m0_c), 0) AS m0,
    COALESCE(SUM(m0_n), 0) AS m0_n,
    CAST(SUM(m1_s) AS DOUBLE) / NULLIF(SUM(m1_c), 0) AS m1,
    COALESCE(SUM(m1_n), 0) AS m1_n,
    COALESCE(SUM(m2), 0) AS m2,
    COALESCE(SUM(m2), 0) AS m2_n,
    COALESCE(SUM(m3), 0) AS m3,
    COALESCE(SUM(m3), 0) AS m3_n,
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
    a.m2
  ) * (
    CAST(a.m3 AS DOUBLE) / NULLIF(CAST(a.m4 AS DOUBLE), 0)
  ) * (
    a.m1
  ) AS DOUBLE) / NULLIF(CAST((
    a.m0
  ) AS DOUBLE), 0) AS value,
  a.m0 AS s0,
  a.m1 AS s1,
  a.m2 AS s2,
  CAST(a.m3 AS DOUBLE) / NULLIF(CAST(a.m4 AS DOUBLE), 0) AS s3,
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
