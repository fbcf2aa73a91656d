-- Per model and day whose fine score bins changed since evidence_daily last kept them
-- (evidence_dirty_days), the figures model_daily_performance reads off the bins, computed now:
-- the fine bins of the score quantiles (nearest rank), and on labelled applications the ROC-AUC
-- sums (a fraud beats the legitimate applications of lower bins and ties those of its own).
-- `arbiter.store.evidence_repo.refresh_daily` copies these rows into evidence_daily.
WITH ranked AS (
  -- one pass over the fine bins in key order: how many applications up to each bin (quantiles), and
  -- how many legitimate ones below it and up to it (AUC: a fraud beats those below, ties those beside)
  SELECT b.model_id, b.detector, b.day, b.bin, b.label, b.applications,
         SUM(b.applications) OVER upto AS running,
         SUM(b.applications) OVER (PARTITION BY b.model_id, b.day) AS n,
         SUM(CASE WHEN b.label = 'legit' THEN b.applications ELSE 0 END) OVER below AS legit_below,
         SUM(CASE WHEN b.label = 'legit' THEN b.applications ELSE 0 END) OVER upto AS legit_upto
  FROM evidence_bins b
  JOIN evidence_dirty_days x ON x.model_id = b.model_id AND x.day = b.day
  WINDOW upto AS (PARTITION BY b.model_id, b.day ORDER BY b.bin RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
         below AS (PARTITION BY b.model_id, b.day ORDER BY b.bin RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
)
SELECT model_id, MIN(detector) AS detector, day,
       MIN(CASE WHEN running >= 0.50 * n THEN bin END) AS bin_p50,
       MIN(CASE WHEN running >= 0.90 * n THEN bin END) AS bin_p90,
       MIN(CASE WHEN running >= 0.99 * n THEN bin END) AS bin_p99,
       SUM(CASE WHEN label = 'fraud' THEN applications ELSE 0 END) AS positives,
       SUM(CASE WHEN label = 'legit' THEN applications ELSE 0 END) AS negatives,
       CAST(SUM(CASE WHEN label = 'fraud' THEN applications * (COALESCE(legit_below, 0) + legit_upto) / 2.0 ELSE 0 END)
            AS DOUBLE PRECISION) AS correct,
       CAST(SUM(CASE WHEN label = 'fraud' THEN 1.0 * applications * (legit_upto - COALESCE(legit_below, 0)) ELSE 0 END)
            AS DOUBLE PRECISION) AS tied
FROM ranked GROUP BY model_id, day
