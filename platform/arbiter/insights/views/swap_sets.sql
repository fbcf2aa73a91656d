-- Each challenger against the champion on the same applications (evidence_pairs): the swap sets,
-- the applications the two would decide differently. swap = 'challenger_declines' (the champion
-- approved, the challenger would decline) or 'challenger_approves' (the champion declined, the
-- challenger would approve). For each: applications, and on labelled applications of mature days
-- (view_settings.label_maturity_days) the frauds, their amount and the legitimate ones (false
-- declines of whichever model declines them), plus cost_difference: the challenger's cost minus
-- the champion's on those applications under view_settings' costs (a fraud approved costs
-- missed_fraud_cost, a legitimate application declined false_decline_cost); negative favours the
-- challenger. unlabelled: applications without a mature label (none yet, or too recent).
WITH settings AS (
  SELECT label_maturity_days, missed_fraud_cost, false_decline_cost FROM view_settings WHERE id = 1
),
swaps AS (
  SELECT challenger_id, champion_id, MIN(detector) AS detector,
         CASE WHEN challenger_decision = 'decline' THEN 'challenger_declines' ELSE 'challenger_approves' END AS swap,
         SUM(applications) AS applications,
         SUM(CASE WHEN mature = 1 AND label = 'fraud' THEN applications ELSE 0 END) AS frauds,
         SUM(CASE WHEN mature = 1 AND label = 'fraud' THEN amount ELSE 0 END) AS fraud_amount,
         SUM(CASE WHEN mature = 1 AND label = 'legit' THEN applications ELSE 0 END) AS legitimate,
         SUM(CASE WHEN mature = 1 THEN 0 ELSE applications END) AS unlabelled
  FROM (
    SELECT p.*, CASE WHEN p.day <= DAY_OF(MATURE_BEFORE((SELECT label_maturity_days FROM settings)))
                          AND p.label <> 'none' THEN 1 ELSE 0 END AS mature
    FROM evidence_pairs p
    WHERE ((p.champion_decision = 'approve' AND p.challenger_decision = 'decline')
           OR (p.champion_decision = 'decline' AND p.challenger_decision = 'approve'))
      AND SINCE(p.day)
  ) q
  GROUP BY challenger_id, champion_id,
           CASE WHEN challenger_decision = 'decline' THEN 'challenger_declines' ELSE 'challenger_approves' END
)
SELECT s.challenger_id, s.champion_id, s.detector, s.swap, s.applications, s.frauds + s.legitimate AS labelled,
       s.frauds, CAST(s.fraud_amount AS DOUBLE PRECISION) AS fraud_amount, s.legitimate AS false_declines,
       s.unlabelled,
       CAST(CASE WHEN s.swap = 'challenger_declines'
                 THEN s.legitimate * st.false_decline_cost - s.frauds * st.missed_fraud_cost
                 ELSE s.frauds * st.missed_fraud_cost - s.legitimate * st.false_decline_cost
            END AS DOUBLE PRECISION) AS cost_difference
FROM swaps s CROSS JOIN settings st
