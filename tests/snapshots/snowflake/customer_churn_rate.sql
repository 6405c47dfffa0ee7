WITH periods AS (
  SELECT
    *
  FROM (VALUES
    (0, 1, 2, CAST('2026-07-01' AS DATE), CAST('2026-10-01' AS DATE), 92),
    (1, 0, 1, CAST('2026-04-01' AS DATE), CAST('2026-07-01' AS DATE), 91)) AS v_(pid, lo, hi, lo_d, hi_d, days)
), s0 AS (
  SELECT
    k,
    d0,
    COUNT(*) AS v0
  FROM (
    SELECT
      "t"."churned_at" AS k,
      t."segment__raw" AS d0
    FROM (
      SELECT
        CAST("churned_at" AS DATE) AS "churned_at",
        "segment" AS "segment__raw"
      FROM "crm_accounts"
    ) AS t
    WHERE
      (
        "t"."churned_at" >= CAST('2026-04-01' AS DATE)
        AND "t"."churned_at" < CAST('2026-10-01' AS DATE)
      )
      AND (
        NOT "t"."churned_at" IS NULL
      )
  ) AS r
  GROUP BY
    k,
    d0
), s1 AS (
  SELECT
    a,
    b,
    d0,
    COUNT(*) AS v0
  FROM (
    SELECT
      CASE
        WHEN "t"."customer_since" < CAST('2026-07-01' AS DATE)
        THEN CASE WHEN "t"."customer_since" < CAST('2026-04-01' AS DATE) THEN 0 ELSE 1 END
        ELSE CASE WHEN "t"."customer_since" < CAST('2026-10-01' AS DATE) THEN 2 ELSE 3 END
      END AS a,
      CASE
        WHEN "t"."churned_at" IS NULL
        THEN 4
        ELSE CASE
          WHEN "t"."churned_at" < CAST('2026-07-01' AS DATE)
          THEN CASE WHEN "t"."churned_at" < CAST('2026-04-01' AS DATE) THEN 0 ELSE 1 END
          ELSE CASE WHEN "t"."churned_at" < CAST('2026-10-01' AS DATE) THEN 2 ELSE 3 END
        END
      END AS b,
      t."segment__raw" AS d0
    FROM (
      SELECT
        CAST("churned_at" AS DATE) AS "churned_at",
        CAST("customer_since" AS DATE) AS "customer_since",
        "segment" AS "segment__raw"
      FROM "crm_accounts"
    ) AS t
    WHERE
      (
        "t"."customer_since" < CAST('2026-10-01' AS DATE)
        AND (
          "t"."churned_at" IS NULL OR "t"."churned_at" >= CAST('2026-04-01' AS DATE)
        )
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
    CAST(s.v0 AS DOUBLE) AS m0,
    CAST(s.v0 AS DOUBLE) AS m0_n,
    CAST(NULL AS DOUBLE) AS m1,
    CAST(NULL AS DOUBLE) AS m1_n
  FROM s0 AS s
  JOIN periods AS p
    ON s.k >= p.lo_d AND s.k < p.hi_d
  UNION ALL
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
    CAST(NULL AS DOUBLE) AS m0,
    CAST(NULL AS DOUBLE) AS m0_n,
    CAST(s.v0 AS DOUBLE) AS m1,
    CAST(s.v0 AS DOUBLE) AS m1_n
  FROM s1 AS s
  JOIN periods AS p
    ON s.a <= p.lo AND s.b > p.lo
), a AS (
  SELECT
    pid,
    d0,
    GROUPING(d0) AS g,
    COALESCE(SUM(m0), 0) AS m0,
    COALESCE(SUM(m0_n), 0) AS m0_n,
    COALESCE(SUM(m1), 0) AS m1,
    COALESCE(SUM(m1_n), 0) AS m1_n
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
  CAST(a.m0 AS DOUBLE) / NULLIF(CAST(a.m1 AS DOUBLE), 0) AS value,
  a.m0,
  a.m1,
  a.m0_n,
  a.m1_n
FROM a
