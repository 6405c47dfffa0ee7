WITH periods AS (
  SELECT
    0 AS pid,
    CAST('2026-07-01' AS DATE) AS lo_d,
    CAST('2026-10-01' AS DATE) AS hi_d,
    CAST('2026-07-01 04:00:00' AS TIMESTAMPNTZ) AS lo_ts,
    CAST('2026-10-01 04:00:00' AS TIMESTAMPNTZ) AS hi_ts,
    92 AS days
  UNION ALL
  SELECT
    1 AS pid,
    CAST('2026-04-01' AS DATE) AS lo_d,
    CAST('2026-07-01' AS DATE) AS hi_d,
    CAST('2026-04-01 04:00:00' AS TIMESTAMPNTZ) AS lo_ts,
    CAST('2026-07-01 04:00:00' AS TIMESTAMPNTZ) AS hi_ts,
    91 AS days
), s0 AS (
  SELECT
    pid,
    d0,
    GROUPING(d0) AS g,
    COUNT(CASE WHEN f0 THEN x0 END) AS v0,
    COUNT(CASE WHEN f0 THEN 1 END) AS n0
  FROM (
    SELECT
      p.pid,
      "t"."segment" AS d0,
      1 AS x0,
      (
        NOT "t"."churned_at" IS NULL
      ) AS f0
    FROM (
      SELECT
        CAST("churned_at" AS DATE) AS "churned_at",
        CASE LOWER(TRIM("segment"))
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
          ELSE TRIM("segment")
        END AS "segment"
      FROM "crm_accounts"
    ) AS t
    JOIN periods AS p
      ON "t"."churned_at" >= p.lo_d
      AND "t"."churned_at" < p.hi_d
      AND "t"."churned_at" >= CAST('2026-04-01' AS DATE)
      AND "t"."churned_at" < CAST('2026-10-01' AS DATE)
    WHERE
      (
        (
          NOT "t"."churned_at" IS NULL
        )
      )
  ) AS r
  GROUP BY
    GROUPING SETS (
      (pid, d0),
      (
        pid
      )
    )
), s1 AS (
  SELECT
    pid,
    d0,
    GROUPING(d0) AS g,
    COUNT(x0) AS v0,
    COUNT(*) AS n0
  FROM (
    SELECT
      p.pid,
      "t"."segment" AS d0,
      1 AS x0
    FROM (
      SELECT
        CAST("churned_at" AS DATE) AS "churned_at",
        CAST("customer_since" AS DATE) AS "customer_since",
        CASE LOWER(TRIM("segment"))
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
          ELSE TRIM("segment")
        END AS "segment"
      FROM "crm_accounts"
    ) AS t
    JOIN periods AS p
      ON "t"."customer_since" < p.lo_d
      AND (
        "t"."churned_at" IS NULL OR "t"."churned_at" >= p.lo_d
      )
  ) AS r
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
    CAST(v0 AS DOUBLE) AS m0,
    CAST(n0 AS DOUBLE) AS m0_n,
    CAST(NULL AS DOUBLE) AS m1,
    CAST(NULL AS DOUBLE) AS m1_n
  FROM s0
  UNION ALL
  SELECT
    pid,
    d0,
    g,
    CAST(NULL AS DOUBLE) AS m0,
    CAST(NULL AS DOUBLE) AS m0_n,
    CAST(v0 AS DOUBLE) AS m1,
    CAST(n0 AS DOUBLE) AS m1_n
  FROM s1
  UNION ALL
  SELECT
    pid,
    NULL AS d0,
    1 AS g,
    CAST(NULL AS DOUBLE) AS m0,
    CAST(NULL AS DOUBLE) AS m0_n,
    CAST(NULL AS DOUBLE) AS m1,
    CAST(NULL AS DOUBLE) AS m1_n
  FROM periods
), a AS (
  SELECT
    pid,
    d0,
    g,
    COALESCE(SUM(m0), 0) AS m0,
    COALESCE(SUM(m0_n), 0) AS m0_n,
    COALESCE(SUM(m1), 0) AS m1,
    COALESCE(SUM(m1_n), 0) AS m1_n
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
  CAST(a.m0 AS DOUBLE) / NULLIF(CAST(a.m1 AS DOUBLE), 0) AS value,
  a.m0,
  a.m1,
  a.m0_n,
  a.m1_n
FROM a
JOIN periods AS p
  ON a.pid = p.pid
ORDER BY
  a.pid,
  a.g DESC NULLS LAST,
  a.d0
