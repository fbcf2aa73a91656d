-- Per model per day (of the application's arrival, UTC), read from the evidence aggregates:
-- volume, decision rates, score quantiles (nearest rank, to the lower edge of the fine score bin
-- they fall in), and, on labelled applications of mature days (a day counts once it is
-- view_settings.label_maturity_days old), ROC-AUC from the fine bins (ties and shared bins count
-- half; auc_error_bound is how far the exact AUC can be), precision, recall and F1 of "decline"
-- at the strategy's thresholds, and the expected cost: each missed fraud costs its amount (or
-- view_settings.missed_fraud_cost without one), each declined good application
-- view_settings.false_decline_cost. `immature` counts what is still too young.
WITH settings AS (
  SELECT label_maturity_days, missed_fraud_cost, false_decline_cost FROM view_settings WHERE id = 1
),
days AS (
  SELECT model_id, MIN(detector) AS detector, day, SUM(applications) AS volume,
         SUM(CASE WHEN decision = 'approve' THEN applications ELSE 0 END) AS approved,
         SUM(CASE WHEN decision = 'review' THEN applications ELSE 0 END) AS reviewed,
         SUM(CASE WHEN decision = 'decline' THEN applications ELSE 0 END) AS declined,
         SUM(CASE WHEN label <> 'none' THEN applications ELSE 0 END) AS labelled,
         SUM(CASE WHEN label = 'fraud' THEN applications ELSE 0 END) AS frauds,
         SUM(CASE WHEN label = 'fraud' AND decision = 'decline' THEN applications ELSE 0 END) AS tp,
         SUM(CASE WHEN label = 'legit' AND decision = 'decline' THEN applications ELSE 0 END) AS fp,
         SUM(CASE WHEN label = 'fraud' AND decision <> 'decline' THEN applications ELSE 0 END) AS fn,
         SUM(CASE WHEN label = 'fraud' AND decision <> 'decline' THEN amount ELSE 0 END) AS missed_amount,
         SUM(CASE WHEN label = 'fraud' AND decision <> 'decline' THEN without_amount ELSE 0 END)
           AS missed_without_amount
  FROM evidence_decisions
  GROUP BY model_id, day
),
judged AS (
  SELECT d.*, CASE WHEN d.day <= DAY_OF(MATURE_BEFORE((SELECT label_maturity_days FROM settings)))
                   THEN 1 ELSE 0 END AS mature
  FROM days d WHERE d.volume > 0
),
per_day AS (
  -- the bins' figures per model and day: kept in evidence_daily, or computed now for the days whose
  -- bins changed since (evidence_daily_live), so a read recomputes only those
  SELECT c.model_id, c.day, c.bin_p50, c.bin_p90, c.bin_p99, c.positives, c.negatives, c.correct, c.tied
  FROM evidence_daily c
  WHERE NOT EXISTS (SELECT 1 FROM evidence_dirty_days x WHERE x.model_id = c.model_id AND x.day = c.day)
  UNION ALL
  SELECT model_id, day, bin_p50, bin_p90, bin_p99, positives, negatives, correct, tied FROM evidence_daily_live
)
SELECT j.model_id, j.detector, j.day, j.volume,
       CAST(1.0 * j.approved / j.volume AS DOUBLE PRECISION) AS approve_rate,
       CAST(1.0 * j.reviewed / j.volume AS DOUBLE PRECISION) AS review_rate,
       CAST(1.0 * j.declined / j.volume AS DOUBLE PRECISION) AS decline_rate,
       CAST(e50.low AS DOUBLE PRECISION) AS score_p50, CAST(e90.low AS DOUBLE PRECISION) AS score_p90,
       CAST(e99.low AS DOUBLE PRECISION) AS score_p99,
       j.mature * j.labelled AS labelled, (1 - j.mature) * j.volume AS immature, j.mature * j.frauds AS frauds,
       CAST(CASE WHEN j.mature = 1 AND u.positives > 0 AND u.negatives > 0
            THEN u.correct / (1.0 * u.positives * u.negatives) END AS DOUBLE PRECISION) AS roc_auc,
       CAST(CASE WHEN j.mature = 1 AND j.tp + j.fp > 0 THEN 1.0 * j.tp / (j.tp + j.fp) END
            AS DOUBLE PRECISION) AS precision,
       CAST(CASE WHEN j.mature = 1 AND j.tp + j.fn > 0 THEN 1.0 * j.tp / (j.tp + j.fn) END
            AS DOUBLE PRECISION) AS recall,
       CAST(CASE WHEN j.mature = 1 AND 2 * j.tp + j.fp + j.fn > 0 THEN 2.0 * j.tp / (2 * j.tp + j.fp + j.fn) END
            AS DOUBLE PRECISION) AS f1,
       CAST(CASE WHEN j.mature = 1 AND j.labelled > 0
            THEN j.missed_amount + j.missed_without_amount * (SELECT missed_fraud_cost FROM settings)
                 + j.fp * (SELECT false_decline_cost FROM settings) END AS DOUBLE PRECISION) AS expected_cost,
       CAST(CASE WHEN j.mature = 1 AND u.positives > 0 AND u.negatives > 0
            THEN 0.5 * u.tied / (1.0 * u.positives * u.negatives) END AS DOUBLE PRECISION) AS auc_error_bound
FROM judged j
LEFT JOIN per_day u ON u.model_id = j.model_id AND u.day = j.day
LEFT JOIN evidence_bin_edges e50 ON e50.bin = u.bin_p50
LEFT JOIN evidence_bin_edges e90 ON e90.bin = u.bin_p90
LEFT JOIN evidence_bin_edges e99 ON e99.bin = u.bin_p99
