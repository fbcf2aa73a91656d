-- Score histograms: per model, per day of arrival (UTC), twenty bins of width 0.05 over [0, 1]
-- (a score of exactly 1 falls in the last bin), with counts, the share of the day's volume, and
-- how many of each bin were labelled fraud or not (any maturity: a histogram, not a metric).
WITH binned AS (
  SELECT s.model_id, s.detector, DAY_OF(a.received_at) AS day,
         CASE WHEN s.score >= 1 THEN 19 ELSE CAST(FLOOR(s.score * 20) AS INTEGER) END AS bin, o.is_fraud
  FROM model_scores s
  JOIN applications a ON a.application_id = s.application_id
  LEFT JOIN outcomes o ON o.application_id = s.application_id
)
SELECT model_id, MIN(detector) AS detector, day, bin,
       CAST(bin / 20.0 AS DOUBLE PRECISION) AS bin_low, CAST((bin + 1) / 20.0 AS DOUBLE PRECISION) AS bin_high,
       COUNT(*) AS applications,
       CAST(1.0 * COUNT(*) / SUM(COUNT(*)) OVER (PARTITION BY model_id, day) AS DOUBLE PRECISION) AS share,
       SUM(CASE WHEN is_fraud THEN 1 ELSE 0 END) AS frauds,
       SUM(CASE WHEN NOT is_fraud THEN 1 ELSE 0 END) AS non_frauds
FROM binned
GROUP BY model_id, day, bin
