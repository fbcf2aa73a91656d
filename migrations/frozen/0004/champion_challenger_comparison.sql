-- Each challenger against the champion that decided the same applications, paired application by
-- application: how often they agree, how many the challenger would have declined (or approved) where
-- the champion did not, the Pearson correlation of their scores, and, on mature labelled pairs
-- (view_settings.label_maturity_days), each one's ROC-AUC (from ranks, ties averaged) and the delta.
WITH settings AS (
  SELECT label_maturity_days FROM view_settings WHERE id = 1
),
pairs AS (
  SELECT s.model_id AS challenger_id, d.model_id AS champion_id, s.detector,
         s.score AS challenger_score, d.score AS champion_score,
         s.decision AS challenger_decision, d.decision AS champion_decision, o.is_fraud,
         CASE WHEN a.received_at <= MATURE_BEFORE((SELECT label_maturity_days FROM settings))
              THEN 1 ELSE 0 END AS mature
  FROM shadow_scores s
  JOIN decisions d ON d.application_id = s.application_id AND d.model_id IS NOT NULL AND d.score IS NOT NULL
  JOIN applications a ON a.application_id = s.application_id
  LEFT JOIN outcomes o ON o.application_id = s.application_id
  WHERE SINCE(a.received_at)
),
labelled AS (
  SELECT challenger_id, champion_id, challenger_score, champion_score, is_fraud,
         RANK() OVER (PARTITION BY challenger_id, champion_id ORDER BY challenger_score) AS challenger_rank,
         COUNT(*) OVER (PARTITION BY challenger_id, champion_id, challenger_score) AS challenger_ties,
         RANK() OVER (PARTITION BY challenger_id, champion_id ORDER BY champion_score) AS champion_rank,
         COUNT(*) OVER (PARTITION BY challenger_id, champion_id, champion_score) AS champion_ties
  FROM pairs WHERE mature = 1 AND is_fraud IS NOT NULL
),
auc AS (
  SELECT challenger_id, champion_id,
         SUM(CASE WHEN is_fraud THEN 1 ELSE 0 END) AS positives,
         SUM(CASE WHEN is_fraud THEN 0 ELSE 1 END) AS negatives,
         SUM(CASE WHEN is_fraud THEN challenger_rank + (challenger_ties - 1) / 2.0 ELSE 0 END) AS challenger_sum,
         SUM(CASE WHEN is_fraud THEN champion_rank + (champion_ties - 1) / 2.0 ELSE 0 END) AS champion_sum
  FROM labelled GROUP BY challenger_id, champion_id
),
paired AS (
  SELECT challenger_id, champion_id, MIN(detector) AS detector, COUNT(*) AS paired,
         AVG(CASE WHEN challenger_decision = champion_decision THEN 1.0 ELSE 0.0 END) AS agreement_rate,
         SUM(CASE WHEN challenger_decision = 'decline' AND champion_decision <> 'decline' THEN 1 ELSE 0 END)
           AS challenger_would_decline,
         SUM(CASE WHEN challenger_decision <> 'decline' AND champion_decision = 'decline' THEN 1 ELSE 0 END)
           AS challenger_would_not_decline,
         SUM(CASE WHEN challenger_decision = 'approve' AND champion_decision <> 'approve' THEN 1 ELSE 0 END)
           AS challenger_would_approve,
         SUM(CASE WHEN challenger_decision <> 'approve' AND champion_decision = 'approve' THEN 1 ELSE 0 END)
           AS challenger_would_not_approve,
         SUM(1.0 * challenger_score) AS sx, SUM(1.0 * champion_score) AS sy,
         SUM(1.0 * challenger_score * challenger_score) AS sxx, SUM(1.0 * champion_score * champion_score) AS syy,
         SUM(1.0 * challenger_score * champion_score) AS sxy,
         SUM(mature) AS mature
  FROM pairs GROUP BY challenger_id, champion_id
)
SELECT p.challenger_id, p.champion_id, p.detector, p.paired,
       CAST(p.agreement_rate AS DOUBLE PRECISION) AS agreement_rate,
       p.challenger_would_decline, p.challenger_would_not_decline,
       p.challenger_would_approve, p.challenger_would_not_approve,
       CAST(CASE WHEN (p.paired * p.sxx - p.sx * p.sx) > 0 AND (p.paired * p.syy - p.sy * p.sy) > 0
            THEN (p.paired * p.sxy - p.sx * p.sy)
                 / (sqrt(p.paired * p.sxx - p.sx * p.sx) * sqrt(p.paired * p.syy - p.sy * p.sy))
       END AS DOUBLE PRECISION) AS score_correlation,
       COALESCE(u.positives + u.negatives, 0) AS labelled, p.paired - p.mature AS immature,
       CAST(CASE WHEN u.positives > 0 AND u.negatives > 0
            THEN (u.challenger_sum - u.positives * (u.positives + 1) / 2.0) / (1.0 * u.positives * u.negatives)
       END AS DOUBLE PRECISION) AS challenger_auc,
       CAST(CASE WHEN u.positives > 0 AND u.negatives > 0
            THEN (u.champion_sum - u.positives * (u.positives + 1) / 2.0) / (1.0 * u.positives * u.negatives)
       END AS DOUBLE PRECISION) AS champion_auc,
       CAST(CASE WHEN u.positives > 0 AND u.negatives > 0
            THEN (u.challenger_sum - u.champion_sum) / (1.0 * u.positives * u.negatives)
       END AS DOUBLE PRECISION) AS auc_delta
FROM paired p
LEFT JOIN auc u ON u.challenger_id = p.challenger_id AND u.champion_id = p.champion_id
