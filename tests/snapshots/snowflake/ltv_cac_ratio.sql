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
), s2 AS (
  SELECT
    k,
    d0,
    SUM(CAST(x0 AS DOUBLE)) AS v0,
    COUNT(x0) AS w0,
    COUNT(*) AS n0
  FROM (
    SELECT
      "t"."closed_at" AS k,
      j_account."segment__raw" AS d0,
      "t"."amount" AS x0
    FROM (
      SELECT
        "account_id" AS "account_id",
        CAST("amount" AS DOUBLE) AS "amount",
        CAST("closed_at" AS DATE) AS "closed_at",
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
        AND NOT "t"."amount" IS NULL
        AND "t"."deal_type" = 'new_business'
      )
  ) AS r
  GROUP BY
    k,
    d0
), s3 AS (
  SELECT
    k,
    d0,
    SUM(x0) AS v0,
    COUNT(*) AS n0
  FROM (
    SELECT
      CAST(DATE_TRUNC('MONTH', "t"."month") AS DATE) AS k,
      "t"."segment" AS d0,
      "t"."amount" AS x0
    FROM (
      SELECT
        CAST("amount" AS DOUBLE) AS "amount",
        "kind" AS "kind",
        CAST("month" AS DATE) AS "month",
        "segment" AS "segment"
      FROM "spend"
    ) AS t
    WHERE
      (
        CAST(DATE_TRUNC('MONTH', "t"."month") AS DATE) >= CAST('2026-04-01' AS DATE)
        AND CAST(DATE_TRUNC('MONTH', "t"."month") AS DATE) < CAST('2026-10-01' AS DATE)
      )
      AND (
        "t"."kind" IN ('marketing', 'sales')
      )
  ) AS r
  GROUP BY
    k,
    d0
), s4 AS (
  SELECT
    k,
    d0,
    COUNT(*) AS v0
  FROM (
    SELECT
      "t"."closed_at" AS k,
      j_account."segment__raw" AS d0
    FROM (
      SELECT
        t."account_id" AS "account_id",
        MIN(t."closed_at") AS "closed_at"
      FROM (
        SELECT
          "account_id" AS "account_id",
          CAST("closed_at" AS DATE) AS "closed_at",
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
      WHERE
        (
          NOT t."account_id" IS NULL
        )
        AND (
          "t"."stage" = 'won'
        )
        AND (
          t."closed_at" < CAST('2026-10-01' AS DATE)
        )
      GROUP BY
        t."account_id"
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
    CAST(s.v0 AS DOUBLE) AS m0,
    CAST(s.v0 AS DOUBLE) AS m0_n,
    CAST(NULL AS DOUBLE) AS m1,
    CAST(NULL AS DOUBLE) AS m1_n,
    CAST(NULL AS DOUBLE) AS m2,
    CAST(NULL AS DOUBLE) AS m2_n,
    CAST(NULL AS DOUBLE) AS m2_w,
    CAST(NULL AS DOUBLE) AS m3,
    CAST(NULL AS DOUBLE) AS m3_n,
    CAST(NULL AS DOUBLE) AS m4,
    CAST(NULL AS DOUBLE) AS m4_n
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
    CAST(s.v0 AS DOUBLE) AS m1_n,
    CAST(NULL AS DOUBLE) AS m2,
    CAST(NULL AS DOUBLE) AS m2_n,
    CAST(NULL AS DOUBLE) AS m2_w,
    CAST(NULL AS DOUBLE) AS m3,
    CAST(NULL AS DOUBLE) AS m3_n,
    CAST(NULL AS DOUBLE) AS m4,
    CAST(NULL AS DOUBLE) AS m4_n
  FROM s1 AS s
  JOIN periods AS p
    ON s.a <= p.lo AND s.b > p.lo
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
    CAST(NULL AS DOUBLE) AS m1,
    CAST(NULL AS DOUBLE) AS m1_n,
    CAST(s.v0 AS DOUBLE) AS m2,
    CAST(s.n0 AS DOUBLE) AS m2_n,
    CAST(s.w0 AS DOUBLE) AS m2_w,
    CAST(NULL AS DOUBLE) AS m3,
    CAST(NULL AS DOUBLE) AS m3_n,
    CAST(NULL AS DOUBLE) AS m4,
    CAST(NULL AS DOUBLE) AS m4_n
  FROM s2 AS s
  JOIN periods AS p
    ON s.k >= p.lo_d AND s.k < p.hi_d
  UNION ALL
  SELECT
    p.pid,
    s.d0,
    CAST(NULL AS DOUBLE) AS m0,
    CAST(NULL AS DOUBLE) AS m0_n,
    CAST(NULL AS DOUBLE) AS m1,
    CAST(NULL AS DOUBLE) AS m1_n,
    CAST(NULL AS DOUBLE) AS m2,
    CAST(NULL AS DOUBLE) AS m2_n,
    CAST(NULL AS DOUBLE) AS m2_w,
    CAST(s.v0 AS DOUBLE) AS m3,
    CAST(s.n0 AS DOUBLE) AS m3_n,
    CAST(NULL AS DOUBLE) AS m4,
    CAST(NULL AS DOUBLE) AS m4_n
  FROM s3 AS s
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
    CAST(NULL AS DOUBLE) AS m1,
    CAST(NULL AS DOUBLE) AS m1_n,
    CAST(NULL AS DOUBLE) AS m2,
    CAST(NULL AS DOUBLE) AS m2_n,
    CAST(NULL AS DOUBLE) AS m2_w,
    CAST(NULL AS DOUBLE) AS m3,
    CAST(NULL AS DOUBLE) AS m3_n,
    CAST(s.v0 AS DOUBLE) AS m4,
    CAST(s.v0 AS DOUBLE) AS m4_n
  FROM s4 AS s
  JOIN periods AS p
    ON s.k >= p.lo_d AND s.k < p.hi_d
), a AS (
  SELECT
    pid,
    d0,
    GROUPING(d0) AS g,
    COALESCE(SUM(m0), 0) AS m0,
    COALESCE(SUM(m0_n), 0) AS m0_n,
    COALESCE(SUM(m1), 0) AS m1,
    COALESCE(SUM(m1_n), 0) AS m1_n,
    SUM(m2) / NULLIF(SUM(m2_w), 0) AS m2,
    COALESCE(SUM(m2_n), 0) AS m2_n,
    COALESCE(SUM(m3), 0) AS m3,
    COALESCE(SUM(m3_n), 0) AS m3_n,
    COALESCE(SUM(m4), 0) AS m4,
    COALESCE(SUM(m4_n), 0) AS m4_n
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
    CAST((
      a.m2
    ) * (
      0.75
    ) AS DOUBLE) / NULLIF(
      CAST((
        CAST((
          CAST(a.m0 AS DOUBLE) / NULLIF(CAST(a.m1 AS DOUBLE), 0)
        ) * 365 AS DOUBLE) / NULLIF(CAST(CAST(p.days AS DOUBLE) AS DOUBLE), 0)
      ) AS DOUBLE),
      0
    )
  ) AS DOUBLE) / NULLIF(CAST((
    CAST(a.m3 AS DOUBLE) / NULLIF(CAST(a.m4 AS DOUBLE), 0)
  ) AS DOUBLE), 0) AS value,
  CAST((
    a.m2
  ) * (
    0.75
  ) AS DOUBLE) / NULLIF(
    CAST((
      CAST((
        CAST(a.m0 AS DOUBLE) / NULLIF(CAST(a.m1 AS DOUBLE), 0)
      ) * 365 AS DOUBLE) / NULLIF(CAST(CAST(p.days AS DOUBLE) AS DOUBLE), 0)
    ) AS DOUBLE),
    0
  ) AS s0,
  CAST(a.m3 AS DOUBLE) / NULLIF(CAST(a.m4 AS DOUBLE), 0) AS s1,
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
JOIN periods AS p
  ON a.pid = p.pid
