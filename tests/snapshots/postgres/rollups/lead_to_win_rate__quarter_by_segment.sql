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
    r.d0,
    SUM(c0) AS c0,
    SUM(c0_base) AS c0_base
  FROM (
    SELECT
      r.k,
      r.d_segment AS d0,
      CAST(r.conv_n AS DOUBLE PRECISION) AS c0,
      CAST(r.base_n AS DOUBLE PRECISION) AS c0_base
    FROM rollup_leads_by_segment__1 AS r
    WHERE
      r.k >= CAST('2026-04-01' AS DATE) AND r.k < CAST('2026-10-01' AS DATE)
  ) AS r
  GROUP BY
    1,
    2
), u AS (
  SELECT
    p.pid,
    f.d0,
    f.c0,
    f.c0_base
  FROM f
  JOIN periods AS p
    ON f.j > p.lo AND f.j <= p.hi
), a AS (
  SELECT
    pid,
    d0,
    GROUPING(d0) AS g,
    COALESCE(SUM(c0), 0) AS c0,
    COALESCE(SUM(c0_base), 0) AS c0_base
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
  CAST(a.c0 AS DOUBLE PRECISION) / NULLIF(CAST(a.c0_base AS DOUBLE PRECISION), 0) AS value,
  a.c0,
  a.c0_base
FROM a
WHERE
  a.g = 1 OR a.c0_base > 0
