"""Classify each document's domain by keyword rules or the trained fastText model (domain, domain_score, domain_rule)."""

import sys
from dataclasses import dataclass

from pipeline.domain.keywords import KEYWORDS
from pipeline.stage import Stage, StageContext, StageResult


@dataclass
class DomainConfig:
    method: str = "auto"  # auto: fasttext when `model` is set, else rules | rules | fasttext
    model: str = ""  # the train-domain stage's OUT/model.bin
    keywords: str = KEYWORDS  # domain keyword YAML for method=rules
    min_probability: float = 0.5  # below this the model's label is not trusted -> fallback
    fallback: str = "other"
    max_tokens: int = 2000  # same truncation as training


class Domain(Stage):
    name = "domain"
    config_class = DomainConfig

    def run(self, ctx: StageContext) -> StageResult:

        from pipeline.domain.classifier import by_model, by_rules
        from pipeline.domain.keywords import load_rules
        from pipeline.errors import UsageError
        from pipeline.quality.artifacts import load_shipped, ship_model
        from pipeline.rejects import GUARD_SCHEMA, guard_batches, split_guarded

        cfg: DomainConfig = ctx.settings
        method = ("fasttext" if cfg.model else "rules") if cfg.method == "auto" else cfg.method
        if method not in ("rules", "fasttext"):
            raise UsageError(f"domain.method must be auto, rules or fasttext, got {cfg.method!r}")
        shipped = ship_model(ctx.spark, cfg.model) if method == "fasttext" else None
        rules = load_rules(cfg.keywords) if method == "rules" else None
        docs = ctx.read_documents()
        docs = docs.drop(*[c for c in ("domain", "domain_score", "domain_rule") if c in docs.columns])
        schema = ", ".join([f"`{f.name}` {f.dataType.simpleString()}" for f in docs.schema.fields]
                           + ["`domain` string", "`domain_score` double", "`domain_rule` string"])
        fallback, min_p, max_tokens = cfg.fallback, cfg.min_probability, cfg.max_tokens

        def label(pdf, model):
            pdf = pdf.copy()
            texts = pdf["text"].fillna("").tolist()
            b = by_model(texts, model, min_p, fallback, max_tokens) if model else by_rules(texts, rules, fallback)
            pdf["domain"] = b.domains
            pdf["domain"] = pdf["domain"].astype(object)
            pdf["domain_score"] = b.scores
            pdf["domain_score"] = pdf["domain_score"].astype("float64")
            pdf["domain_rule"] = b.rules
            pdf["domain_rule"] = pdf["domain_rule"].astype(object)
            return pdf

        columns = [*docs.columns, "domain", "domain_score", "domain_rule"]
        guarded = docs.mapInPandas(guard_batches(label, columns, lambda: load_shipped(shipped) if shipped else None),
                                   f"{schema}, {GUARD_SCHEMA}").cache()
        labelled, rejected, reasons = split_guarded(guarded)
        counts = {r["domain"]: int(r["count"]) for r in labelled.groupBy("domain").count().collect()}
        return StageResult(documents=labelled, side_outputs={"rejected": rejected},
                           stats={"rejected": reasons, "method": method, "domains": dict(sorted(counts.items())),
                                                      "model": cfg.model or None})


STAGE = Domain()

if __name__ == "__main__":
    from pipeline.cli import stage_main

    sys.exit(stage_main(STAGE.name))
