"""Synthesize pretrain, SFT and RL data from mixed documents (six generators; template or OpenAI-compatible LLM).

Output (a directory): pretrain.jsonl, sft.jsonl, rl.jsonl (format `llm-pipeline-synth/1`, written out
in `pipeline/synth/records.py`), pretrain/ (the synthetic pretrain records as a document dataset with
source=synthetic) and manifest.json. Short generators sample documents by a seeded hash of their id;
long ones work per split, domain (and semantic cluster) group. Held out means held out: documents are
split by the run's rule (`pipeline/splits.py`) BEFORE any record is made, and a long record only
ever combines documents of one split, so a val document's text never reaches a train record.
"""

import dataclasses
import json
import os
import sys
from collections import Counter
from dataclasses import dataclass, field

from pipeline.errors import UsageError
from pipeline.stage import Stage, StageContext, StageResult
from pipeline.synth.llm_client import LLMConfig
from pipeline.synth.long_pretrain import LongPretrainConfig
from pipeline.synth.long_rl import LongRlConfig
from pipeline.synth.long_sft import LongSftConfig
from pipeline.synth.short_pretrain import ShortPretrainConfig
from pipeline.synth.short_rl import ShortRlConfig
from pipeline.synth.short_sft import ShortSftConfig

OUT_SCHEMA = "generator string, kind string, id string, record string, counts string"
MANIFEST = "manifest.json"  # marks a synth output directory (tokenize reads it)


@dataclass
class SynthConfig:
    backend: str = "template"  # "template" (offline, deterministic) or "openai" (chat-completions server)
    llm: LLMConfig = field(default_factory=LLMConfig)
    llm_partitions: int = 4  # partitions the LLM work is spread over (each runs llm.max_concurrency)
    group_by_cluster: bool = True  # long generators group by domain and semantic cluster
    # A long generator sees at most this many documents of a group (the first by id), so an executor holds a
    # bounded group however large the input (long_pretrain's greedy path stops at 2000 anyway)
    max_docs_per_group: int = 2000
    short_pretrain: ShortPretrainConfig = field(default_factory=ShortPretrainConfig)
    short_sft: ShortSftConfig = field(default_factory=ShortSftConfig)
    short_rl: ShortRlConfig = field(default_factory=ShortRlConfig)
    long_pretrain: LongPretrainConfig = field(default_factory=LongPretrainConfig)
    long_sft: LongSftConfig = field(default_factory=LongSftConfig)
    long_rl: LongRlConfig = field(default_factory=LongRlConfig)


def _make_generator(cfg: SynthConfig, generator: str = "", part: str = "0"):
    if cfg.backend == "openai":
        from pipeline.llm.endpoint import partition_generator

        return partition_generator(cfg.llm, cfg.llm.journal_dir, generator, part)
    from pipeline.synth.generator import TemplateGenerator

    return TemplateGenerator()


def _llm_counts(generator, counts: Counter) -> None:
    """The client's counters as llm_* (requests, retries, failed, tokens, seconds); the journal closed."""
    if generator is not None and hasattr(generator, "stats"):
        counts.update({f"llm_{k}": v for k, v in generator.stats.items()})
        if getattr(generator, "journal", None) is not None:
            generator.journal.close()


def _frame(name: str, records: list[dict], counts: Counter):
    import pandas as pd

    rows = [{"generator": name, "kind": r["kind"], "id": r["id"], "record": json.dumps(r, ensure_ascii=False),
             "counts": None} for r in records]
    rows.append({"generator": name, "kind": None, "id": None, "record": None, "counts": json.dumps(counts)})
    return pd.DataFrame(rows, columns=["generator", "kind", "id", "record", "counts"]).astype(object)


class Synth(Stage):
    name = "synth"
    config_class = SynthConfig
    output_kind = "files"

    def run(self, ctx: StageContext) -> StageResult:
        cfg: SynthConfig = ctx.settings
        if cfg.backend not in ("template", "openai"):
            raise UsageError(f"synth.backend must be 'template' or 'openai', got {cfg.backend!r}")
        server = None
        if cfg.backend == "openai":
            from pipeline.llm import endpoint

            jdir = endpoint.journal_dir(cfg.llm, ctx.output)
            llm, server = endpoint.resolve(cfg.llm, os.path.dirname(jdir) if jdir else None,
                                           ctx.config.run.data_root)
            cfg = dataclasses.replace(cfg, llm=dataclasses.replace(llm, journal_dir=jdir))
        try:
            return self._run(ctx, cfg)
        finally:
            if server is not None:
                server.stop()  # one engine per task: stopped whether the stage succeeded or not

    def _run(self, ctx: StageContext, cfg: SynthConfig) -> StageResult:
        from pyspark.sql import functions as F

        from pipeline.splits import check_val_fraction, split_column
        from pipeline.synth import long_pretrain, long_rl, long_sft, short_pretrain, short_rl, short_sft

        try:
            check_val_fraction(ctx.config.run.val_fraction)
        except ValueError as e:
            raise UsageError(str(e)) from None
        raw = ctx.read_documents()
        rows_in = raw.count()
        if "mix_copy" in raw.columns:  # repeated copies from `mix` would be synthesized twice
            raw = raw.filter(F.col("mix_copy") == 0)
        cols = set(raw.columns)
        docs = raw.select("id", "text", "title",
                          (F.coalesce(F.col("domain"), F.lit("unknown")) if "domain" in cols
                           else F.lit("unknown")).alias("domain"),
                          (F.col("semantic_cluster").cast("long") if "semantic_cluster" in cols
                           else F.lit(None).cast("long")).alias("semantic_cluster"),
                          split_column(F.col("id"), ctx.seed, ctx.config.run.val_fraction).alias("split")).cache()
        seed = ctx.seed
        parts = []
        shorts = [(short_pretrain, cfg.short_pretrain, True), (short_sft, cfg.short_sft, True),
                  (short_rl, cfg.short_rl, cfg.backend == "openai")]  # RL word problems only through an LLM
        for module, gcfg, needs_llm in shorts:
            if gcfg.enabled:
                parts.append(self._short(docs, module, gcfg, cfg, seed, needs_llm))
        keys = ["split", "domain"] + (["semantic_cluster"] if cfg.group_by_cluster and "semantic_cluster" in cols
                                      else [])
        longs = [(long_pretrain, cfg.long_pretrain, False), (long_sft, cfg.long_sft, False),
                 (long_rl, cfg.long_rl, False)]
        for module, gcfg, _ in longs:
            if gcfg.enabled:
                parts.append(self._long(docs, module, gcfg, seed, keys, cfg.max_docs_per_group, cfg))
        stats = {"backend": cfg.backend, "grouped_by": keys, "generators": {}, "rows_out": 0}
        records: dict[str, list[str]] = {"pretrain": [], "sft": [], "rl": []}
        if parts:
            self._collect(parts, [*shorts, *longs], records, stats)
        self._write(ctx, records, stats)
        docs.unpersist()
        return StageResult(stats=stats, rows_in=rows_in)

    @staticmethod
    def _collect(parts, generators, records: dict, stats: dict) -> None:
        """One pass: counters of every generator, then each generator's first `max_records` by id."""
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        union = parts[0]
        for p in parts[1:]:
            union = union.unionByName(p)
        union = union.cache()
        limits = {m.NAME: c.max_records for m, c, _ in generators if c.enabled}
        counts: dict[str, Counter] = {name: Counter() for name in limits}
        for r in union.filter(F.col("counts").isNotNull()).select("generator", "counts").collect():
            counts[r["generator"]].update(json.loads(r["counts"]))
        limit = F.create_map(*[x for k, v in limits.items() for x in (F.lit(k), F.lit(v))])
        rank = F.row_number().over(Window.partitionBy("generator").orderBy("id"))
        kept = (union.filter(F.col("record").isNotNull()).withColumn("_rank", rank)
                .filter(F.col("_rank") <= limit[F.col("generator")]).orderBy("generator", "id"))
        kept_n: Counter = Counter()
        for r in kept.select("generator", "kind", "record").toLocalIterator():
            records[r["kind"]].append(r["record"])
            kept_n[r["generator"]] += 1
        for name in limits:
            c = counts[name]
            dropped = sum(v for k, v in c.items() if k.startswith("dropped_"))
            rate = {"llm_tokens_per_s": round(c["llm_completion_tokens"] / c["llm_seconds"], 2)} if c.get("llm_seconds") else {}
            stats["generators"][name] = {**c, **rate, "dropped": dropped, "kept": kept_n[name]}
        stats["rows_out"] = sum(kept_n.values())
        union.unpersist()

    @staticmethod
    def _short(docs, module, gcfg, cfg: SynthConfig, seed: int, needs_llm: bool):
        from pyspark.sql import functions as F

        u = (F.pmod(F.xxhash64(F.lit(seed), F.lit(module.NAME), F.col("id")), F.lit(1 << 53)) + 0.5) / float(1 << 53)
        picked = (docs.withColumn("_u", u).filter(F.col("_u") < gcfg.sample_rate).orderBy("_u")
                  .limit(gcfg.max_records).drop("_u").repartition(max(1, cfg.llm_partitions), "id"))

        def fn(batches):
            from pyspark import TaskContext

            part = f"part{TaskContext.get().partitionId():05d}" if TaskContext.get() else "part0"
            generator = _make_generator(cfg, module.NAME, part) if needs_llm else None
            docs_ = [d for pdf in batches for d in pdf.to_dict("records")]  # one batch: one journal writer
            if not needs_llm:
                recs, counts = module.generate(docs_, gcfg, seed)
            elif module.NAME == "short_rl":
                recs, counts = module.generate(docs_, gcfg, seed, generator=generator)
            else:
                recs, counts = module.generate(docs_, gcfg, generator, seed)
            _llm_counts(generator, counts)
            yield _frame(module.NAME, recs, counts)

        return picked.mapInPandas(fn, OUT_SCHEMA)

    @staticmethod
    def _long(docs, module, gcfg, seed: int, keys: list[str], cap: int, cfg: SynthConfig):
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        # rank filter: Spark plans it as a per-partition top-k before the shuffle (WindowGroupLimit)
        first = F.row_number().over(Window.partitionBy(*keys).orderBy("id"))
        docs = docs.withColumn("_rank", first).filter(F.col("_rank") <= cap).drop("_rank")

        uses_llm = cfg.backend == "openai" and module.NAME == "long_sft"  # LLM-written long-context questions

        def fn(pdf):
            group = "/".join(str(pdf[k].iloc[0]) for k in keys)
            if uses_llm:
                generator = _make_generator(cfg, module.NAME, group)
                recs, counts = module.generate(pdf.to_dict("records"), gcfg, seed, group, generator=generator)
                _llm_counts(generator, counts)
            else:
                recs, counts = module.generate(pdf.to_dict("records"), gcfg, seed, group)
            return _frame(module.NAME, recs, counts)

        return docs.groupBy(*keys).applyInPandas(fn, OUT_SCHEMA)

    @staticmethod
    def _write(ctx: StageContext, records: dict[str, list[str]], stats: dict) -> None:
        from pipeline.storage import filesystem
        from pipeline.synth.records import FORMAT
        from pipeline.synth.synth_documents import pretrain_documents

        fs = filesystem(ctx.output, ctx.spark)
        fs.mkdirs(ctx.output)
        for kind, lines in records.items():
            fs.write_text(f"{ctx.output}/{kind}.jsonl", "".join(line + "\n" for line in lines))
        docs = pretrain_documents(ctx.spark, records["pretrain"])
        docs.write.mode("overwrite").parquet(f"{ctx.output}/pretrain")
        fs.write_text(f"{ctx.output}/pretrain/_SUCCESS", "")
        manifest = {"format": FORMAT, "pretrain_documents": "pretrain", "files": {
            k: {"file": f"{k}.jsonl", "records": len(v)} for k, v in records.items()}}
        fs.write_text(f"{ctx.output}/{MANIFEST}", json.dumps(manifest, indent=2))
        stats["records_by_kind"] = {k: len(v) for k, v in records.items()}


STAGE = Synth()

if __name__ == "__main__":
    from pipeline.cli import stage_main

    sys.exit(stage_main(STAGE.name))
