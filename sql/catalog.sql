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
