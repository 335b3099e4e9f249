-- name: report_funnel
-- The document funnel of one run (:run_id): rows in/out and dropped per stage, in execution order.
-- sqlite3: .parameter set :run_id 'demo'    psql: \set run_id '''demo'''  (then :run_id works as is)
SELECT stage,
       status,
       rows_in,
       rows_out,
       CASE WHEN rows_in IS NULL OR rows_out IS NULL THEN NULL ELSE rows_in - rows_out END AS dropped,
       seconds,
       path
FROM stage_outputs
WHERE run_id = :run_id
ORDER BY started_at, stage
