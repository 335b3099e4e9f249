"""A demo-like run without Spark: catalog rows and `_stats.json` shaped like the real stages' output,
small Parquet datasets, a training metrics.jsonl and an evaluation report.json (trainer/eval/evaluate.py's
contract). Numbers are chosen so that every section has something to show and to check.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

RUN = "demo"
LANGS = ["en"] * 7 + ["de", "fr", "zh"]

# stage -> (rows_in, rows_out, stats as the stage writes them to _stats.json)
STAGES: list[tuple[str, int | None, int, dict]] = [
    ("ingest-jsonl", 40, 38, {"rejected": {"invalid_json": 2}}),
    ("extract", 30, 25, {"rejected": {"not_html": 3, "empty_text": 2}, "lang": {"en": 20, "de": 5}}),
    ("normalize", 63, 63, {}),
    ("score-rules", 63, 63, {}),
    ("quality", 63, 63, {"mean": 0.52}),
    ("domain", 63, 63, {"domains": {"science": 30, "technology": 20, "unknown": 13}}),
    ("filter", 63, 40, {"dropped": {"gopher_word_count": 12, "quality_below_cut": 8, "c4_lorem_ipsum": 3,
                                    "domain_not_kept": 0},
                        "failed": {"gopher_word_count": 14}, "dropped_total": 23}),
    ("decontaminate", 40, 38, {"dropped": {"decontaminate_13gram": 2}}),
    ("pii", 38, 38, {"redacted": {"email": 4}}),
    ("dedup-exact", 38, 35, {"duplicates": 3, "clusters": 2, "cluster_size_histogram": {"2": 1, "3-4": 1},
                             "dropped": {"exact_duplicate": 3, "empty_after_line_dedup": 0}}),
    ("dedup-minhash", 35, 33, {"duplicates": 2, "clusters": 2, "cluster_size_histogram": {"2": 2},
                               "dropped": {"minhash_duplicate": 2}}),
    ("dedup-semantic", 33, 32, {"duplicates": 1, "cluster_size_histogram": {"2": 1},
                                "dropped": {"semantic_duplicate": 1}}),
    ("mix", 32, 45, {
        "tokens_in": 30000, "tokens_out": 42000, "max_epochs": 4.0, "planned_tokens": 42000,
        "groups": {
            "science": {"tokens_in": 15000, "tokens_out": 15000, "share_before": 0.5, "target_share": 0.357143,
                        "share_after": 0.357143, "planned_epochs": 1.0, "effective_epochs": 1.0, "cap_bound": False},
            "technology": {"tokens_in": 9000, "tokens_out": 21000, "share_before": 0.3, "target_share": 0.5,
                           "share_after": 0.5, "planned_epochs": 2.333333, "effective_epochs": 2.333333,
                           "cap_bound": False},
            "unknown": {"tokens_in": 6000, "tokens_out": 6000, "share_before": 0.2, "target_share": 0.142857,
                        "share_after": 0.142857, "planned_epochs": 1.0, "effective_epochs": 1.0,
                        "cap_bound": False}}}),
    ("synth", 45, 12, {"backend": "template", "rows_out": 12, "generators": {
        "short_pretrain": {"records": 4, "kept": 4},
        "short_sft": {"records": 5, "rejected_malformed": 1, "kept": 5},
        "long_pretrain": {"records": 3, "groups": 3, "kept": 3}}}),
    ("tokenize", 49, 47, {"docs": {"train": 45, "val": 2}, "vocab_size": 4096, "shards": 2,
                          "tokens": {"train": 40500, "val": 1500},
                          "tokens_by_domain": {"train": {"science": 14000, "technology": 20500, "unknown": 6000},
                                               "val": {"science": 1000, "technology": 500}},
                          "sft_examples": 5, "sft_tokens": 900, "rl_prompts": 0}),
]
FOLDERS = {"tokenize": "tokens"}
LOSSES = [(10, 8.2), (20, 7.1), (30, 6.4), (40, 5.9), (50, 5.6)]
VAL = [(25, 6.9), (50, 5.8)]
EVAL = {"metric": "token_perplexity", "model": "/models/demo/hf", "tokens_dir": "/data/demo/tokens",
        "variants": [
            {"variant": "int4-gptq", "token_perplexity": 312.5, "exact_match": 0.25, "exact_match_items": 4,
             "decode_tokens_per_s": 210.0, "peak_memory_bytes": None, "model_bytes": 190_000},
            {"variant": "fp32", "token_perplexity": 301.25, "exact_match": 0.5, "exact_match_items": 4,
             "decode_tokens_per_s": 180.5, "peak_memory_bytes": 12_000_000, "model_bytes": 1_200_000},
            {"variant": "int8", "token_perplexity": 302.0, "exact_match": None, "exact_match_items": 0,
             "decode_tokens_per_s": 150.0, "peak_memory_bytes": 8_000_000, "model_bytes": 320_000}]}


def _docs(stage: str, n: int, seed: int) -> pa.Table:
    rng = random.Random(seed)
    cols = {"id": [f"{stage}-{i}" for i in range(n)], "text": ["text"] * n, "source": ["web"] * n,
            "lang": [LANGS[i % len(LANGS)] for i in range(n)]}
    if stage in ("quality", "domain", "filter", "mix"):
        lo = 0.4 if stage in ("filter", "mix") else 0.0
        cols["quality_score"] = [round(lo + (1 - lo) * rng.random(), 4) for _ in range(n)]
    if stage == "mix":  # 32 unique documents, 13 repeats of technology documents
        cols["mix_copy"] = [0] * 32 + [1] * (n - 32)
    return pa.table(cols)


def _write_dataset(path: Path, table: pa.Table, stats: dict, files: int = 2) -> None:
    path.mkdir(parents=True)
    step = -(-table.num_rows // files)
    for i in range(files):
        pq.write_table(table.slice(i * step, step), path / f"part-{i:05d}.parquet")
    (path / "_SUCCESS").write_text("")
    (path / "_stats.json").write_text(json.dumps(stats))
    rejected = path / "_rejected"  # side outputs must not be read as the dataset
    rejected.mkdir()
    pq.write_table(pa.table({"lang": ["xx"] * 50, "quality_score": [0.0] * 50}), rejected / "part-0.parquet")


def build_demo_run(catalog, data_root: Path, monkeypatch) -> dict:
    """Record the run in `catalog` through its own API; returns paths of the training/eval outputs."""
    import pipeline.catalog as catalog_module

    ticks = iter(range(100_000))  # distinct, increasing started_at: the funnel is ordered by it

    def fake_now() -> str:
        t = next(ticks)
        return f"2026-11-27T{10 + t // 3600:02d}:{t // 60 % 60:02d}:{t % 60:02d}+00:00"

    monkeypatch.setattr(catalog_module, "now", fake_now)
    catalog.init()
    catalog.start_run(RUN, str(data_root), "{}")
    run_dir = data_root / RUN
    for i, (stage, rows_in, rows_out, extra) in enumerate(STAGES):
        out = run_dir / FOLDERS.get(stage, stage)
        stats = {"stage": stage, "rows_in": rows_in, "rows_out": rows_out, "seconds": 1.5 + i, **extra}
        if stage in ("normalize", "quality", "domain", "filter", "mix"):
            _write_dataset(out, _docs(stage, rows_out, i), stats)
        else:
            out.mkdir(parents=True)
            (out / "_stats.json").write_text(json.dumps(stats))
        catalog.start_stage(RUN, stage, str(out))
        catalog.finish_stage(RUN, stage, status="succeeded", rows_in=rows_in, rows_out=rows_out, nbytes=1000,
                             seconds=1.5 + i, stats=stats)
    catalog.finish_run(RUN, "succeeded")

    pretrain = run_dir / "pretrain"
    pretrain.mkdir()
    lines = [{"step": s, "loss": v, "lr": 1e-3, "tokens": s * 512, "tokens_per_s": 900.0, "mfu": None}
             for s, v in LOSSES] + [{"step": s, "val_loss": v} for s, v in VAL]
    lines.sort(key=lambda r: r["step"])
    (pretrain / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    eval_dir = pretrain / "eval"
    eval_dir.mkdir()
    (eval_dir / "report.json").write_text(json.dumps(EVAL))
    return {"run_dir": run_dir, "training_dir": pretrain, "eval_report": eval_dir / "report.json"}


def stats_for(stage: str) -> dict:
    return next(extra for name, _, _, extra in STAGES if name == stage)
