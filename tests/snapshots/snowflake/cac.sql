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
    SUM(CASE WHEN f0 THEN x0 END) AS v0,
    COUNT(CASE WHEN f0 THEN 1 END) AS n0
  FROM (
    SELECT
      p.pid,
      "t"."segment" AS d0,
      "t"."amount" AS x0,
      (
        "t"."kind" IN ('marketing', 'sales')
      ) AS f0
    FROM (
      SELECT
        CAST("amount" AS DOUBLE) AS "amount",
        "kind" AS "kind",
        CAST("month" AS DATE) AS "month",
        "segment" AS "segment"
      FROM "spend"
    ) AS t
    JOIN periods AS p
      ON "t"."month" >= p.lo_d
      AND "t"."month" < p.hi_d
      AND "t"."month" >= CAST('2026-04-01' AS DATE)
      AND "t"."month" < CAST('2026-10-01' AS DATE)
    WHERE
      (
        (
          "t"."kind" IN ('marketing', 'sales')
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
    COUNT(CASE WHEN f0 THEN x0 END) AS v0,
    COUNT(CASE WHEN f0 THEN 1 END) AS n0
  FROM (
    SELECT
      p.pid,
      "j_account"."segment" AS d0,
      1 AS x0,
      (
        "t"."stage" = 'won'
      ) AS f0
    FROM (
      SELECT
        *
      FROM (
        SELECT
          t.*,
          "t"."account_id" AS first_key_,
          ROW_NUMBER() OVER (PARTITION BY "t"."account_id" ORDER BY t."closed_at", t."deal_id") AS first_rank_
        FROM (
          SELECT
            "account_id" AS "account_id",
            CAST("closed_at" AS DATE) AS "closed_at",
            "deal_id" AS "deal_id",
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
          "t"."stage" = 'won'
      ) AS ranked_
      WHERE
        first_rank_ = 1 AND NOT first_key_ IS NULL
    ) AS t
    LEFT JOIN (
      SELECT
        "account_id" AS "account_id",
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
    ) AS j_account
      ON t."account_id" = j_account."account_id"
    JOIN periods AS p
      ON "t"."closed_at" >= p.lo_d
      AND "t"."closed_at" < p.hi_d
      AND "t"."closed_at" >= CAST('2026-04-01' AS DATE)
      AND "t"."closed_at" < CAST('2026-10-01' AS DATE)
    WHERE
      (
        (
          "t"."stage" = 'won'
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
