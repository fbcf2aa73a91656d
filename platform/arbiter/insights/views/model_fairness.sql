-- Per model, how it treats applicants by age band and by region (evidence_segments; both derived
-- when an application is recorded, models.segments; no date of birth or address is kept in
-- clear): applications, approval, review and decline rates, and on labelled applications of mature
-- days the frauds and the share of them it declined (fraud_caught_rate). disparity_ratio, per model
-- and dimension: the lowest approval rate over the highest among its groups of at least 30
-- applications ('unknown' left out); below 0.8 fails the four-fifths rule of thumb. Every model
-- counts the applications it scored (a challenger: those of its shadow window).
WITH settings AS (
  SELECT label_maturity_days FROM view_settings WHERE id = 1
),
groups AS (
  SELECT model_id, MIN(detector) AS detector, dimension, segment, SUM(applications) AS applications,
         SUM(CASE WHEN decision = 'approve' THEN applications ELSE 0 END) AS approved,
         SUM(CASE WHEN decision = 'review' THEN applications ELSE 0 END) AS reviewed,
         SUM(CASE WHEN decision = 'decline' THEN applications ELSE 0 END) AS declined,
         SUM(CASE WHEN label = 'fraud' AND day <= DAY_OF(MATURE_BEFORE((SELECT label_maturity_days FROM settings)))
                  THEN applications ELSE 0 END) AS frauds,
         SUM(CASE WHEN label = 'fraud' AND decision = 'decline'
                       AND day <= DAY_OF(MATURE_BEFORE((SELECT label_maturity_days FROM settings)))
                  THEN applications ELSE 0 END) AS frauds_declined
  FROM evidence_segments
  WHERE dimension IN ('age_band', 'region') AND SINCE(day)
  GROUP BY model_id, dimension, segment
),
rates AS (
  SELECT g.*, 1.0 * approved / applications AS approval_rate,
         CASE WHEN segment <> 'unknown' AND applications >= 30 THEN 1.0 * approved / applications END AS counted_rate
  FROM groups g WHERE applications > 0
)
SELECT model_id, detector, dimension, segment, applications,
       CAST(approval_rate AS DOUBLE PRECISION) AS approval_rate,
       CAST(1.0 * reviewed / applications AS DOUBLE PRECISION) AS review_rate,
       CAST(1.0 * declined / applications AS DOUBLE PRECISION) AS decline_rate,
       frauds,
       CAST(CASE WHEN frauds > 0 THEN 1.0 * frauds_declined / frauds END AS DOUBLE PRECISION) AS fraud_caught_rate,
       CAST(CASE WHEN MAX(counted_rate) OVER (PARTITION BY model_id, dimension) > 0
                 THEN MIN(counted_rate) OVER (PARTITION BY model_id, dimension)
                      / MAX(counted_rate) OVER (PARTITION BY model_id, dimension) END AS DOUBLE PRECISION)
         AS disparity_ratio
FROM rates
