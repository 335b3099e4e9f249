-- Catalog of pipeline runs. The same statements run on SQLite (embedded default) and PostgreSQL
-- (compose): only portable types, text keys, and INSERT ... ON CONFLICT upserts.

CREATE TABLE IF NOT EXISTS runs (
    run_id       TEXT PRIMARY KEY,
    data_root    TEXT NOT NULL,
    status       TEXT NOT NULL,          -- running | succeeded | failed
    started_at   TEXT NOT NULL,          -- ISO-8601 UTC
    finished_at  TEXT,
    config_json  TEXT
);

CREATE TABLE IF NOT EXISTS stage_outputs (
    run_id       TEXT NOT NULL,
    stage        TEXT NOT NULL,
    path         TEXT NOT NULL,
    status       TEXT NOT NULL,          -- running | succeeded | failed | skipped
    rows_in      BIGINT,
    rows_out     BIGINT,
    bytes        BIGINT,
    seconds      DOUBLE PRECISION,
    started_at   TEXT NOT NULL,
    finished_at  TEXT,
    error        TEXT,
    PRIMARY KEY (run_id, stage)
);

CREATE TABLE IF NOT EXISTS stage_stats (
    run_id       TEXT NOT NULL,
    stage        TEXT NOT NULL,
    name         TEXT NOT NULL,          -- flattened key of _stats.json, e.g. dropped.gopher_word_count
    value        DOUBLE PRECISION,
    PRIMARY KEY (run_id, stage, name)
);

CREATE INDEX IF NOT EXISTS stage_outputs_by_stage ON stage_outputs (stage);

-- Evaluation of a trained model's variants (fp32, int8, int4-rtn, int4-gptq), one row per variant,
-- from `<eval_dir>/report.json` (trainer/evaluate.py) via `python -m pipeline catalog record-eval`.
-- run_id is the data run whose tokens trained the model; several models per run are kept apart.
CREATE TABLE IF NOT EXISTS evaluations (
    run_id              TEXT NOT NULL,
    model               TEXT NOT NULL,
    variant             TEXT NOT NULL,
    metric              TEXT NOT NULL,   -- what token_perplexity measures, e.g. token_perplexity
    token_perplexity    DOUBLE PRECISION,
    exact_match         DOUBLE PRECISION,
    exact_match_items   BIGINT,
    decode_tokens_per_s DOUBLE PRECISION,
    peak_memory_bytes   BIGINT,
    model_bytes         BIGINT,
    tokens_dir          TEXT,
    report_path         TEXT,
    recorded_at         TEXT NOT NULL,
    PRIMARY KEY (run_id, model, variant)
);

-- Runs of the experiments DAG (dags/llm_experiments.py), one row per trained model: a scaling sweep's
-- runs (kind sweep), its compute-optimal check (kind check, with the fit's predicted loss) and data
-- ablations (kind ablation: one data run as variant, one seed). experiment_id is the DAG run.
-- loss: the final held-out loss of the run's val split (nats per token of its tokenizer);
-- heldout_bpb: bits per byte on the fixed real-text set every variant is scored on.
CREATE TABLE IF NOT EXISTS experiments (
    experiment_id   TEXT NOT NULL,
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL,       -- sweep | check | ablation
    data_run_id     TEXT,
    variant         TEXT,
    seed            BIGINT,
    params          BIGINT,              -- non-embedding parameters N
    tokens          BIGINT,              -- training tokens D
    flops           DOUBLE PRECISION,    -- 6ND
    loss            DOUBLE PRECISION,
    predicted_loss  DOUBLE PRECISION,
    heldout_bpb     DOUBLE PRECISION,
    run_dir         TEXT,
    recorded_at     TEXT NOT NULL,
    PRIMARY KEY (experiment_id, name)
);
