-- Score histograms, read from the evidence aggregates: per model, per day of arrival (UTC), twenty
-- bins of width 0.05 over [0, 1] (a score of exactly 1 falls in the last bin), with counts, the
-- share of the day's volume, and how many of each bin were labelled fraud or not (any maturity:
-- a histogram, not a metric). The fine bins of evidence_bins never straddle two of these.
WITH binned AS (
  SELECT b.model_id, b.detector, b.day, e.coarse AS bin, b.label, b.applications
  FROM evidence_bins b
  JOIN evidence_bin_edges e ON e.bin = b.bin
)
SELECT model_id, MIN(detector) AS detector, day, bin,
       CAST(bin / 20.0 AS DOUBLE PRECISION) AS bin_low, CAST((bin + 1) / 20.0 AS DOUBLE PRECISION) AS bin_high,
       SUM(applications) AS applications,
       CAST(1.0 * SUM(applications) / SUM(SUM(applications)) OVER (PARTITION BY model_id, day)
            AS DOUBLE PRECISION) AS share,
       SUM(CASE WHEN label = 'fraud' THEN applications ELSE 0 END) AS frauds,
       SUM(CASE WHEN label = 'legit' THEN applications ELSE 0 END) AS non_frauds
FROM binned
GROUP BY model_id, day, bin
HAVING SUM(applications) > 0
