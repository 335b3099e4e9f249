"""Train the fastText domain classifier from keyword-labelled documents (weak supervision) or a labelled file.

Writes OUT/model.bin and OUT/metrics.json (held-out accuracy, macro F1, per-domain precision/recall).
"""

import sys
from dataclasses import dataclass, field

from pipeline.domain.keywords import KEYWORDS
from pipeline.quality.fasttext_model import FastTextSettings
from pipeline.stage import Stage, StageContext, StageResult


@dataclass
class TrainDomainConfig:
    keywords: str = KEYWORDS  # domain keyword YAML used for weak labels
    labelled: str = ""  # optional JSONL with `text` and `label`; replaces the weak labels when set
    min_per_label: int = 5  # a domain with fewer confident examples is left out of the model
    heldout_fraction: float = 0.2
    # The model trains on a bounded, seeded sample chosen on the executors (top-k by a hash of the id): the
    # driver never holds more than max_train_docs texts of at most max_doc_chars, whatever the input size.
    max_train_docs: int = 100_000
    max_doc_chars: int = 20_000  # fastText reads the first `fasttext.max_tokens` (2000) tokens anyway
    fasttext: FastTextSettings = field(default_factory=FastTextSettings)


class TrainDomain(Stage):
    name = "train-domain"
    config_class = TrainDomainConfig
    output_kind = "files"

    def run(self, ctx: StageContext) -> StageResult:
        import tempfile
        from pathlib import Path

        from pipeline.domain.classifier import multiclass_metrics, weak_labels
        from pipeline.domain.keywords import load_rules
        from pipeline.errors import UsageError
        from pipeline.quality.artifacts import put_file, write_json
        from pipeline.quality.fasttext_model import predict, split_heldout, train

        cfg: TrainDomainConfig = ctx.settings
        docs = ctx.read_documents()
        n_docs = docs.count()
        if cfg.labelled:
            frame = ctx.spark.read.json(cfg.labelled)
            if not {"text", "label"} <= set(frame.columns):
                raise UsageError(f"labelled file {cfg.labelled} needs `text` and `label` fields")
            picked = bounded_sample(frame.select("label", "text").dropna(), "text", ctx.seed, cfg.max_train_docs,
                                    cfg.max_doc_chars)
            rows = [(str(r["label"]), r["text"]) for r in picked.collect()]
            label_info = {"labelled_file": cfg.labelled}
        else:
            picked = bounded_sample(docs.select("id", "text"), "id", ctx.seed, cfg.max_train_docs, cfg.max_doc_chars)
            texts = [r["text"] for r in picked.select("text").collect()]
            rows, label_info = weak_labels(texts, load_rules(cfg.keywords), cfg.min_per_label)
            label_info["sampled_docs"] = len(texts)
        train_rows, held = split_heldout(rows, cfg.heldout_fraction, ctx.seed)
        model = train(train_rows, cfg.fasttext, ctx.seed)
        pred, _ = predict(model, [t for _, t in held], cfg.fasttext.max_tokens)
        metrics = multiclass_metrics([lab for lab, _ in held], pred)
        with tempfile.TemporaryDirectory() as tmp:
            model.save_model(f"{tmp}/model.bin")
            size = Path(f"{tmp}/model.bin").stat().st_size
            put_file(ctx.spark, f"{tmp}/model.bin", f"{ctx.output}/model.bin")
        labels = sorted(lab[len("__label__"):] for lab in model.get_labels())
        report = {"heldout": metrics, "labels": labels, "train_rows": len(train_rows), "model_bytes": size,
                  **label_info}
        write_json(ctx.spark, f"{ctx.output}/metrics.json", report)
        print(f"[train-domain] {len(labels)} domains, held-out accuracy {metrics['accuracy']:.3f} "
              f"macro-F1 {metrics['macro_f1']:.3f} on {metrics['n']} docs")
        return StageResult(stats={**report, "rows_out": 1}, rows_in=n_docs)


def bounded_sample(df, key: str, seed: int, max_rows: int, max_chars: int):
    """At most `max_rows` rows, picked by a seeded hash of `key` (the same rows on every rerun), texts cut to
    `max_chars`. orderBy + limit plans as a top-k: each executor keeps its own k, the driver gets k rows."""
    from pyspark.sql import functions as F

    return (df.withColumn("text", F.substring("text", 1, max_chars))
            .orderBy(F.xxhash64(F.lit(seed), F.col(key)), F.col(key)).limit(max_rows))


STAGE = TrainDomain()

if __name__ == "__main__":
    from pipeline.cli import stage_main

    sys.exit(stage_main(STAGE.name))
