WITH periods AS (
  SELECT
    0 AS pid,
    1 AS lo,
    2 AS hi,
    CAST('2026-07-01' AS DATE) AS lo_d,
    CAST('2026-10-01' AS DATE) AS hi_d,
    92 AS days
  UNION ALL
  SELECT
    1 AS pid,
    0 AS lo,
    1 AS hi,
    CAST('2026-04-01' AS DATE) AS lo_d,
    CAST('2026-07-01' AS DATE) AS hi_d,
    91 AS days
), u AS (
  SELECT
    pid,
    0 AS g
  FROM periods
), a AS (
  SELECT
    pid,
    g
  FROM u
  GROUP BY
    pid,
    g
)
SELECT
  a.pid,
  a.g,
  0.75 AS value
FROM a
JOIN periods AS p
  ON a.pid = p.pid
ORDER BY
  a.pid,
  a.g DESC
