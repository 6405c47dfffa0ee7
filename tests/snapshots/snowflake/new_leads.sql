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
      CASE
        WHEN "t"."created_at" < CAST('2026-07-01 04:00:00' AS TIMESTAMPNTZ)
        THEN 1
        ELSE 2
      END AS k,
      t."segment__raw" AS d0
    FROM (
      SELECT
        CAST("created_at" AS TIMESTAMPNTZ) AS "created_at",
        "segment" AS "segment__raw"
      FROM "crm_leads"
    ) AS t
    WHERE
      (
        "t"."created_at" >= CAST('2026-04-01 04:00:00' AS TIMESTAMPNTZ)
        AND "t"."created_at" < CAST('2026-10-01 04:00:00' AS TIMESTAMPNTZ)
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
    CAST(s.v0 AS DOUBLE) AS m0_n
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
