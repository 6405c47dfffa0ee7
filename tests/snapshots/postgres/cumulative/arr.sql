WITH periods AS (
  SELECT
    0 AS pid,
    0 AS lo,
    4 AS hi,
    CAST('1900-01-01' AS DATE) AS lo_d,
    CAST('2026-04-01' AS DATE) AS hi_d,
    46111 AS days
  UNION ALL
  SELECT
    1 AS pid,
    0 AS lo,
    1 AS hi,
    CAST('1900-01-01' AS DATE) AS lo_d,
    CAST('2025-04-01' AS DATE) AS hi_d,
    45746 AS days
  UNION ALL
  SELECT
    2 AS pid,
    0 AS lo,
    2 AS hi,
    CAST('1900-01-01' AS DATE) AS lo_d,
    CAST('2026-02-01' AS DATE) AS hi_d,
    46052 AS days
  UNION ALL
  SELECT
    3 AS pid,
    0 AS lo,
    3 AS hi,
    CAST('1900-01-01' AS DATE) AS lo_d,
    CAST('2026-03-01' AS DATE) AS hi_d,
    46080 AS days
  UNION ALL
  SELECT
    4 AS pid,
    0 AS lo,
    4 AS hi,
    CAST('1900-01-01' AS DATE) AS lo_d,
    CAST('2026-04-01' AS DATE) AS hi_d,
    46111 AS days
), s0 AS (
  SELECT
    k,
    d0,
    SUM(x0) AS v0,
    COUNT(*) AS n0
  FROM (
    SELECT
      "t"."moved_on" AS k,
      "t"."segment" AS d0,
      "t"."arr_change" AS x0
    FROM (
      SELECT
        CAST("arr_change" AS DOUBLE PRECISION) AS "arr_change",
        CAST("moved_on" AS DATE) AS "moved_on",
        "segment" AS "segment"
      FROM READ_CSV(
        '<repo>/examples/nrr/arr_movements.csv',
        header = TRUE,
        all_varchar = TRUE,
        quote = '"',
        escape = '"'
      )
    ) AS t
    WHERE
      (
        "t"."moved_on" >= CAST('1900-01-01' AS DATE)
        AND "t"."moved_on" < CAST('2026-04-01' AS DATE)
      )
  ) AS r
  GROUP BY
    k,
    d0
), w0 AS (
  SELECT
    p.pid,
    d0,
    GROUPING(d0) AS g,
    SUM(s.v0) AS v0,
    SUM(s.n0) AS n0
  FROM s0 AS s
  JOIN periods AS p
    ON s.k >= p.lo_d AND s.k < p.hi_d
  GROUP BY
    GROUPING SETS (
      (p.pid, d0),
      (
        p.pid
      )
    )
), u AS (
  SELECT
    pid,
    d0,
    g,
    CAST(v0 AS DOUBLE PRECISION) AS m0,
    CAST(n0 AS DOUBLE PRECISION) AS m0_n
  FROM w0
  UNION ALL
  SELECT
    pid,
    NULL AS d0,
    1 AS g,
    CAST(NULL AS DOUBLE PRECISION) AS m0,
    CAST(NULL AS DOUBLE PRECISION) AS m0_n
  FROM periods
), a AS (
  SELECT
    pid,
    d0,
    g,
    COALESCE(SUM(m0), 0) AS m0,
    COALESCE(SUM(m0_n), 0) AS m0_n
  FROM u
  GROUP BY
    pid,
    d0,
    g
)
SELECT
  a.pid,
  a.g,
  a.d0,
  a.m0 AS value,
  a.m0,
  a.m0_n
FROM a
JOIN periods AS p
  ON a.pid = p.pid
ORDER BY
  a.pid,
  a.g DESC NULLS LAST,
  a.d0
