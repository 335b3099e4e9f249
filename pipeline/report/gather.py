"""Everything a run report shows, read from the catalog (sql/queries/report_*.sql), the datasets'
Parquet (a sample of two columns, no Spark), the training run's metrics.jsonl and the evaluation.

A missing part is not an error: its section carries a note saying what is absent and why.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.report.evaluation import read_report

# (label, stages to try in order): the datasets the histograms are drawn from.
QUALITY_DATASETS = [("scored, before filter", ("domain", "quality")), ("kept by filter", ("filter",))]
LANGUAGE_DATASETS = [("normalized", ("normalize",)), ("curated (mix, unique docs)", ("mix", "dedup-semantic"))]
DEDUP_STAGES = ("dedup-exact", "dedup-minhash", "dedup-semantic")


@dataclass
class Sample:
    """Values of one column of a dataset: a sample of `sampled` rows out of `rows`."""

    stage: str
    path: str
    rows: int
    sampled: int
    values: list


@dataclass
class RunData:
    run_id: str
    run: dict | None = None  # the `runs` row
    funnel: list[dict] = field(default_factory=list)
    drop_reasons: list[dict] = field(default_factory=list)
    quality: dict[str, Sample] = field(default_factory=dict)  # label -> quality_score sample
    languages: dict[str, Sample] = field(default_factory=dict)  # label -> lang sample
    mix: list[dict] = field(default_factory=list)
    mix_totals: dict[str, float] = field(default_factory=dict)
    clusters: list[dict] = field(default_factory=list)
    synth: dict[str, dict[str, float]] = field(default_factory=dict)  # generator -> counter -> value
    tokens: list[dict] = field(default_factory=list)
    token_totals: dict[str, float] = field(default_factory=dict)
    training: list[dict] = field(default_factory=list)  # metrics.jsonl records
    training_dir: str | None = None
    evaluations: list[dict] = field(default_factory=list)
    eval_source: str | None = None
    notes: dict[str, str] = field(default_factory=dict)  # section -> why it is empty or partial


def rows_of(catalog, query: str, params: dict) -> list[dict]:
    cols, rows = catalog.query(query, params)
    return [dict(zip(cols, r, strict=True)) for r in rows]


def stats_of(catalog, run_id: str, stage: str) -> dict[str, float]:
    return {r["name"]: r["value"] for r in rows_of(catalog, "report_stage_stats", {"run_id": run_id, "stage": stage})}


def gather(catalog, run_id: str, data_root: str, training_dir: str | None = None,
           eval_report: str | None = None, max_sample_rows: int = 200_000, seed: int = 1234) -> RunData:
    data = RunData(run_id=run_id)
    p = {"run_id": run_id}
    runs = rows_of(catalog, "SELECT run_id, data_root, status, started_at, finished_at FROM runs "
                            "WHERE run_id = :run_id", p)
    data.run = runs[0] if runs else None
    data.funnel = rows_of(catalog, "report_funnel", p)
    if not data.funnel:
        data.notes["funnel"] = f"the catalog has no stages for run '{run_id}'"
    data.drop_reasons = rows_of(catalog, "report_drop_reasons", p)
    paths = {r["stage"]: r["path"] for r in data.funnel if r["status"] in ("succeeded", "skipped")}
    _histogram_samples(data, paths, max_sample_rows, seed)

    data.mix = rows_of(catalog, "report_mix", p)
    mix_stats = stats_of(catalog, run_id, "mix")
    data.mix_totals = {k: mix_stats[k] for k in ("tokens_in", "tokens_out", "max_epochs", "planned_tokens",
                                                 "requested_tokens") if k in mix_stats}
    if not data.mix:
        data.notes["mix"] = "no `mix` stage stats in the catalog for this run"
    data.clusters = rows_of(catalog, "report_cluster_sizes", p)
    if not data.clusters:
        ran = [s for s in DEDUP_STAGES if s in paths]
        data.notes["dedup"] = ("no duplicate clusters found" if ran
                               else "no dedup stage recorded for this run")
    for r in rows_of(catalog, "report_synth", p):
        data.synth.setdefault(r["generator"], {})[r["counter"]] = r["value"]
    if not data.synth:
        data.notes["synth"] = "no `synth` stage stats in the catalog for this run (skipped or not run)"
    data.tokens = rows_of(catalog, "report_tokens", p)
    tok_stats = stats_of(catalog, run_id, "tokenize")
    data.token_totals = {k: v for k, v in tok_stats.items()
                         if k in ("tokens.train", "tokens.val", "docs.train", "docs.val", "vocab_size", "shards",
                                  "sft_examples", "sft_tokens", "sft_loss_tokens", "rl_prompts")}
    if not data.tokens:
        data.notes["tokens"] = "no `tokenize` stage stats in the catalog for this run"

    run_dirs = [str(Path(r["path"]).parent) for r in data.funnel if r["stage"] == "tokenize" and "://" not in r["path"]]
    _training(data, training_dir or _default_training_dir([*run_dirs, str(Path(data_root) / run_id)]))
    _evaluations(data, catalog, eval_report)
    return data


def _default_training_dir(run_dirs: list[str]) -> str | None:
    """`<run dir>/pretrain` (the demo's), else its newest subfolder with metrics (the training DAG's
    default `<tokens>/../pretrain/<training run>`); the run dir is where the catalog put `tokens`."""
    for run_dir in run_dirs:
        base = Path(run_dir) / "pretrain"
        if (base / "metrics.jsonl").is_file():
            return str(base)
        runs = sorted(base.glob("*/metrics.jsonl"), key=lambda f: f.stat().st_mtime) if base.is_dir() else []
        if runs:
            return str(runs[-1].parent)
    existing = [str(Path(d) / "pretrain") for d in run_dirs if (Path(d) / "pretrain").is_dir()]
    return existing[0] if existing else None  # the note then says which folder lacks metrics


def _training(data: RunData, training_dir: str | None) -> None:
    if not training_dir:
        data.notes["training"] = "no training run found for this data run (pass --training-dir)"
        return
    data.training_dir = training_dir
    path = Path(training_dir) / "metrics.jsonl"
    if not path.is_file():
        data.notes["training"] = f"no metrics.jsonl in {training_dir}"
        return
    records = []
    for line in path.read_text().splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue  # a line cut short by a killed run
        if isinstance(rec, dict) and isinstance(rec.get("step"), int | float):
            records.append(rec)
    data.training = records
    if not any("loss" in r for r in records):
        data.notes["training"] = f"{path} holds no loss records yet"


def _evaluations(data: RunData, catalog, eval_report: str | None) -> None:
    if eval_report:
        data.eval_source = eval_report
        try:
            _, variants = read_report(eval_report)
        except Exception as e:  # an absent or broken report is shown, never fatal to the report
            data.notes["evaluation"] = f"evaluation report unusable: {e}"
            return
        data.evaluations = [v.as_dict() for v in variants]
    else:
        data.evaluations = rows_of(catalog, "report_evaluations", {"run_id": data.run_id})
        data.eval_source = "catalog table `evaluations`" if data.evaluations else None
    if not data.evaluations and "evaluation" not in data.notes:
        data.notes["evaluation"] = ("no evaluation recorded for this run "
                                    "(`python -m pipeline catalog record-eval`, or pass --eval-report)")


def _histogram_samples(data: RunData, paths: dict[str, str], max_rows: int, seed: int) -> None:
    for label, stages in QUALITY_DATASETS:
        sample = _first_sample(paths, stages, "quality_score", max_rows, seed)
        if sample is not None:
            data.quality[label] = sample
    if not data.quality:
        data.notes["quality"] = "no dataset of this run has a quality_score column"
    for label, stages in LANGUAGE_DATASETS:
        sample = _first_sample(paths, stages, "lang", max_rows, seed)
        if sample is not None:
            data.languages[label] = sample
    if not data.languages:
        data.notes["language"] = "no dataset of this run has a lang column"


def _first_sample(paths: dict[str, str], stages: tuple[str, ...], column: str, max_rows: int,
                  seed: int) -> Sample | None:
    for stage in stages:
        path = paths.get(stage)
        if path and "://" not in path and Path(path).is_dir():
            sample = sample_column(path, column, max_rows, seed)
            if sample is not None:
                sample.stage = stage
                return sample
    return None


def sample_column(path: str, column: str, max_rows: int, seed: int = 1234) -> Sample | None:
    """Up to `max_rows` values of one column: whole Parquet files in a seeded random order, then a
    seeded row sample; only that column is read. `mix` repeats are counted once (mix_copy == 0)."""
    import numpy as np
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    dataset = ds.dataset(path, format="parquet")  # ignores `_rejected/`, `_SUCCESS`, `.crc` files
    names = dataset.schema.names
    if column not in names:
        return None
    only_first = pc.field("mix_copy") == 0 if "mix_copy" in names else None
    total = dataset.count_rows(filter=only_first)
    rng = np.random.default_rng(seed)
    fragments = list(dataset.get_fragments())
    values: list = []
    for i in rng.permutation(len(fragments)):
        table = fragments[i].to_table(columns=[column], filter=only_first)
        values.extend(table.column(column).to_pylist())
        if len(values) >= max_rows:
            break
    if len(values) > max_rows:
        keep = np.sort(rng.choice(len(values), size=max_rows, replace=False))
        values = [values[k] for k in keep]
    return Sample(stage="", path=path, rows=int(total), sampled=len(values), values=values)


def language_counts(sample: Sample) -> Counter:
    return Counter("unknown" if v in (None, "") else str(v) for v in sample.values)
