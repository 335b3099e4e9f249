"""Drop documents sharing a 13-gram with any evaluation set, so evaluation data never leaks into training.

Every evaluation set the training side scores on is checked, each by name: the bundled sets
(`bundled`, GSM8K test by default), the DAG's held-out evaluation JSONL (`eval_path`, named "eval"),
and any other task data given by path (`eval_sets`: name -> JSONL, plain or gzipped, local or Hadoop
URI), e.g. lm-eval task files.
Dropped documents land in OUT/_rejected/ with reject_reason "decontaminate_13gram_<set>" (the first set
they match), the number of shared n-grams, and the count per set goes to `_stats.json` and the report.
"""

import sys
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.filter.decontaminate import DEFAULT_N
from pipeline.stage import Stage, StageContext, StageResult

BUNDLED_EVAL = Path(__file__).resolve().parent.parent / "resources" / "eval"
BUNDLED_SETS = {"gsm8k_test": "gsm8k_test.jsonl.gz",  # pipeline/resources/eval/README.md: source, licence
                "heldout_text": "heldout_text.jsonl.gz"}


@dataclass
class DecontaminateConfig:
    eval_path: str = ""  # the training DAG's held-out evaluation JSONL, checked as the set "eval"
    # sets shipped with the pipeline: what trainer evaluate scores (GSM8K test, the held-out real text)
    bundled: list[str] = field(default_factory=lambda: ["gsm8k_test", "heldout_text"])
    eval_sets: dict[str, str] = field(default_factory=dict)  # more sets: name -> JSONL path
    text_fields: list[str] = field(default_factory=lambda: ["text", "prompt", "question", "answer", "completion",
                                                            "query", "context", "passage"])
    n: int = DEFAULT_N  # 13-gram overlap, GPT-3 (Brown et al. 2020)
    min_matches: int = 1  # shared n-grams needed to drop a document (GPT-3: any)


class Decontaminate(Stage):
    name = "decontaminate"
    config_class = DecontaminateConfig

    def run(self, ctx: StageContext) -> StageResult:
        from pyspark.sql import functions as F

        from pipeline.errors import UsageError
        from pipeline.filter.decontaminate import eval_ngrams, ngram_hashes, read_jsonl

        cfg: DecontaminateConfig = ctx.settings
        unknown = sorted(set(cfg.bundled) - set(BUNDLED_SETS))
        if unknown:
            raise UsageError(f"decontaminate.bundled: unknown set(s) {', '.join(unknown)}; bundled sets: "
                             f"{', '.join(sorted(BUNDLED_SETS))}")
        sets = {name: str(BUNDLED_EVAL / BUNDLED_SETS[name]) for name in cfg.bundled}
        sets.update({name: path for name, path in cfg.eval_sets.items() if path})
        if cfg.eval_path:
            sets["eval"] = cfg.eval_path
        if not sets:
            raise UsageError("decontaminate needs at least one evaluation set: decontaminate.bundled, "
                             "decontaminate.eval_sets (name: JSONL) or decontaminate.eval_path")
        grams, eval_stats = {}, {}
        for name, path in sets.items():
            try:
                lines = [r[0] for r in ctx.spark.read.text(path).collect()]
            except Exception as e:  # AnalysisException: a missing path is the user's to fix
                raise UsageError(f"decontaminate: eval set {name!r} at {path} cannot be read "
                                 f"({type(e).__name__})") from None
            grams[name], stats = eval_ngrams(read_jsonl(lines), cfg.text_fields, cfg.n)
            eval_stats[name] = {**stats, "path": path}
        shared = ctx.spark.sparkContext.broadcast(grams)
        docs = ctx.read_documents()
        docs = docs.drop(*[c for c in ("decon_matches", "decon_set") if c in docs.columns])
        schema = ", ".join([f"`{f.name}` {f.dataType.simpleString()}" for f in docs.schema.fields]
                           + ["`decon_matches` bigint", "`decon_set` string"])
        n, need = cfg.n, cfg.min_matches

        def match(batches):
            by_set = shared.value
            for pdf in batches:
                counts, first = [], []
                for text in pdf["text"]:
                    doc = ngram_hashes(text or "", n)
                    hits = {name: len(doc & g) for name, g in by_set.items()} if doc else {}
                    counts.append(sum(hits.values()))
                    first.append(next((name for name, k in hits.items() if k >= need), None))
                pdf["decon_matches"] = counts
                pdf["decon_matches"] = pdf["decon_matches"].astype("int64")
                pdf["decon_set"] = first
                yield pdf

        marked = docs.mapInPandas(match, schema).cache()
        hit = F.col("decon_set").isNotNull()
        reason = f"decontaminate_{cfg.n}gram"
        rejected = marked.filter(hit).withColumn("reject_reason", F.concat(F.lit(reason + "_"), F.col("decon_set")))
        per_set = {r["decon_set"]: r["count"] for r in rejected.groupBy("decon_set").count().collect()}
        dropped = {f"{reason}_{name}": per_set.get(name, 0) for name in sets}
        return StageResult(documents=marked.filter(~hit).drop("decon_matches", "decon_set"),
                           side_outputs={"rejected": rejected},
                           stats={"dropped": dropped, "dropped_total": sum(per_set.values()), "eval": eval_stats})


STAGE = Decontaminate()

if __name__ == "__main__":
    from pipeline.cli import stage_main

    sys.exit(stage_main(STAGE.name))
