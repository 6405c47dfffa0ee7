WITH periods AS (
  SELECT
    *
  FROM (VALUES
    (0, 1, 2, CAST('2026-07-01' AS DATE), CAST('2026-10-01' AS DATE), 92),
    (1, 0, 1, CAST('2026-04-01' AS DATE), CAST('2026-07-01' AS DATE), 91)) AS v_(pid, lo, hi, lo_d, hi_d, days)
), u AS (
  SELECT
    pid
  FROM periods
), a AS (
  SELECT
    pid,
    0 AS g
  FROM u
  GROUP BY
    pid
)
SELECT
  a.pid,
  a.g,
  0.75 AS value
FROM a
