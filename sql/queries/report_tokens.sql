-- name: report_tokens
-- Tokens written to the training shards of run :run_id by `tokenize`, per split and domain
-- (`tokens_by_domain.<split>.<domain>`, one EOS per document included).
SELECT CASE WHEN SUBSTR(name, 1, 23) = 'tokens_by_domain.train.' THEN 'train' ELSE 'val' END AS split,
       CASE WHEN SUBSTR(name, 1, 23) = 'tokens_by_domain.train.' THEN SUBSTR(name, 24)
            ELSE SUBSTR(name, 22) END AS domain,
       value AS tokens
FROM stage_stats
WHERE run_id = :run_id AND stage = 'tokenize'
  AND (SUBSTR(name, 1, 23) = 'tokens_by_domain.train.' OR SUBSTR(name, 1, 21) = 'tokens_by_domain.val.')
ORDER BY CASE WHEN SUBSTR(name, 1, 23) = 'tokens_by_domain.train.' THEN 0 ELSE 1 END, domain
