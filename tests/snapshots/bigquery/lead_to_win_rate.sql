WITH periods AS (
  SELECT
    0 AS pid,
    CAST('2026-07-01' AS DATE) AS lo_d,
    CAST('2026-10-01' AS DATE) AS hi_d,
    CAST('2026-07-01 04:00:00' AS DATETIME) AS lo_ts,
    CAST('2026-10-01 04:00:00' AS DATETIME) AS hi_ts,
    92 AS days
  UNION ALL
  SELECT
    1 AS pid,
    CAST('2026-04-01' AS DATE) AS lo_d,
    CAST('2026-07-01' AS DATE) AS hi_d,
    CAST('2026-04-01 04:00:00' AS DATETIME) AS lo_ts,
    CAST('2026-07-01 04:00:00' AS DATETIME) AS hi_ts,
    91 AS days
), cr0 AS (
  SELECT
    p.pid,
    `t`.`segment` AS d0,
    `t`.`lead_id` AS ent,
    CAST(`t`.`created_at` AS DATE) AS bt
  FROM (
    SELECT
      CAST(`created_at` AS DATETIME) AS `created_at`,
      `lead_id` AS `lead_id`,
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
  JOIN periods AS p
    ON `t`.`created_at` >= p.lo_ts
    AND `t`.`created_at` < p.hi_ts
    AND `t`.`created_at` >= CAST('2026-04-01 04:00:00' AS DATETIME)
    AND `t`.`created_at` < CAST('2026-10-01 04:00:00' AS DATETIME)
), cb0 AS (
  SELECT
    pid,
    d0,
    GROUPING(d0) AS g,
    COUNT(*) AS base
  FROM cr0
  GROUP BY
    GROUPING SETS (
      (pid, d0),
      (
        pid
      )
    )
), cc0 AS (
  SELECT
    pid,
    d0,
    GROUPING(d0) AS g,
    COUNT(*) AS conv
  FROM (
    SELECT DISTINCT
      b.pid,
      b.d0,
      b.ent
    FROM cr0 AS b
    JOIN (
      SELECT DISTINCT
        `t`.`lead_id` AS ent,
        CAST(`t`.`closed_at` AS DATE) AS tt
      FROM (
        SELECT
          CAST(`closed_at` AS DATE) AS `closed_at`,
          `lead_id` AS `lead_id`,
          CASE LOWER(TRIM(`stage`))
            WHEN 'closed won'
            THEN 'won'
            WHEN 'won'
            THEN 'won'
            WHEN 'closed lost'
            THEN 'lost'
            WHEN 'closed-lost'
            THEN 'lost'
            ELSE 'open'
          END AS `stage`
        FROM `crm_deals`
      ) AS t
      WHERE
        (
          `t`.`stage` = 'won'
        )
        AND (
          NOT `t`.`closed_at` IS NULL
        )
        AND (
          CAST(`t`.`closed_at` AS DATE) >= CAST('2026-04-01' AS DATE)
          AND CAST(`t`.`closed_at` AS DATE) < CAST('2026-12-31' AS DATE)
        )
    ) AS tg
      ON tg.ent = b.ent AND tg.tt >= b.bt AND tg.tt <= b.bt + INTERVAL '90' DAY
  ) AS e
  GROUP BY
    GROUPING SETS (
      (pid, d0),
      (
        pid
      )
    )
), u AS (
  SELECT
    pid,
    d0,
    g,
    CAST(NULL AS FLOAT64) AS c0,
    CAST(base AS FLOAT64) AS c0_base
  FROM cb0
  UNION ALL
  SELECT
    pid,
    d0,
    g,
    CAST(conv AS FLOAT64) AS c0,
    CAST(NULL AS FLOAT64) AS c0_base
  FROM cc0
  UNION ALL
  SELECT
    pid,
    NULL AS d0,
    1 AS g,
    CAST(NULL AS FLOAT64) AS c0,
    CAST(NULL AS FLOAT64) AS c0_base
  FROM periods
), a AS (
  SELECT
    pid,
    d0,
    g,
    COALESCE(SUM(c0), 0) AS c0,
    COALESCE(SUM(c0_base), 0) AS c0_base
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
  CAST(a.c0 AS FLOAT64) / NULLIF(CAST(a.c0_base AS FLOAT64), 0) AS value,
  a.c0,
  a.c0_base
FROM a
JOIN periods AS p
  ON a.pid = p.pid
ORDER BY
  a.pid NULLS LAST,
  a.g DESC,
  a.d0 NULLS LAST
