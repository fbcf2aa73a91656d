-- Every score a model gave: the champion's (decisions with a score) and the challengers' (shadow_scores),
-- with the decision each made or would have made.
SELECT d.application_id, d.model_id, d.detector, d.score, d.decision, d.strategy_version, 'champion' AS role
FROM decisions d
WHERE d.model_id IS NOT NULL AND d.score IS NOT NULL
UNION ALL
SELECT s.application_id, s.model_id, s.detector, s.score, s.decision, s.strategy_version, 'challenger' AS role
FROM shadow_scores s
