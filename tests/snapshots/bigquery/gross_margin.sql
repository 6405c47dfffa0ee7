WITH periods AS (
  SELECT
    *
  FROM UNNEST([
    STRUCT(
      0 AS pid,
      1 AS lo,
      2 AS hi,
      CAST('2026-07-01' AS DATE) AS lo_d,
      CAST('2026-10-01' AS DATE) AS hi_d,
      92 AS days
    ),
    STRUCT(
      1 AS pid,
      0 AS lo,
      1 AS hi,
      CAST('2026-04-01' AS DATE) AS lo_d,
      CAST('2026-07-01' AS DATE) AS hi_d,
      91 AS days
    )
  ]) AS v_
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
