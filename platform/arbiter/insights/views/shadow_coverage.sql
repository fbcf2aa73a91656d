-- Per challenger (every model that has been in shadow mode), over its shadow window:
-- applications published to it, shadow scores stored, messages dead-lettered, what is still
-- pending (published - scored - dead-lettered) and how far behind it is (lag_seconds: between
-- the newest application published and the newest one it has scored).
-- Counted from the hourly aggregates (evidence_arrivals, evidence_shadow_hours): every hour the
-- window touches, less the applications of its first and last hour that fell outside the window
-- (at most an hour of rows each, read through the (detector, received_at) index); the newest
-- application scored likewise, from the raw rows of the hour the window stopped in.
SELECT model_id, detector, name, version, status, started_at, stopped_at,
       published, scored, dead_lettered,
       GREATEST(published - scored - dead_in_window, 0) AS pending,
       last_scored_at,
       COALESCE(SECONDS_BETWEEN(last_published_at, last_scored_received_at), 0) AS lag_seconds
FROM (
  SELECT m.id AS model_id, m.detector, m.name, m.version, m.status,
         m.shadow_started_at AS started_at, m.shadow_stopped_at AS stopped_at,
         COALESCE((SELECT SUM(e.applications) FROM evidence_arrivals e
                    WHERE e.detector = m.detector AND e.hour >= HOUR_OF(m.shadow_started_at)
                      AND (m.shadow_stopped_at IS NULL OR e.hour <= HOUR_OF(m.shadow_stopped_at))), 0)
         - (SELECT count(*) FROM applications a
             WHERE a.detector = m.detector AND a.received_at >= HOUR_OF(m.shadow_started_at)
               AND a.received_at < m.shadow_started_at)
         - (SELECT count(*) FROM applications a
             WHERE a.detector = m.detector AND a.received_at >= m.shadow_stopped_at
               AND a.received_at < NEXT_HOUR(m.shadow_stopped_at)) AS published,
         (SELECT max(a.received_at) FROM applications a
           WHERE a.detector = m.detector AND a.received_at >= m.shadow_started_at
             AND (m.shadow_stopped_at IS NULL OR a.received_at < m.shadow_stopped_at)) AS last_published_at,
         COALESCE((SELECT SUM(h.scored) FROM evidence_shadow_hours h
                    WHERE h.model_id = m.id AND h.hour >= HOUR_OF(m.shadow_started_at)
                      AND (m.shadow_stopped_at IS NULL OR h.hour <= HOUR_OF(m.shadow_stopped_at))), 0)
         - (SELECT count(*) FROM applications a
             JOIN shadow_scores s ON s.application_id = a.application_id AND s.model_id = m.id
             WHERE a.detector = m.detector AND a.received_at >= HOUR_OF(m.shadow_started_at)
               AND a.received_at < m.shadow_started_at)
         - (SELECT count(*) FROM applications a
             JOIN shadow_scores s ON s.application_id = a.application_id AND s.model_id = m.id
             WHERE a.detector = m.detector AND a.received_at >= m.shadow_stopped_at
               AND a.received_at < NEXT_HOUR(m.shadow_stopped_at)) AS scored,
         COALESCE((SELECT max(a.received_at) FROM applications a
                    JOIN shadow_scores s ON s.application_id = a.application_id AND s.model_id = m.id
                    WHERE a.detector = m.detector AND a.received_at >= HOUR_OF(m.shadow_stopped_at)
                      AND a.received_at >= m.shadow_started_at AND a.received_at < m.shadow_stopped_at),
                  (SELECT max(h.last_received_at) FROM evidence_shadow_hours h
                    WHERE h.model_id = m.id AND h.hour >= HOUR_OF(m.shadow_started_at)
                      AND h.last_received_at >= m.shadow_started_at
                      AND (m.shadow_stopped_at IS NULL OR h.hour < HOUR_OF(m.shadow_stopped_at))))
           AS last_scored_received_at,
         (SELECT max(h.last_scored_at) FROM evidence_shadow_hours h WHERE h.model_id = m.id) AS last_scored_at,
         (SELECT count(*) FROM dead_letters d WHERE d.model_id = m.id) AS dead_lettered,
         (SELECT count(*) FROM dead_letters d JOIN applications a ON a.application_id = d.application_id
           WHERE d.model_id = m.id AND a.received_at >= m.shadow_started_at
             AND (m.shadow_stopped_at IS NULL OR a.received_at < m.shadow_stopped_at)) AS dead_in_window
  FROM models m
  WHERE m.shadow_started_at IS NOT NULL
) AS coverage
