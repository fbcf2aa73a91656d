-- Population stability index (PSI) per model, per day of arrival (UTC), per variable: the model's
-- score and its most important raw numeric input fields, against the reference distribution its
-- manifest records (model_reference_bins: deciles of the validation window's scores and of the
-- training window's fields). PSI = sum over bins of (actual - expected) * ln(actual / expected),
-- each share floored at 0.0001 so an empty bin counts but does not make it infinite. The usual
-- reading: below 0.1 stable, 0.1 to 0.25 moderate, above 0.25 a shift worth a look. `missing`
-- counts applications without a value for the field (they are not in the PSI).
-- Read from evidence_drift: the applications each model scored, counted in its reference bins as
-- they were stored (bin -1: without a value).
WITH totals AS (
  SELECT model_id, MIN(detector) AS detector, day, kind, variable,
         SUM(CASE WHEN bin >= 0 THEN applications ELSE 0 END) AS applications,
         SUM(CASE WHEN bin < 0 THEN applications ELSE 0 END) AS missing
  FROM evidence_drift GROUP BY model_id, day, kind, variable
),
shares AS (
  SELECT t.model_id, t.detector, t.day, t.kind, t.variable, t.applications, t.missing,
         GREATEST(r.expected_share, 0.0001) AS expected,
         GREATEST(1.0 * COALESCE(o.applications, 0) / t.applications, 0.0001) AS actual
  FROM totals t
  JOIN model_reference_bins r ON r.model_id = t.model_id AND r.kind = t.kind AND r.variable = t.variable
  LEFT JOIN evidence_drift o ON o.model_id = t.model_id AND o.day = t.day AND o.kind = t.kind
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
