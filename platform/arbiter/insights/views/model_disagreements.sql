-- Where a challenger and the champion it was paired with decided the same application differently
-- (evidence_pairs: how many, by the two decisions) and why (evidence_pair_reasons: the inputs each
-- side's explanation named on those applications, with their mean contribution). One row per pair,
-- day, pair of decisions, side ('challenger' or 'champion') and input.
WITH differing AS (
  SELECT challenger_id, champion_id, day, challenger_decision, champion_decision,
         SUM(applications) AS applications
  FROM evidence_pairs
  WHERE challenger_decision <> champion_decision AND SINCE(day)
  GROUP BY challenger_id, champion_id, day, challenger_decision, champion_decision
),
why AS (
  SELECT challenger_id, champion_id, MIN(detector) AS detector, day, challenger_decision, champion_decision,
         side, feature, SUM(applications) AS named, SUM(contribution) AS contribution
  FROM evidence_pair_reasons
  WHERE SINCE(day)
  GROUP BY challenger_id, champion_id, day, challenger_decision, champion_decision, side, feature
)
SELECT w.challenger_id, w.champion_id, w.detector, w.day, w.challenger_decision, w.champion_decision,
       d.applications AS disagreements, w.side, w.feature, w.named, w.contribution / w.named AS mean_contribution
FROM why w
LEFT JOIN differing d ON d.challenger_id = w.challenger_id AND d.champion_id = w.champion_id AND d.day = w.day
     AND d.challenger_decision = w.challenger_decision AND d.champion_decision = w.champion_decision
