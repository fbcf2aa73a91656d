-- Each challenger against the champion that decided the same applications, paired application by
-- application, read from the evidence aggregates (evidence_pairs, evidence_pair_bins): how often
-- they agree, how many the challenger would have declined (or approved) where the champion did
-- not, the Pearson correlation of their scores, and, on labelled pairs of mature days (a day counts
-- once it is view_settings.label_maturity_days old), each one's ROC-AUC from fine score bins (ties
-- and shared bins count half) with auc_error_bound, how far the exact AUCs can be from them.
WITH settings AS (
  SELECT label_maturity_days FROM view_settings WHERE id = 1
),
pairs AS (
  SELECT challenger_id, champion_id, MIN(detector) AS detector, SUM(applications) AS paired,
         SUM(CASE WHEN challenger_decision = champion_decision THEN applications ELSE 0 END) AS agreed,
         SUM(CASE WHEN challenger_decision = 'decline' AND champion_decision <> 'decline' THEN applications ELSE 0 END)
           AS challenger_would_decline,
         SUM(CASE WHEN challenger_decision <> 'decline' AND champion_decision = 'decline' THEN applications ELSE 0 END)
           AS challenger_would_not_decline,
         SUM(CASE WHEN challenger_decision = 'approve' AND champion_decision <> 'approve' THEN applications ELSE 0 END)
           AS challenger_would_approve,
         SUM(CASE WHEN challenger_decision <> 'approve' AND champion_decision = 'approve' THEN applications ELSE 0 END)
           AS challenger_would_not_approve,
         SUM(sum_x) AS sx, SUM(sum_y) AS sy, SUM(sum_xx) AS sxx, SUM(sum_yy) AS syy, SUM(sum_xy) AS sxy,
         SUM(CASE WHEN day <= DAY_OF(MATURE_BEFORE((SELECT label_maturity_days FROM settings)))
                  THEN 0 ELSE applications END) AS immature
  FROM evidence_pairs
  WHERE SINCE(day)
  GROUP BY challenger_id, champion_id
),
bins AS (
  SELECT challenger_id, champion_id, side, bin,
         SUM(CASE WHEN label = 'fraud' THEN applications ELSE 0 END) AS p,
         SUM(CASE WHEN label = 'legit' THEN applications ELSE 0 END) AS n
  FROM evidence_pair_bins
  WHERE label <> 'none' AND day <= DAY_OF(MATURE_BEFORE((SELECT label_maturity_days FROM settings)))
    AND SINCE(day)
  GROUP BY challenger_id, champion_id, side, bin
),
below AS (
  SELECT challenger_id, champion_id, side, p, n,
         COALESCE(SUM(n) OVER (PARTITION BY challenger_id, champion_id, side ORDER BY bin
                               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS negatives_below
  FROM bins
),
auc AS (
  SELECT challenger_id, champion_id, side, SUM(p) AS positives, SUM(n) AS negatives,
         SUM(1.0 * p * negatives_below + 0.5 * p * n) AS correct, SUM(1.0 * p * n) AS tied
  FROM below GROUP BY challenger_id, champion_id, side
),
sides AS (
  SELECT x.challenger_id, x.champion_id, x.positives, x.negatives,
         CASE WHEN x.positives > 0 AND x.negatives > 0 THEN x.correct / (1.0 * x.positives * x.negatives) END
           AS challenger_auc,
         CASE WHEN y.positives > 0 AND y.negatives > 0 THEN y.correct / (1.0 * y.positives * y.negatives) END
           AS champion_auc,
         CASE WHEN x.positives > 0 AND x.negatives > 0
              THEN 0.5 * GREATEST(x.tied, y.tied) / (1.0 * x.positives * x.negatives) END AS auc_error_bound
  FROM auc x JOIN auc y ON y.challenger_id = x.challenger_id AND y.champion_id = x.champion_id
                       AND x.side = 'challenger' AND y.side = 'champion'
)
SELECT p.challenger_id, p.champion_id, p.detector, p.paired,
       CAST(CASE WHEN p.paired > 0 THEN 1.0 * p.agreed / p.paired END AS DOUBLE PRECISION) AS agreement_rate,
       p.challenger_would_decline, p.challenger_would_not_decline,
       p.challenger_would_approve, p.challenger_would_not_approve,
       CAST(CASE WHEN (p.paired * p.sxx - p.sx * p.sx) > 0 AND (p.paired * p.syy - p.sy * p.sy) > 0
            THEN (p.paired * p.sxy - p.sx * p.sy)
                 / (sqrt(p.paired * p.sxx - p.sx * p.sx) * sqrt(p.paired * p.syy - p.sy * p.sy))
       END AS DOUBLE PRECISION) AS score_correlation,
       COALESCE(s.positives + s.negatives, 0) AS labelled, p.immature,
       CAST(s.challenger_auc AS DOUBLE PRECISION) AS challenger_auc,
       CAST(s.champion_auc AS DOUBLE PRECISION) AS champion_auc,
       CAST(s.challenger_auc - s.champion_auc AS DOUBLE PRECISION) AS auc_delta,
       CAST(s.auc_error_bound AS DOUBLE PRECISION) AS auc_error_bound
FROM pairs p
LEFT JOIN sides s ON s.challenger_id = p.challenger_id AND s.champion_id = p.champion_id
WHERE p.paired > 0
