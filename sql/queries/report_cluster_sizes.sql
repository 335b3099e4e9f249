-- name: report_cluster_sizes
-- Duplicate clusters by size bin (2, 3-4, 5-8, ...) per dedup stage of run :run_id.
SELECT s.stage,
       SUBSTR(s.name, 24) AS size_bin,
       s.value AS clusters
FROM stage_stats s
JOIN stage_outputs o ON o.run_id = s.run_id AND o.stage = s.stage
WHERE s.run_id = :run_id
  AND SUBSTR(s.name, 1, 23) = 'cluster_size_histogram.'
ORDER BY o.started_at, s.stage, s.name
