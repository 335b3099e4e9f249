-- name: report_synth
-- Synthetic data of run :run_id per generator: every counter of `generators.<name>.<counter>`
-- (records kept, rejections, LLM requests). Generators are found by their `.kept` counter.
WITH g AS (
    SELECT SUBSTR(name, 12, LENGTH(name) - 16) AS generator
    FROM stage_stats
    WHERE run_id = :run_id AND stage = 'synth'
      AND SUBSTR(name, 1, 11) = 'generators.' AND SUBSTR(name, LENGTH(name) - 4) = '.kept'
)
SELECT g.generator,
       SUBSTR(s.name, LENGTH(g.generator) + 13) AS counter,
       s.value AS value
FROM g
JOIN stage_stats s ON s.run_id = :run_id AND s.stage = 'synth'
 AND SUBSTR(s.name, 1, LENGTH(g.generator) + 12) = 'generators.' || g.generator || '.'
ORDER BY g.generator, counter
