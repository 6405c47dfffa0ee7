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
), s0 AS (
  SELECT
    k,
    d0,
    COUNT(*) AS v0
  FROM (
    SELECT
      CASE
        WHEN `t`.`created_at` < CAST('2026-07-01 04:00:00' AS DATETIME)
        THEN 1
        ELSE 2
      END AS k,
      `t`.`segment` AS d0
    FROM (
      SELECT
        CAST(`created_at` AS DATETIME) AS `created_at`,
        CASE LOWER(TRIM(`segment`))
          WHEN 'smb'
          THEN 'SMB'
          WHEN 'mid-market'
          THEN 'Mid-Market'
          WHEN 'mid market'
          THEN 'Mid-Market'
          WHEN 'enterprise'
          THEN 'Enterprise'
          WHEN 'ent'
          THEN 'Enterprise'
          ELSE TRIM(`segment`)
        END AS `segment`
      FROM `crm_leads`
    ) AS t
    WHERE
      (
        `t`.`created_at` >= CAST('2026-04-01 04:00:00' AS DATETIME)
        AND `t`.`created_at` < CAST('2026-10-01 04:00:00' AS DATETIME)
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
    SUM(s.v0) AS n0
  FROM s0 AS s
  JOIN periods AS p
    ON s.k > p.lo AND s.k <= p.hi
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
    CAST(v0 AS FLOAT64) AS m0,
    CAST(n0 AS FLOAT64) AS m0_n
  FROM w0
  UNION ALL
  SELECT
    pid,
    NULL AS d0,
    1 AS g,
    CAST(NULL AS FLOAT64) AS m0,
    CAST(NULL AS FLOAT64) AS m0_n
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
  a.pid NULLS LAST,
  a.g DESC,
  a.d0 NULLS LAST
