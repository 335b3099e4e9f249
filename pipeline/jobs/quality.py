"""Score every document with the trained fastText quality model (quality_score = P(reference-like))."""

import sys
from dataclasses import dataclass

from pipeline.stage import Stage, StageContext, StageResult


@dataclass
class QualityConfig:
    model: str = ""  # the train-quality stage's OUT/model.bin (required)
    label: str = "hq"  # the positive label train-quality writes
    max_tokens: int = 2000  # same truncation as training (FastTextSettings.max_tokens)


class Quality(Stage):
    name = "quality"
    config_class = QualityConfig

    def run(self, ctx: StageContext) -> StageResult:
        from pyspark.sql import functions as F

        from pipeline.quality.artifacts import load_shipped, ship_model
        from pipeline.quality.fasttext_model import probability_of
        from pipeline.rejects import GUARD_SCHEMA, guard_batches, split_guarded

        cfg: QualityConfig = ctx.settings
        shipped = ship_model(ctx.spark, cfg.model)
        docs = ctx.read_documents()
        docs = docs.drop(*[c for c in ("quality_score",) if c in docs.columns])
        schema = ", ".join([f"`{f.name}` {f.dataType.simpleString()}" for f in docs.schema.fields]
                           + ["`quality_score` double"])
        label, max_tokens = cfg.label, cfg.max_tokens

        def score(pdf, model):
            pdf = pdf.copy()
            pdf["quality_score"] = probability_of(model, pdf["text"].fillna("").tolist(), label, max_tokens)
            pdf["quality_score"] = pdf["quality_score"].astype("float64")
            return pdf

        guarded = docs.mapInPandas(guard_batches(score, [*docs.columns, "quality_score"], lambda: load_shipped(shipped)),
                                   f"{schema}, {GUARD_SCHEMA}").cache()
        scored, rejected, reasons = split_guarded(guarded)
        summary = scored.agg(F.avg("quality_score").alias("mean"),
                             F.expr("percentile_approx(quality_score, array(0.1, 0.5, 0.9))").alias("q"),
                             F.sum(F.when(F.col("quality_score") >= 0.5, 1).otherwise(0)).alias("hq")).first()
        q = summary["q"] or [None, None, None]
        return StageResult(documents=scored, side_outputs={"rejected": rejected}, stats={
            "rejected": reasons,
            "model": cfg.model, "mean_score": summary["mean"], "p10": q[0], "p50": q[1], "p90": q[2],
            "at_least_0.5": int(summary["hq"] or 0)})


STAGE = Quality()

if __name__ == "__main__":
    from pipeline.cli import stage_main

    sys.exit(stage_main(STAGE.name))
