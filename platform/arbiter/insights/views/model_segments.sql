-- Per model and segment of its applications (evidence_segments: channel, amount band, and for
-- card applications age band and region): volume, decision rates, and on labelled applications of
-- mature days the frauds, their amount, precision and recall of "decline", false declines and the
-- expected cost (view_settings' costs per application). Split strategists' figures by any dimension:
-- WHERE dimension = 'channel'.
WITH settings AS (
  SELECT label_maturity_days, missed_fraud_cost, false_decline_cost FROM view_settings WHERE id = 1
),
segments AS (
  SELECT model_id, MIN(detector) AS detector, dimension, segment, SUM(applications) AS applications,
         SUM(CASE WHEN decision = 'approve' THEN applications ELSE 0 END) AS approved,
         SUM(CASE WHEN decision = 'review' THEN applications ELSE 0 END) AS reviewed,
         SUM(CASE WHEN decision = 'decline' THEN applications ELSE 0 END) AS declined,
         SUM(CASE WHEN mature = 1 AND label <> 'none' THEN applications ELSE 0 END) AS labelled,
         SUM(CASE WHEN mature = 1 AND label = 'fraud' THEN applications ELSE 0 END) AS frauds,
         SUM(CASE WHEN mature = 1 AND label = 'fraud' THEN amount ELSE 0 END) AS fraud_amount,
         SUM(CASE WHEN mature = 1 AND label = 'fraud' AND decision = 'decline' THEN applications ELSE 0 END) AS tp,
         SUM(CASE WHEN mature = 1 AND label = 'legit' AND decision = 'decline' THEN applications ELSE 0 END) AS fp,
         SUM(CASE WHEN mature = 1 AND label = 'fraud' AND decision <> 'decline' THEN applications ELSE 0 END) AS fn
  FROM (SELECT e.*, CASE WHEN day <= DAY_OF(MATURE_BEFORE((SELECT label_maturity_days FROM settings)))
                         THEN 1 ELSE 0 END AS mature
        FROM evidence_segments e WHERE SINCE(day)) q
  GROUP BY model_id, dimension, segment
)
SELECT s.model_id, s.detector, s.dimension, s.segment, s.applications,
       CAST(1.0 * s.approved / s.applications AS DOUBLE PRECISION) AS approve_rate,
       CAST(1.0 * s.reviewed / s.applications AS DOUBLE PRECISION) AS review_rate,
       CAST(1.0 * s.declined / s.applications AS DOUBLE PRECISION) AS decline_rate,
       s.labelled, s.frauds, CAST(s.fraud_amount AS DOUBLE PRECISION) AS fraud_amount,
       CAST(CASE WHEN s.tp + s.fp > 0 THEN 1.0 * s.tp / (s.tp + s.fp) END AS DOUBLE PRECISION) AS precision,
       CAST(CASE WHEN s.tp + s.fn > 0 THEN 1.0 * s.tp / (s.tp + s.fn) END AS DOUBLE PRECISION) AS recall,
       s.fp AS false_declines,
       CAST(s.fn * st.missed_fraud_cost + s.fp * st.false_decline_cost AS DOUBLE PRECISION) AS expected_cost
FROM segments s CROSS JOIN settings st
WHERE s.applications > 0
