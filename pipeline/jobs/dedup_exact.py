"""Exact duplicate removal: xxh3 hash of normalised text, smallest id survives; optional cc_net line dedup."""

import sys
from dataclasses import dataclass

import pandas as pd

from pipeline.stage import Stage, StageContext, StageResult


@dataclass
class DedupExactConfig:
    lowercase: bool = True  # case-only differences are duplicates (cc_net and datatrove normalise case)
    collapse_whitespace: bool = True  # whitespace-only differences are duplicates
    hash_bits: int = 128  # xxh3-128: no collision in any corpus size we will see (64 is ~2^-64/pair)
    line_dedup: bool = False  # cc_net (Wenzek et al. 2019): drop lines already seen in another doc
    line_min_chars: int = 0  # cc_net hashes every non-empty normalised line; raise to keep short ones
    drop_duplicates: bool = True  # False: annotate dup_exact_* columns only


class DedupExact(Stage):
    name = "dedup-exact"
    config_class = DedupExactConfig

    def run(self, ctx: StageContext) -> StageResult:
        from pyspark.sql import functions as F
        from pyspark.sql.functions import pandas_udf

        from pipeline.dedup.candidates import size_histogram
        from pipeline.dedup.exact import content_hashes

        s = ctx.settings

        @pandas_udf("string")
        def text_hash(texts: pd.Series) -> pd.Series:
            return pd.Series(content_hashes(texts.fillna(""), s.hash_bits, s.lowercase,
                                            s.collapse_whitespace))

        docs = ctx.read_documents().withColumn("dup_exact_hash", text_hash("text"))
        groups = docs.groupBy("dup_exact_hash").agg(
            F.min("id").alias("dup_exact_of"), F.count("*").cast("int").alias("dup_exact_group_size"))
        annotated = docs.join(groups, "dup_exact_hash").cache()
        is_dup = F.col("id") != F.col("dup_exact_of")
        kept = annotated.filter(~is_dup) if s.drop_duplicates else annotated
        rejected = annotated.filter(is_dup).withColumn("reject_reason", F.lit("exact_duplicate"))
        size_counts = {r["dup_exact_group_size"]: r["n"] for r in groups.filter("dup_exact_group_size > 1")
                       .groupBy("dup_exact_group_size").agg(F.count("*").alias("n")).collect()}
        n_dups = sum((k - 1) * v for k, v in size_counts.items())
        stats = {"duplicates": n_dups, "clusters": sum(size_counts.values()),
                 "cluster_size_histogram": size_histogram(size_counts),
                 "dropped": {"exact_duplicate": n_dups if s.drop_duplicates else 0}}
        side = {"clusters": annotated.filter("dup_exact_group_size > 1").select(
            "id", F.col("dup_exact_of").alias("cluster"), F.col("dup_exact_group_size").alias("cluster_size"))}
        if s.drop_duplicates:
            side["rejected"] = rejected
        if s.line_dedup:
            kept, emptied, line_stats = _line_dedup(kept, s)
            stats.update(line_stats)
            stats["dropped"]["empty_after_line_dedup"] = line_stats["documents_emptied"]
            side["rejected"] = side["rejected"].unionByName(emptied, allowMissingColumns=True) \
                if "rejected" in side else emptied
        return StageResult(documents=kept, stats=stats, side_outputs=side)


def _line_dedup(docs, s: DedupExactConfig):
    """Remove every line whose normalised key was already seen at a smaller (id, line number)."""
    from pyspark.sql import functions as F
    from pyspark.sql.functions import pandas_udf

    from pipeline.dedup.exact import content_hash, normalize_for_hash

    @pandas_udf("string")
    def line_key(lines: pd.Series) -> pd.Series:
        norm = lines.map(lambda x: normalize_for_hash(x, strip_digits_punct=True))
        return norm.map(lambda x: content_hash(x, 64) if x and len(x) >= s.line_min_chars else None)

    lines = (docs.select("id", F.posexplode(F.split("text", "\n")).alias("pos", "line"))
             .withColumn("key", line_key("line")))
    owners = (lines.filter(F.col("key").isNotNull()).groupBy("key")
              .agg(F.min(F.struct("id", "pos")).alias("owner")))
    marked = (lines.join(owners, "key", "left")
              .withColumn("keep", F.col("owner").isNull()
                          | ((F.col("owner.id") == F.col("id")) & (F.col("owner.pos") == F.col("pos"))))
              .cache())
    rebuilt = (marked.filter("keep").groupBy("id")
               .agg(F.sort_array(F.collect_list(F.struct("pos", "line"))).alias("kept_lines"))
               .select("id", F.concat_ws("\n", F.col("kept_lines.line")).alias("new_text")))
    removed = marked.filter(~F.col("keep")).agg(
        F.count("*").alias("n"), F.coalesce(F.sum(F.length("line")), F.lit(0)).alias("chars")).first()
    joined = (docs.join(rebuilt, "id", "left")
              .withColumn("text", F.coalesce("new_text", F.lit(""))).drop("new_text").cache())
    emptied = joined.filter(F.length(F.trim("text")) == 0).withColumn("reject_reason", F.lit("empty_after_line_dedup"))
    n_emptied = emptied.count()
    stats = {"lines_removed": int(removed["n"]), "line_chars_removed": int(removed["chars"]),
             "documents_emptied": n_emptied}
    return joined.filter(F.length(F.trim("text")) > 0), emptied, stats


STAGE = DedupExact()

if __name__ == "__main__":
    from pipeline.cli import stage_main

    sys.exit(stage_main(STAGE.name))
