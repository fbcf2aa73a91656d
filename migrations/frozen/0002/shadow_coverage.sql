-- Per challenger (every model that has been in shadow mode), over its shadow window:
-- applications published to it, shadow scores stored, messages dead-lettered, what is still
-- pending (published - scored - dead-lettered) and how far behind it is (lag_seconds: between
-- the newest application published and the newest one it has scored).
SELECT model_id, detector, name, version, status, started_at, stopped_at,
       published, scored, dead_lettered,
       GREATEST(published - scored - dead_in_window, 0) AS pending,
       last_scored_at,
       COALESCE(SECONDS_BETWEEN(last_published_at, last_scored_received_at), 0) AS lag_seconds
FROM (
  SELECT m.id AS model_id, m.detector, m.name, m.version, m.status,
         m.shadow_started_at AS started_at, m.shadow_stopped_at AS stopped_at,
         (SELECT count(*) FROM applications a
           WHERE a.detector = m.detector AND a.received_at >= m.shadow_started_at
             AND (m.shadow_stopped_at IS NULL OR a.received_at < m.shadow_stopped_at)) AS published,
         (SELECT max(a.received_at) FROM applications a
           WHERE a.detector = m.detector AND a.received_at >= m.shadow_started_at
             AND (m.shadow_stopped_at IS NULL OR a.received_at < m.shadow_stopped_at)) AS last_published_at,
         (SELECT count(*) FROM shadow_scores s JOIN applications a ON a.application_id = s.application_id
           WHERE s.model_id = m.id AND a.received_at >= m.shadow_started_at
             AND (m.shadow_stopped_at IS NULL OR a.received_at < m.shadow_stopped_at)) AS scored,
         (SELECT max(a.received_at) FROM shadow_scores s JOIN applications a ON a.application_id = s.application_id
           WHERE s.model_id = m.id AND a.received_at >= m.shadow_started_at
             AND (m.shadow_stopped_at IS NULL OR a.received_at < m.shadow_stopped_at)) AS last_scored_received_at,
         (SELECT max(s.scored_at) FROM shadow_scores s WHERE s.model_id = m.id) AS last_scored_at,
         (SELECT count(*) FROM dead_letters d WHERE d.model_id = m.id) AS dead_lettered,
         (SELECT count(*) FROM dead_letters d JOIN applications a ON a.application_id = d.application_id
           WHERE d.model_id = m.id AND a.received_at >= m.shadow_started_at
             AND (m.shadow_stopped_at IS NULL OR a.received_at < m.shadow_stopped_at)) AS dead_in_window
  FROM models m
  WHERE m.shadow_started_at IS NOT NULL
) AS coverage
