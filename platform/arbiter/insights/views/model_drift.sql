-- Population stability index (PSI) per model, per day of arrival (UTC), per variable: the model's
-- score and its most important raw numeric input fields, against the reference distribution its
-- manifest records (model_reference_bins: deciles of the validation window's scores and of the
-- training window's fields). PSI = sum over bins of (actual - expected) * ln(actual / expected),
-- each share floored at 0.0001 so an empty bin counts but does not make it infinite. The usual
-- reading: below 0.1 stable, 0.1 to 0.25 moderate, above 0.25 a shift worth a look. `missing`
-- counts applications without a value for the field (they are not in the PSI).
WITH variables AS (
  SELECT DISTINCT model_id, kind, variable FROM model_reference_bins
),
valued AS (
  SELECT s.model_id, s.detector, DAY_OF(a.received_at) AS day, v.kind, v.variable,
         CASE WHEN v.kind = 'score' THEN s.score ELSE JSON_NUMBER(a.payload, v.variable) END AS value
  FROM model_scores s
  JOIN applications a ON a.application_id = s.application_id
  JOIN variables v ON v.model_id = s.model_id
),
observed AS (
  SELECT x.model_id, x.day, x.kind, x.variable, r.bin, COUNT(*) AS n
  FROM valued x
  JOIN model_reference_bins r ON r.model_id = x.model_id AND r.kind = x.kind AND r.variable = x.variable
   AND (r.lower_edge IS NULL OR x.value >= r.lower_edge) AND (r.upper_edge IS NULL OR x.value < r.upper_edge)
  GROUP BY x.model_id, x.day, x.kind, x.variable, r.bin
),
totals AS (
  SELECT model_id, MIN(detector) AS detector, day, kind, variable,
         COUNT(value) AS applications, COUNT(*) - COUNT(value) AS missing
  FROM valued GROUP BY model_id, day, kind, variable
),
shares AS (
  SELECT t.model_id, t.detector, t.day, t.kind, t.variable, t.applications, t.missing,
         GREATEST(r.expected_share, 0.0001) AS expected,
         GREATEST(1.0 * COALESCE(o.n, 0) / t.applications, 0.0001) AS actual
  FROM totals t
  JOIN model_reference_bins r ON r.model_id = t.model_id AND r.kind = t.kind AND r.variable = t.variable
  LEFT JOIN observed o ON o.model_id = t.model_id AND o.day = t.day AND o.kind = t.kind
   AND o.variable = t.variable AND o.bin = r.bin
  WHERE t.applications > 0
),
indexed AS (
  SELECT model_id, MIN(detector) AS detector, day, kind, variable,
         MIN(applications) AS applications, MIN(missing) AS missing, COUNT(*) AS bins,
         SUM((actual - expected) * LN(actual / expected)) AS psi
  FROM shares GROUP BY model_id, day, kind, variable
)
SELECT model_id, detector, day, kind, variable, applications, missing, bins,
       CAST(psi AS DOUBLE PRECISION) AS psi,
       CASE WHEN psi < 0.1 THEN 'stable' WHEN psi < 0.25 THEN 'moderate' ELSE 'shift' END AS status
FROM indexed
