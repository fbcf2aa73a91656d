-- Per model, day and decision, the inputs its explanations named (evidence_reasons: counted as
-- each decision or shadow score is stored): how many decisions named each input among their top
-- reasons, how many named it first, and its mean contribution when named. A rule's decision has
-- no model reasons and is not counted. decisions: the model's decisions of that day and kind;
-- share_named: the share of them that named the input.
WITH named AS (
  SELECT model_id, MIN(detector) AS detector, day, decision, feature, SUM(applications) AS applications,
         SUM(first) AS named_first, SUM(contribution) AS contribution
  FROM evidence_reasons
  WHERE SINCE(day)
  GROUP BY model_id, day, decision, feature
),
decided AS (
  SELECT model_id, day, decision, SUM(applications) AS decisions
  FROM evidence_decisions
  WHERE SINCE(day)
  GROUP BY model_id, day, decision
)
SELECT n.model_id, n.detector, n.day, n.decision, n.feature, n.applications, n.named_first,
       n.contribution / n.applications AS mean_contribution, d.decisions,
       CASE WHEN d.decisions > 0 THEN 1.0 * n.applications / d.decisions END AS share_named
FROM named n
LEFT JOIN decided d ON d.model_id = n.model_id AND d.day = n.day AND d.decision = n.decision
