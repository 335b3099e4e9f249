-- name: report_evaluations
-- Evaluated variants of the models trained on run :run_id (fp32 and quantized), newest model first.
SELECT model,
       variant,
       metric,
       token_perplexity,
       exact_match,
       exact_match_items,
       decode_tokens_per_s,
       peak_memory_bytes,
       model_bytes,
       recorded_at
FROM evaluations
WHERE run_id = :run_id
ORDER BY recorded_at DESC, model,
         CASE variant WHEN 'fp32' THEN 0 WHEN 'bf16' THEN 1 WHEN 'int8' THEN 2 WHEN 'int4-rtn' THEN 3
                      WHEN 'int4-gptq' THEN 4 ELSE 5 END
