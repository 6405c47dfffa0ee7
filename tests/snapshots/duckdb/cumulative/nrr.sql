WITH periods AS (
  SELECT
    *
  FROM (VALUES
    (0, 1, 2, CAST('2025-10-01' AS DATE), CAST('2026-10-01' AS DATE), 365),
    (1, 0, 1, CAST('2024-10-01' AS DATE), CAST('2025-10-01' AS DATE), 365)) AS v_(pid, lo, hi, lo_d, hi_d, days)
), s0 AS (
  SELECT
    k,
    SUM(CASE WHEN f0 THEN x0 END) AS v0,
    COUNT(CASE WHEN f0 THEN 1 END) AS n0,
    SUM(CASE WHEN f1 THEN x1 END) AS v1,
    COUNT(CASE WHEN f1 THEN 1 END) AS n1
  FROM (
    SELECT
      "t"."month" AS k,
      "t"."mrr" AS x0,
      (
        "t"."mrr_year_ago" > 0
      ) AS f0,
      "t"."mrr_year_ago" AS x1,
      (
        "t"."mrr_year_ago" > 0
      ) AS f1
    FROM (
      SELECT
        CAST("month" AS DATE) AS "month",
        CAST("mrr" AS DOUBLE) AS "mrr",
        CAST("mrr_year_ago" AS DOUBLE) AS "mrr_year_ago"
      FROM READ_CSV(
        '<repo>/examples/nrr/monthly_revenue.csv',
        header = TRUE,
        all_varchar = TRUE,
        quote = '"',
        escape = '"'
      )
    ) AS t
    WHERE
      (
        "t"."month" >= CAST('2024-10-01' AS DATE)
        AND "t"."month" < CAST('2026-10-01' AS DATE)
      )
      AND (
        (
          "t"."mrr_year_ago" > 0
        ) OR (
          "t"."mrr_year_ago" > 0
        )
      )
  ) AS r
  GROUP BY
    k
), u AS (
  SELECT
    p.pid,
    CAST(s.v0 AS DOUBLE) AS m0,
    CAST(s.n0 AS DOUBLE) AS m0_n,
    CAST(s.v1 AS DOUBLE) AS m1,
    CAST(s.n1 AS DOUBLE) AS m1_n
  FROM s0 AS s
  JOIN periods AS p
    ON s.k >= p.lo_d AND s.k < p.hi_d
), a AS (
  SELECT
    pid,
    0 AS g,
    COALESCE(SUM(m0), 0) AS m0,
    COALESCE(SUM(m0_n), 0) AS m0_n,
    COALESCE(SUM(m1), 0) AS m1,
    COALESCE(SUM(m1_n), 0) AS m1_n
  FROM u
  GROUP BY
    pid
)
SELECT
  a.pid,
  a.g,
  CAST(a.m0 AS DOUBLE) / NULLIF(CAST(a.m1 AS DOUBLE), 0) AS value,
  a.m0,
  a.m1,
  a.m0_n,
  a.m1_n
FROM a
