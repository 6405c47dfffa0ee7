WITH periods AS (
  SELECT
    *
  FROM VALUES
    (0, 0, 4, CAST('1900-01-01' AS DATE), CAST('2026-04-01' AS DATE), 46111),
    (1, 0, 1, CAST('1900-01-01' AS DATE), CAST('2025-04-01' AS DATE), 45746),
    (2, 0, 2, CAST('1900-01-01' AS DATE), CAST('2026-02-01' AS DATE), 46052),
    (3, 0, 3, CAST('1900-01-01' AS DATE), CAST('2026-03-01' AS DATE), 46080),
    (4, 0, 4, CAST('1900-01-01' AS DATE), CAST('2026-04-01' AS DATE), 46111) AS v_(pid, lo, hi, lo_d, hi_d, days)
), s0 AS (
  SELECT
    k,
    d0,
    SUM(x0) AS v0,
    COUNT(*) AS n0
  FROM (
    SELECT
      `t`.`moved_on` AS k,
      `t`.`segment` AS d0,
      `t`.`arr_change` AS x0
    FROM (
      SELECT
        CAST(`arr_change` AS DOUBLE) AS `arr_change`,
        CAST(`moved_on` AS DATE) AS `moved_on`,
        `segment` AS `segment`
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
        `t`.`moved_on` >= CAST('1900-01-01' AS DATE)
        AND `t`.`moved_on` < CAST('2026-04-01' AS DATE)
      )
  ) AS r
  GROUP BY
    k,
    d0
), u AS (
  SELECT
    p.pid,
    s.d0,
    CAST(s.v0 AS DOUBLE) AS m0,
    CAST(s.n0 AS DOUBLE) AS m0_n
  FROM s0 AS s
  JOIN periods AS p
    ON s.k >= p.lo_d AND s.k < p.hi_d
), a AS (
  SELECT
    pid,
    d0,
    GROUPING(d0) AS g,
    COALESCE(SUM(m0), 0) AS m0,
    COALESCE(SUM(m0_n), 0) AS m0_n
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
  a.m0 AS value,
  a.m0,
  a.m0_n
FROM a
