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
      t.`segment__raw` AS d0
    FROM (
      SELECT
        CAST(`created_at` AS DATETIME) AS `created_at`,
        `segment` AS `segment__raw`
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
), u AS (
  SELECT
    p.pid,
    CASE LOWER(TRIM(s.d0))
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
      ELSE TRIM(s.d0)
    END AS d0,
    CAST(s.v0 AS FLOAT64) AS m0,
    CAST(s.v0 AS FLOAT64) AS m0_n
  FROM s0 AS s
  JOIN periods AS p
    ON s.k > p.lo AND s.k <= p.hi
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
