-- name: report_mix
-- Domain mix of run :run_id before and after `mix`: tokens and shares per group, effective epochs
-- (tokens out / tokens in; above 1 means repeated data). Groups are found by their
-- `groups.<group>.tokens_in` stat (17 = length of 'groups.' + '.tokens_in').
WITH g AS (
    SELECT SUBSTR(name, 8, LENGTH(name) - 17) AS mix_group
    FROM stage_stats
    WHERE run_id = :run_id AND stage = 'mix'
      AND SUBSTR(name, 1, 7) = 'groups.' AND SUBSTR(name, LENGTH(name) - 9) = '.tokens_in'
)
SELECT g.mix_group,
       MAX(CASE WHEN s.name = 'groups.' || g.mix_group || '.tokens_in' THEN s.value END) AS tokens_in,
       MAX(CASE WHEN s.name = 'groups.' || g.mix_group || '.tokens_out' THEN s.value END) AS tokens_out,
       MAX(CASE WHEN s.name = 'groups.' || g.mix_group || '.share_before' THEN s.value END) AS share_before,
       MAX(CASE WHEN s.name = 'groups.' || g.mix_group || '.target_share' THEN s.value END) AS target_share,
       MAX(CASE WHEN s.name = 'groups.' || g.mix_group || '.share_after' THEN s.value END) AS share_after,
       MAX(CASE WHEN s.name = 'groups.' || g.mix_group || '.planned_epochs' THEN s.value END) AS planned_epochs,
       MAX(CASE WHEN s.name = 'groups.' || g.mix_group || '.effective_epochs' THEN s.value END) AS effective_epochs,
       MAX(CASE WHEN s.name = 'groups.' || g.mix_group || '.cap_bound' THEN s.value END) AS cap_bound
FROM g
JOIN stage_stats s ON s.run_id = :run_id AND s.stage = 'mix' AND SUBSTR(s.name, 1, 7) = 'groups.'
GROUP BY g.mix_group
ORDER BY g.mix_group
