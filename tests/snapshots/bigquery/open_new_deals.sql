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
    a,
    b,
    d0,
    COUNT(*) AS v0
  FROM (
    SELECT
      CASE
        WHEN `t`.`created_at` < CAST('2026-07-01' AS DATE)
        THEN CASE WHEN `t`.`created_at` < CAST('2026-04-01' AS DATE) THEN 0 ELSE 1 END
        ELSE CASE WHEN `t`.`created_at` < CAST('2026-10-01' AS DATE) THEN 2 ELSE 3 END
      END AS a,
      CASE
        WHEN `t`.`closed_at` IS NULL
        THEN 4
        ELSE CASE
          WHEN `t`.`closed_at` < CAST('2026-07-01' AS DATE)
          THEN CASE WHEN `t`.`closed_at` < CAST('2026-04-01' AS DATE) THEN 0 ELSE 1 END
          ELSE CASE WHEN `t`.`closed_at` < CAST('2026-10-01' AS DATE) THEN 2 ELSE 3 END
        END
      END AS b,
      j_account.`segment__raw` AS d0
    FROM (
      SELECT
        `account_id` AS `account_id`,
        CAST(`closed_at` AS DATE) AS `closed_at`,
        CAST(`created_at` AS DATE) AS `created_at`,
        `deal_type` AS `deal_type`
      FROM `crm_deals`
    ) AS t
    LEFT JOIN (
      SELECT
        `account_id` AS `account_id`,
        `segment` AS `segment__raw`
      FROM `crm_accounts`
    ) AS j_account
      ON t.`account_id` = j_account.`account_id`
    WHERE
      (
        `t`.`created_at` < CAST('2026-10-01' AS DATE)
        AND (
          `t`.`closed_at` IS NULL OR `t`.`closed_at` >= CAST('2026-04-01' AS DATE)
        )
      )
      AND (
        `t`.`deal_type` = 'new_business'
      )
  ) AS r
  GROUP BY
    a,
    b,
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
    ON s.a <= p.hi AND s.b > p.hi
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
