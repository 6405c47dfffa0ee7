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
    SUM(CAST(CASE WHEN f0 THEN x0 END AS DOUBLE)) AS v0,
    COUNT(CASE WHEN f0 THEN x0 END) AS w0,
    COUNT(CASE WHEN f0 THEN 1 END) AS n0,
    SUM(CAST(CASE WHEN f1 THEN x1 END AS DOUBLE)) AS v1,
    COUNT(CASE WHEN f1 THEN x1 END) AS w1,
    COUNT(CASE WHEN f1 THEN 1 END) AS n1,
    COUNT(CASE WHEN f2 THEN 1 END) AS v2,
    COUNT(CASE WHEN f3 THEN 1 END) AS v3
  FROM (
    SELECT
      "t"."closed_at" AS k,
      j_account."segment__raw" AS d0,
      DATE_DIFF('DAY', "t"."created_at", "t"."closed_at") AS x0,
      (
        "t"."stage" = 'won'
        AND "t"."closed_at" >= "t"."created_at"
        AND "t"."deal_type" = 'new_business'
      ) AS f0,
      "t"."amount" AS x1,
      (
        "t"."stage" = 'won'
        AND NOT "t"."amount" IS NULL
        AND "t"."deal_type" = 'new_business'
      ) AS f1,
      (
        "t"."stage" = 'won' AND "t"."deal_type" = 'new_business'
      ) AS f2,
      (
        "t"."stage" IN ('won', 'lost') AND "t"."deal_type" = 'new_business'
      ) AS f3
    FROM (
      SELECT
        "account_id" AS "account_id",
        CAST("amount" AS DOUBLE) AS "amount",
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
        (
          "t"."stage" = 'won'
          AND "t"."closed_at" >= "t"."created_at"
          AND "t"."deal_type" = 'new_business'
        )
        OR (
          "t"."stage" = 'won'
          AND NOT "t"."amount" IS NULL
          AND "t"."deal_type" = 'new_business'
        )
        OR (
          "t"."stage" = 'won' AND "t"."deal_type" = 'new_business'
        )
        OR (
          "t"."stage" IN ('won', 'lost') AND "t"."deal_type" = 'new_business'
        )
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
        WHEN "t"."created_at" < CAST('2026-07-01' AS DATE)
        THEN CASE WHEN "t"."created_at" < CAST('2026-04-01' AS DATE) THEN 0 ELSE 1 END
        ELSE CASE WHEN "t"."created_at" < CAST('2026-10-01' AS DATE) THEN 2 ELSE 3 END
      END AS a,
      CASE
        WHEN "t"."closed_at" IS NULL
        THEN 4
        ELSE CASE
          WHEN "t"."closed_at" < CAST('2026-07-01' AS DATE)
          THEN CASE WHEN "t"."closed_at" < CAST('2026-04-01' AS DATE) THEN 0 ELSE 1 END
          ELSE CASE WHEN "t"."closed_at" < CAST('2026-10-01' AS DATE) THEN 2 ELSE 3 END
        END
      END AS b,
      j_account."segment__raw" AS d0
    FROM (
      SELECT
        "account_id" AS "account_id",
        CAST("closed_at" AS DATE) AS "closed_at",
        CAST("created_at" AS DATE) AS "created_at",
        "deal_type" AS "deal_type"
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
        "t"."created_at" < CAST('2026-10-01' AS DATE)
        AND (
          "t"."closed_at" IS NULL OR "t"."closed_at" >= CAST('2026-04-01' AS DATE)
        )
      )
      AND (
        "t"."deal_type" = 'new_business'
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
    CAST(s.n0 AS DOUBLE) AS m0_n,
    CAST(s.w0 AS DOUBLE) AS m0_w,
    CAST(s.v1 AS DOUBLE) AS m1,
    CAST(s.n1 AS DOUBLE) AS m1_n,
    CAST(s.w1 AS DOUBLE) AS m1_w,
    CAST(s.v2 AS DOUBLE) AS m3,
    CAST(s.v2 AS DOUBLE) AS m3_n,
    CAST(s.v3 AS DOUBLE) AS m4,
    CAST(s.v3 AS DOUBLE) AS m4_n,
    CAST(NULL AS DOUBLE) AS m2,
    CAST(NULL AS DOUBLE) AS m2_n
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
    CAST(NULL AS DOUBLE) AS m0_w,
    CAST(NULL AS DOUBLE) AS m1,
    CAST(NULL AS DOUBLE) AS m1_n,
    CAST(NULL AS DOUBLE) AS m1_w,
    CAST(NULL AS DOUBLE) AS m3,
    CAST(NULL AS DOUBLE) AS m3_n,
    CAST(NULL AS DOUBLE) AS m4,
    CAST(NULL AS DOUBLE) AS m4_n,
    CAST(s.v0 AS DOUBLE) AS m2,
    CAST(s.v0 AS DOUBLE) AS m2_n
  FROM s1 AS s
  JOIN periods AS p
    ON s.a <= p.hi AND s.b > p.hi
), a AS (
  SELECT
    pid,
    d0,
    GROUPING(d0) AS g,
    SUM(m0) / NULLIF(SUM(m0_w), 0) AS m0,
    COALESCE(SUM(m0_n), 0) AS m0_n,
    SUM(m1) / NULLIF(SUM(m1_w), 0) AS m1,
    COALESCE(SUM(m1_n), 0) AS m1_n,
    COALESCE(SUM(m3), 0) AS m3,
    COALESCE(SUM(m3_n), 0) AS m3_n,
    COALESCE(SUM(m4), 0) AS m4,
    COALESCE(SUM(m4_n), 0) AS m4_n,
    COALESCE(SUM(m2), 0) AS m2,
    COALESCE(SUM(m2_n), 0) AS m2_n
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
  CAST((
    a.m2
  ) * (
    CAST(a.m3 AS DOUBLE) / NULLIF(CAST(a.m4 AS DOUBLE), 0)
  ) * (
    a.m1
  ) AS DOUBLE) / NULLIF(CAST((
    a.m0
  ) AS DOUBLE), 0) AS value,
  a.m0 AS s0,
  a.m1 AS s1,
  a.m2 AS s2,
  CAST(a.m3 AS DOUBLE) / NULLIF(CAST(a.m4 AS DOUBLE), 0) AS s3,
  a.m0,
  a.m1,
  a.m2,
  a.m3,
  a.m4,
  a.m0_n,
  a.m1_n,
  a.m2_n,
  a.m3_n,
  a.m4_n
FROM a
