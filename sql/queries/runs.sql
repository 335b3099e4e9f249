-- name: runs
-- One line per run: status, stage count and total seconds.
SELECT r.run_id,
       r.status,
       r.started_at,
       r.finished_at,
       COUNT(s.stage) AS stages,
       COALESCE(SUM(s.seconds), 0) AS seconds
FROM runs r
LEFT JOIN stage_outputs s ON s.run_id = r.run_id
GROUP BY r.run_id, r.status, r.started_at, r.finished_at
ORDER BY r.started_at DESC
