-- Per model per day (of the application's arrival, UTC): volume, decision rates, score quantiles
-- (nearest rank), and, on labelled applications older than view_settings.label_maturity_days,
-- ROC-AUC from ranks (ties get their average rank: the Mann-Whitney statistic), precision,
-- recall and F1 of "decline" at the strategy's thresholds, and the expected cost: each missed
-- fraud costs its amount (or view_settings.missed_fraud_cost without one), each declined good
-- application view_settings.false_decline_cost. `immature` counts what is still too young.
WITH settings AS (
  SELECT label_maturity_days, missed_fraud_cost, false_decline_cost FROM view_settings WHERE id = 1
),
scored AS (
  SELECT s.model_id, s.detector, DAY_OF(a.received_at) AS day, s.score, s.decision, a.amount, o.is_fraud,
         CASE WHEN a.received_at <= MATURE_BEFORE((SELECT label_maturity_days FROM settings))
              THEN 1 ELSE 0 END AS mature
  FROM model_scores s
  JOIN applications a ON a.application_id = s.application_id
  LEFT JOIN outcomes o ON o.application_id = s.application_id
),
labelled AS (
  SELECT * FROM scored WHERE mature = 1 AND is_fraud IS NOT NULL
),
ranked AS (
  SELECT model_id, day, is_fraud,
         RANK() OVER (PARTITION BY model_id, day ORDER BY score) AS low_rank,
         COUNT(*) OVER (PARTITION BY model_id, day, score) AS ties
  FROM labelled
),
auc AS (
  SELECT model_id, day,
         SUM(CASE WHEN is_fraud THEN 1 ELSE 0 END) AS positives,
         SUM(CASE WHEN is_fraud THEN 0 ELSE 1 END) AS negatives,
         SUM(CASE WHEN is_fraud THEN low_rank + (ties - 1) / 2.0 ELSE 0 END) AS positive_rank_sum
  FROM ranked GROUP BY model_id, day
),
outcomes_at_threshold AS (
  SELECT model_id, day,
         COUNT(*) AS labelled,
         SUM(CASE WHEN is_fraud THEN 1 ELSE 0 END) AS frauds,
         SUM(CASE WHEN is_fraud AND decision = 'decline' THEN 1 ELSE 0 END) AS tp,
         SUM(CASE WHEN NOT is_fraud AND decision = 'decline' THEN 1 ELSE 0 END) AS fp,
         SUM(CASE WHEN is_fraud AND decision <> 'decline' THEN 1 ELSE 0 END) AS fn,
         SUM(CASE WHEN is_fraud AND decision <> 'decline'
                  THEN COALESCE(amount, (SELECT missed_fraud_cost FROM settings))
                  WHEN NOT is_fraud AND decision = 'decline' THEN (SELECT false_decline_cost FROM settings)
                  ELSE 0 END) AS expected_cost
  FROM labelled GROUP BY model_id, day
),
quantiles AS (
  SELECT model_id, day, score,
         ROW_NUMBER() OVER (PARTITION BY model_id, day ORDER BY score) AS position,
         COUNT(*) OVER (PARTITION BY model_id, day) AS n
  FROM scored
),
volume AS (
  SELECT model_id, MIN(detector) AS detector, day, COUNT(*) AS volume,
         AVG(CASE WHEN decision = 'approve' THEN 1.0 ELSE 0.0 END) AS approve_rate,
         AVG(CASE WHEN decision = 'review' THEN 1.0 ELSE 0.0 END) AS review_rate,
         AVG(CASE WHEN decision = 'decline' THEN 1.0 ELSE 0.0 END) AS decline_rate,
         SUM(1 - mature) AS immature
  FROM scored GROUP BY model_id, day
),
score_quantiles AS (
  SELECT model_id, day,
         MIN(CASE WHEN position >= 0.50 * n THEN score END) AS score_p50,
         MIN(CASE WHEN position >= 0.90 * n THEN score END) AS score_p90,
         MIN(CASE WHEN position >= 0.99 * n THEN score END) AS score_p99
  FROM quantiles GROUP BY model_id, day
)
SELECT v.model_id, v.detector, v.day, v.volume,
       CAST(v.approve_rate AS DOUBLE PRECISION) AS approve_rate,
       CAST(v.review_rate AS DOUBLE PRECISION) AS review_rate,
       CAST(v.decline_rate AS DOUBLE PRECISION) AS decline_rate,
       q.score_p50, q.score_p90, q.score_p99,
       COALESCE(t.labelled, 0) AS labelled, v.immature, COALESCE(t.frauds, 0) AS frauds,
       CAST(CASE WHEN u.positives > 0 AND u.negatives > 0
            THEN (u.positive_rank_sum - u.positives * (u.positives + 1) / 2.0) / (1.0 * u.positives * u.negatives)
       END AS DOUBLE PRECISION) AS roc_auc,
       CAST(CASE WHEN t.tp + t.fp > 0 THEN 1.0 * t.tp / (t.tp + t.fp) END AS DOUBLE PRECISION) AS precision,
       CAST(CASE WHEN t.tp + t.fn > 0 THEN 1.0 * t.tp / (t.tp + t.fn) END AS DOUBLE PRECISION) AS recall,
       CAST(CASE WHEN 2 * t.tp + t.fp + t.fn > 0 THEN 2.0 * t.tp / (2 * t.tp + t.fp + t.fn) END
            AS DOUBLE PRECISION) AS f1,
       CAST(t.expected_cost AS DOUBLE PRECISION) AS expected_cost
FROM volume v
JOIN score_quantiles q ON q.model_id = v.model_id AND q.day = v.day
LEFT JOIN auc u ON u.model_id = v.model_id AND u.day = v.day
LEFT JOIN outcomes_at_threshold t ON t.model_id = v.model_id AND t.day = v.day
