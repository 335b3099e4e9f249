-- name: stages
-- The document funnel of one run (:run_id): rows in/out per stage in execution order.
SELECT stage, status, rows_in, rows_out, bytes, seconds, path
FROM stage_outputs
WHERE run_id = :run_id
ORDER BY started_at
