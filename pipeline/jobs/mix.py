"""Mix documents to target token shares per domain/source: epoch caps, cluster and quality balancing."""

import sys
from dataclasses import dataclass, field

import pandas as pd

from pipeline.errors import UsageError
from pipeline.stage import Stage, StageContext, StageResult


@dataclass
class MixConfig:
    # Columns whose values form a mixing group, joined with "/" ("domain" -> "science";
    # ["domain", "source"] -> "science/arxiv"). A missing column counts as the value "unknown".
    group_by: list[str] = field(default_factory=lambda: ["domain"])
    # Target token share per group; unlisted groups split what is left by size; empty = natural
    # shares (The Pile / DoReMi style weights are set per run, there is no universal default).
    weights: dict[str, float] = field(default_factory=dict)
    max_epochs: float = 4.0  # Muennighoff et al. 2023: up to ~4 epochs of repeats ≈ fresh data
    total_tokens: int = 0  # 0: the mixture is as large as the input (in estimated tokens)
    on_cap: str = "shrink"  # "shrink" keeps every share exact; "renormalize" keeps the total
    # > 0: a fixed UTF-8 bytes per token for every document (3.4: byte-level BPE 8k vocab on English web text,
    # docs/facts.md). 0: measured per language on a sample of the input (pipeline/mix/calibrate.py) with
    # `tokenizer_path` (the tokenizer tokenize will use) or a BPE of `calibration_vocab_size` trained on it.
    bytes_per_token: float = 0.0
    tokenizer_path: str = ""
    calibration_vocab_size: int = 8192  # tokenize.vocab_size's default
    calibration_docs_per_lang: int = 100
    diversity: bool = True  # balance semantic clusters when `semantic_cluster` is present
    cluster_temperature: float = 3.33  # p_c ∝ n_c^(1/T); mT5 (Xue et al. 2021) alpha = 0.3
    quality_weighting: bool = False  # prefer high `quality_score` when down-sampling
    quality_temperature: float = 1.0  # exp(z/T) on the within-group z-score


class Mix(Stage):
    name = "mix"
    config_class = MixConfig

    def run(self, ctx: StageContext) -> StageResult:
        from pyspark.sql import Window
        from pyspark.sql import functions as F
        from pyspark.sql.functions import pandas_udf

        from pipeline.mix.calibrate import Calibration, calibrate, lang_column, spark_calibrated_tokens
        from pipeline.mix.plan import plan_mix
        from pipeline.mix.weights import priority_keys, quality_doc_weights, uniform_from_hash

        cfg: MixConfig = ctx.settings
        if cfg.on_cap not in ("shrink", "renormalize"):
            raise UsageError(f"mix.on_cap must be 'shrink' or 'renormalize', got {cfg.on_cap!r}")
        docs = ctx.read_documents()
        docs = docs.drop(*[c for c in ("mix_group", "mix_copy", "mix_tokens") if c in docs.columns])
        cols = set(docs.columns)
        missing = [c for c in cfg.group_by if c not in cols]
        parts = [F.coalesce(F.col(c).cast("string"), F.lit("unknown")) if c in cols else F.lit("unknown")
                 for c in cfg.group_by] or [F.lit("all")]
        if cfg.bytes_per_token > 0:
            cal = Calibration(cfg.bytes_per_token, {}, 0, "fixed ratio (mix.bytes_per_token)")
        else:
            cal = calibrate(docs, ctx.seed, cfg.tokenizer_path, cfg.calibration_vocab_size,
                            cfg.calibration_docs_per_lang)
        docs = (docs.withColumn("mix_group", F.concat_ws("/", *parts))
                .withColumn("mix_tokens", spark_calibrated_tokens(F.col("text"), lang_column(cols), cal))
                .cache())
        tokens_in = {r["mix_group"]: int(r["t"]) for r in
                     docs.groupBy("mix_group").agg(F.sum("mix_tokens").alias("t")).collect()}
        if not tokens_in:
            return StageResult(documents=docs.withColumn("mix_copy", F.lit(0)).limit(0),
                               stats={"groups": {}, "tokens_in": 0, "tokens_out": 0})
        plans, info = plan_mix(tokens_in, cfg.weights, cfg.max_epochs, cfg.total_tokens, cfg.on_cap)

        weight_cols, stats_notes = [], {}
        if not cfg.diversity:
            stats_notes["diversity_balancing"] = "off: disabled in config"
        elif "semantic_cluster" not in cols:
            stats_notes["diversity_balancing"] = "off: no semantic_cluster column"
        else:
            docs, note = _with_cluster_weight(ctx.spark, docs, cfg.cluster_temperature)
            weight_cols.append("_w_cluster")
            stats_notes["diversity_balancing"] = note
        if not cfg.quality_weighting:
            stats_notes["quality_weighting"] = "off: disabled in config"
        elif "quality_score" not in cols:
            stats_notes["quality_weighting"] = "off: no quality_score column"
        else:
            g = Window.partitionBy("mix_group")
            std = F.stddev_pop("quality_score").over(g)
            z = F.when(std > 0, (F.col("quality_score") - F.avg("quality_score").over(g)) / std)
            docs = docs.withColumn("_z", z.otherwise(F.lit(0.0)).cast("double"))
            weight_cols.append("_z")
            stats_notes["quality_weighting"] = f"on: temperature {cfg.quality_temperature}"

        q_temp = cfg.quality_temperature

        @pandas_udf("double")
        def key_udf(h: pd.Series, w_cluster: pd.Series, z: pd.Series) -> pd.Series:
            w = w_cluster.astype("float64") * quality_doc_weights(z.astype("float64"), q_temp)
            return priority_keys(uniform_from_hash(h), w)

        w_cluster = F.col("_w_cluster") if "_w_cluster" in weight_cols else F.lit(1.0)
        z_col = F.col("_z") if "_z" in weight_cols else F.lit(0.0)
        docs = docs.withColumn("_key", key_udf(F.xxhash64(F.lit(ctx.seed), F.col("id")), w_cluster, z_col))

        plan_rows = [(p.group, int(p.epochs), float((p.epochs - int(p.epochs)) * p.tokens_in)) for p in plans]
        plan_df = ctx.spark.createDataFrame(plan_rows, "mix_group string, _full long, _frac_budget double")
        order = Window.partitionBy("mix_group").orderBy(F.col("_key").desc(), F.col("id"))
        running = F.sum("mix_tokens").over(order.rowsBetween(Window.unboundedPreceding, Window.currentRow))
        docs = (docs.join(F.broadcast(plan_df), "mix_group")
                .withColumn("_before", running - F.col("mix_tokens"))
                .withColumn("_copies", F.col("_full") + F.when(F.col("_before") < F.col("_frac_budget"), 1)
                            .otherwise(0)))
        keep = [c for c in docs.columns if not c.startswith("_")]
        mixed = (docs.filter(F.col("_copies") > 0)
                 .withColumn("mix_copy", F.explode(F.sequence(F.lit(0), F.col("_copies").cast("int") - 1)))
                 .select(*keep, "mix_copy").cache())
        tokens_out: dict[str, int] = {}
        source_out: dict[str, int] = {}
        for r in mixed.groupBy("mix_group", "source").agg(F.sum("mix_tokens").alias("t")).collect():
            tokens_out[r["mix_group"]] = tokens_out.get(r["mix_group"], 0) + int(r["t"])
            source_out[r["source"]] = source_out.get(r["source"], 0) + int(r["t"])
        stats = _report(plans, info, tokens_in, tokens_out)
        stats.update(stats_notes, missing_group_columns=missing, tokens_out_by_source=source_out,
                     bytes_per_token=cal.as_stats(), seed=ctx.seed)
        docs.unpersist()
        return StageResult(documents=mixed, stats=stats)


def _with_cluster_weight(spark, docs, temperature: float):
    from pyspark.sql import functions as F

    from pipeline.mix.weights import cluster_doc_weights

    docs = docs.withColumn("_cluster", F.coalesce(F.col("semantic_cluster").cast("long"), F.lit(-1)))
    sizes: dict[str, dict[int, int]] = {}
    for r in docs.groupBy("mix_group", "_cluster").count().collect():
        sizes.setdefault(r["mix_group"], {})[int(r["_cluster"])] = int(r["count"])
    rows = [(g, c, float(w)) for g, s in sizes.items() for c, w in cluster_doc_weights(s, temperature).items()]
    table = spark.createDataFrame(rows, "mix_group string, _cluster long, _w_cluster double")
    n_clusters = sum(len(s) for s in sizes.values())
    docs = docs.join(F.broadcast(table), ["mix_group", "_cluster"]).drop("_cluster")
    return docs, f"on: {n_clusters} clusters, temperature {temperature}"


def _report(plans, info, tokens_in: dict, tokens_out: dict) -> dict:
    total_in, total_out = sum(tokens_in.values()), sum(tokens_out.values())
    groups = {}
    for p in plans:
        out = tokens_out.get(p.group, 0)
        groups[p.group] = {
            "tokens_in": p.tokens_in, "tokens_out": out,
            "share_before": round(p.tokens_in / total_in, 6) if total_in else 0.0,
            "target_share": round(p.target_share, 6),
            "share_after": round(out / total_out, 6) if total_out else 0.0,
            "planned_epochs": round(p.epochs, 6),
            "effective_epochs": round(out / p.tokens_in, 6) if p.tokens_in else 0.0,
            "cap_bound": p.cap_bound,
        }
    return {"groups": groups, "tokens_in": total_in, "tokens_out": total_out, **info}


STAGE = Mix()

if __name__ == "__main__":
    from pipeline.cli import stage_main

    sys.exit(stage_main(STAGE.name))
