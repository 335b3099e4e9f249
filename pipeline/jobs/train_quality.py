"""Train the fastText quality classifier: shipped reference prose (positives) vs the run's web documents.

Writes OUT/model.bin and OUT/metrics.json (held-out precision/recall of the "hq" class), as DCLM
trains its filter: positives = a high-quality reference set, negatives = random web documents.
With `reference=llm` the labels come from a served LLM instead (FineWeb-Edu: 0-5 educational scores on a
sample, "hq" = score >= 3; pipeline/quality/llm_annotate.py), OUT/annotations.jsonl keeps the scores and
metrics.json the Spearman rho between annotator and classifier on held-out annotated documents.
"""

import sys
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.quality.fasttext_model import FastTextSettings
from pipeline.stage import Stage, StageContext, StageResult
from pipeline.synth.llm_client import LLMConfig

REFERENCE = str(Path(__file__).resolve().parents[1] / "resources" / "quality_reference_en.jsonl")


@dataclass
class TrainQualityConfig:
    positives: str = REFERENCE  # JSONL with a `text` field; default: shipped Python-docs prose (PSF-2.0)
    text_field: str = "text"
    max_negatives: int = 0  # 0: as many as positives (balanced classes, as DCLM)
    heldout_fraction: float = 0.2  # share of each class kept out of training for the metrics
    threshold: float = 0.5  # P(hq) at which a document counts as "hq" for precision/recall
    fasttext: FastTextSettings = field(default_factory=FastTextSettings)
    reference: str = "set"  # "set": the positives file vs web (DCLM); "llm": a served model's 0-5 scores
    llm: LLMConfig = field(default_factory=LLMConfig)  # one greedy token per document, with its top-20 logprobs
    annotate_docs: int = 300  # documents the LLM scores (FineWeb-Edu: 450k; a CPU demo: hundreds)
    hq_score: float = 3.0  # FineWeb-Edu's cut; the median when the annotator leaves one side empty


POSITIVE, NEGATIVE = "hq", "web"


class TrainQuality(Stage):
    name = "train-quality"
    config_class = TrainQualityConfig
    output_kind = "files"

    def run(self, ctx: StageContext) -> StageResult:
        import tempfile

        from pyspark.sql import functions as F

        from pipeline.errors import UsageError
        from pipeline.quality.artifacts import put_file, write_json
        from pipeline.quality.fasttext_model import binary_metrics, probability_of, split_heldout, train

        cfg: TrainQualityConfig = ctx.settings
        if cfg.reference == "llm":
            from pipeline.quality.llm_labels import train_on_llm_scores

            return train_on_llm_scores(ctx, cfg)
        if cfg.reference != "set":
            raise UsageError(f"train-quality.reference must be 'set' or 'llm', got {cfg.reference!r}")
        pos_df = ctx.spark.read.json(cfg.positives)
        if cfg.text_field not in pos_df.columns:
            raise UsageError(f"positives {cfg.positives} have no '{cfg.text_field}' field")
        positives = [r[0] for r in pos_df.select(cfg.text_field).dropna().collect() if r[0].strip()]
        n_neg = cfg.max_negatives or len(positives)
        docs = ctx.read_documents()
        # A seeded hash order is a reproducible random sample, independent of partitioning.
        sample = docs.select("text").where(F.length("text") > 0) \
            .orderBy(F.xxhash64("id", F.lit(ctx.seed))).limit(n_neg)
        negatives = [r[0] for r in sample.collect()]
        if not positives or not negatives:
            raise UsageError(f"train-quality needs both classes: {len(positives)} positives, "
                             f"{len(negatives)} negatives")
        rows = [(POSITIVE, t) for t in positives] + [(NEGATIVE, t) for t in negatives]
        train_rows, held = split_heldout(rows, cfg.heldout_fraction, ctx.seed)
        model = train(train_rows, cfg.fasttext, ctx.seed)
        scores = probability_of(model, [t for _, t in held], POSITIVE, cfg.fasttext.max_tokens)
        metrics = binary_metrics([lab == POSITIVE for lab, _ in held], scores, cfg.threshold)
        with tempfile.TemporaryDirectory() as tmp:
            local = f"{tmp}/model.bin"
            model.save_model(local)
            size = Path(local).stat().st_size
            put_file(ctx.spark, local, f"{ctx.output}/model.bin")
        report = {"heldout": metrics, "train_rows": len(train_rows), "positives": len(positives),
                  "negatives": len(negatives), "labels": [POSITIVE, NEGATIVE], "model_bytes": size,
                  "positives_path": cfg.positives}
        write_json(ctx.spark, f"{ctx.output}/metrics.json", report)
        print(f"[train-quality] held-out precision {metrics['precision']:.3f} recall {metrics['recall']:.3f} "
              f"f1 {metrics['f1']:.3f} on {metrics['n']} docs; model {size / 1e6:.1f} MB")
        return StageResult(stats={**report, "rows_out": 1}, rows_in=len(positives) + docs.count())


STAGE = TrainQuality()

if __name__ == "__main__":
    from pipeline.cli import stage_main

    sys.exit(stage_main(STAGE.name))
