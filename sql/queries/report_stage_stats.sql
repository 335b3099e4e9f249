-- name: report_stage_stats
-- Every numeric stat one stage (:stage) of run :run_id recorded (flattened _stats.json keys).
SELECT name, value
FROM stage_stats
WHERE run_id = :run_id AND stage = :stage
ORDER BY name
