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
    SUM(CAST(x0 AS DOUBLE PRECISION)) AS v0,
    COUNT(x0) AS w0,
    COUNT(*) AS n0
  FROM (
    SELECT
      "t"."closed_at" AS k,
      j_account."segment__raw" AS d0,
      (
        CAST("t"."closed_at" AS DATE) - CAST("t"."created_at" AS DATE)
      ) AS x0
    FROM (
      SELECT
        "account_id" AS "account_id",
        CAST("closed_at" AS DATE) AS "closed_at",
        CAST("created_at" AS DATE) AS "created_at",
        "deal_type" AS "deal_type",
        CASE LOWER(TRIM("stage"))
          WHEN 'closed won'
          THEN 'won'
          WHEN 'won'
          THEN 'won'
          WHEN 'closed lost'
          THEN 'lost'
          WHEN 'closed-lost'
          THEN 'lost'
          ELSE 'open'
        END AS "stage"
      FROM "crm_deals"
    ) AS t
    LEFT JOIN (
      SELECT
        "account_id" AS "account_id",
        "segment" AS "segment__raw"
      FROM "crm_accounts"
    ) AS j_account
      ON t."account_id" = j_account."account_id"
    WHERE
      (
        "t"."closed_at" >= CAST('2026-04-01' AS DATE)
        AND "t"."closed_at" < CAST('2026-10-01' AS DATE)
      )
      AND (
        "t"."stage" = 'won'
        AND "t"."closed_at" >= "t"."created_at"
        AND "t"."deal_type" = 'new_business'
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
    CAST(s.v0 AS DOUBLE PRECISION) AS m0,
    CAST(s.n0 AS DOUBLE PRECISION) AS m0_n,
    CAST(s.w0 AS DOUBLE PRECISION) AS m0_w
  FROM s0 AS s
  JOIN periods AS p
    ON s.k >= p.lo_d AND s.k < p.hi_d
), a AS (
  SELECT
    pid,
    d0,
    GROUPING(d0) AS g,
    CAST(SUM(m0) AS DOUBLE PRECISION) / NULLIF(SUM(m0_w), 0) AS m0,
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
