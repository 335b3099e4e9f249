"""Drop documents sharing a 13-gram with the evaluation set, so evaluation data never leaks into training.

The evaluation items (a JSONL the trainer evaluates on) come from config; dropped documents land
in OUT/_rejected/ with reject_reason "decontaminate_13gram" and the number of shared n-grams.
"""

import sys
from dataclasses import dataclass, field

from pipeline.filter.decontaminate import DEFAULT_N
from pipeline.stage import Stage, StageContext, StageResult


@dataclass
class DecontaminateConfig:
    eval_path: str = ""  # JSONL of evaluation items (required; local path or Hadoop URI)
    text_fields: list[str] = field(default_factory=lambda: ["text", "prompt", "question", "answer", "completion"])
    n: int = DEFAULT_N  # 13-gram overlap, GPT-3 (Brown et al. 2020)
    min_matches: int = 1  # shared n-grams needed to drop a document (GPT-3: any)


class Decontaminate(Stage):
    name = "decontaminate"
    config_class = DecontaminateConfig

    def run(self, ctx: StageContext) -> StageResult:
        from pyspark.sql import functions as F

        from pipeline.errors import UsageError
        from pipeline.filter.decontaminate import eval_ngrams, overlap, read_jsonl

        cfg: DecontaminateConfig = ctx.settings
        if not cfg.eval_path:
            raise UsageError("decontaminate.eval_path is required (the trainer's evaluation JSONL)")
        lines = [r[0] for r in ctx.spark.read.text(cfg.eval_path).collect()]
        grams, eval_stats = eval_ngrams(read_jsonl(lines), cfg.text_fields, cfg.n)
        shared = ctx.spark.sparkContext.broadcast(grams)
        docs = ctx.read_documents()
        docs = docs.drop(*[c for c in ("decon_matches",) if c in docs.columns])
        schema = ", ".join([f"`{f.name}` {f.dataType.simpleString()}" for f in docs.schema.fields]
                           + ["`decon_matches` bigint"])
        n = cfg.n

        def match(batches):
            g = shared.value
            for pdf in batches:
                pdf["decon_matches"] = [overlap(t or "", g, n) for t in pdf["text"]]
                pdf["decon_matches"] = pdf["decon_matches"].astype("int64")
                yield pdf

        marked = docs.mapInPandas(match, schema).cache()
        hit = F.col("decon_matches") >= cfg.min_matches
        rejected = marked.filter(hit).withColumn("reject_reason", F.lit(f"decontaminate_{cfg.n}gram"))
        n_dropped = rejected.count()
        return StageResult(documents=marked.filter(~hit).drop("decon_matches"), side_outputs={"rejected": rejected},
                           stats={"dropped": {f"decontaminate_{cfg.n}gram": n_dropped},
                                  "eval": {**eval_stats, "path": cfg.eval_path}})


STAGE = Decontaminate()

if __name__ == "__main__":
    from pipeline.cli import stage_main

    sys.exit(stage_main(STAGE.name))
