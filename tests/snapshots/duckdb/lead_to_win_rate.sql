WITH periods AS (
  SELECT
    *
  FROM (VALUES
    (0, 1, 2, CAST('2026-07-01' AS DATE), CAST('2026-10-01' AS DATE), 92),
    (1, 0, 1, CAST('2026-04-01' AS DATE), CAST('2026-07-01' AS DATE), 91)) AS v_(pid, lo, hi, lo_d, hi_d, days)
), cr0 AS (
  SELECT
    CASE
      WHEN "t"."created_at" < CAST('2026-07-01 04:00:00' AS TIMESTAMP)
      THEN 1
      ELSE 2
    END AS k,
    "t"."segment" AS d0,
    "t"."lead_id" AS ent,
    CAST("t"."created_at" AS DATE) AS bt
  FROM (
    SELECT
      CAST("created_at" AS TIMESTAMP) AS "created_at",
      "lead_id" AS "lead_id",
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
    FROM "crm_leads"
  ) AS t
  WHERE
    (
      "t"."created_at" >= CAST('2026-04-01 04:00:00' AS TIMESTAMP)
      AND "t"."created_at" < CAST('2026-10-01 04:00:00' AS TIMESTAMP)
    )
), cm0 AS (
  SELECT DISTINCT
    b.k,
    b.d0,
    b.ent
  FROM cr0 AS b
  JOIN (
    SELECT DISTINCT
      "t"."lead_id" AS ent,
      CAST("t"."closed_at" AS DATE) AS tt
    FROM (
      SELECT
        CAST("closed_at" AS DATE) AS "closed_at",
        "lead_id" AS "lead_id",
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
        "t"."stage" = 'won'
      )
      AND (
        NOT "t"."closed_at" IS NULL
      )
      AND (
        CAST("t"."closed_at" AS DATE) >= CAST('2026-04-01' AS DATE)
        AND CAST("t"."closed_at" AS DATE) < CAST('2026-12-30' AS DATE)
      )
  ) AS tg
    ON tg.ent = b.ent AND tg.tt >= b.bt AND tg.tt <= b.bt + INTERVAL '90' DAY
), cs0 AS (
  SELECT
    k,
    d0,
    COUNT(*) AS base,
    0 AS conv
  FROM cr0
  GROUP BY
    k,
    d0
  UNION ALL
  SELECT
    k,
    d0,
    0 AS base,
    COUNT(*) AS conv
  FROM cm0
  GROUP BY
    k,
    d0
), u AS (
  SELECT
    p.pid,
    s.d0,
    CAST(s.conv AS DOUBLE) AS c0,
    CAST(s.base AS DOUBLE) AS c0_base
  FROM cs0 AS s
  JOIN periods AS p
    ON s.k > p.lo AND s.k <= p.hi
), a AS (
  SELECT
    pid,
    d0,
    GROUPING(d0) AS g,
    COALESCE(SUM(c0), 0) AS c0,
    COALESCE(SUM(c0_base), 0) AS c0_base
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
  CAST(a.c0 AS DOUBLE) / NULLIF(CAST(a.c0_base AS DOUBLE), 0) AS value,
  a.c0,
  a.c0_base
FROM a
