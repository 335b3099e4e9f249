-- name: report_drop_reasons
-- Why documents left the funnel of run :run_id: `dropped.<reason>` (filter, decontaminate, dedup) and
-- `rejected.<reason>` (records that never became documents: ingest, extract), from _stats.json.
-- Prefixes are compared with SUBSTR, not LIKE: '_' is a LIKE wildcard, and a percent sign would need
-- escaping for psycopg2 (pyformat parameters); none appears in these files.
SELECT s.stage,
       CASE WHEN SUBSTR(s.name, 1, 8) = 'dropped.' THEN 'dropped' ELSE 'rejected' END AS kind,
       CASE WHEN SUBSTR(s.name, 1, 8) = 'dropped.' THEN SUBSTR(s.name, 9) ELSE SUBSTR(s.name, 10) END AS reason,
       s.value AS documents
FROM stage_stats s
JOIN stage_outputs o ON o.run_id = s.run_id AND o.stage = s.stage
WHERE s.run_id = :run_id
  AND (SUBSTR(s.name, 1, 8) = 'dropped.' OR SUBSTR(s.name, 1, 9) = 'rejected.')
ORDER BY o.started_at, s.stage, s.value DESC, reason
