"""Near-duplicate removal: MinHash LSH, verified pairs, connected components, smallest id survives."""

import sys
from collections import Counter
from dataclasses import dataclass

from pipeline.stage import Stage, StageContext, StageResult


@dataclass
class DedupMinhashConfig:
    ngram: int = 5  # word 5-grams: Lee et al. 2022 "Deduplicating Training Data", Gopher, FineWeb
    char_ngram: int = 5  # CJK documents: character 5-grams (text-dedup's default ngram size)
    cjk_char_shingles: bool = True
    num_perm: int = 128  # datasketch's default; FineWeb uses 112, Lee et al. 9,000 (recall vs cost)
    seed: int = 1  # datasketch's default seed: signatures stay compatible with its MinHashLSH
    threshold: float = 0.8  # Jaccard >= 0.8 is a near-duplicate (Lee et al. 2022)
    # Bands x rows minimise fp_weight*FP + fn_weight*FN area (datasketch/text-dedup use 0.5/0.5).
    # Candidates are verified, so false positives cost only compute: weigh misses far more
    # (0.5/0.5 gives 9x13 bands, which docs/facts.md measured finding 69% of planted pairs).
    fp_weight: float = 0.05
    fn_weight: float = 0.95
    bands: int = 0  # 0: chosen by the optimisation above; set both bands and rows to force them
    rows: int = 0
    verify: str = "exact"  # exact (Jaccard of shingle sets) | signature (MinHash estimate) | none
    max_bucket: int = 100  # larger LSH buckets give a star to their smallest id, not all k^2 pairs
    drop_duplicates: bool = True  # False: annotate dup_* columns only, keep every document
    # Local file of a datasketch MinHashLSH index (same signature parameters): survivors are also
    # checked against, then added to, documents kept by earlier runs. Driver-side: incremental batches.
    index_path: str = ""


# Per document: LSH band keys, the shingle set (packed uint32, for exact verification), the signature.
FEATURES_SCHEMA = "id string, keys array<bigint>, shingles binary, sig array<int>"


class DedupMinhash(Stage):
    name = "dedup-minhash"
    config_class = DedupMinhashConfig

    def run(self, ctx: StageContext) -> StageResult:
        from pyspark.sql import functions as F

        from pipeline.dedup.candidates import candidate_pairs, size_histogram, verify_pairs
        from pipeline.dedup.components import connected_components
        from pipeline.dedup.lsh_params import optimal_bands_rows

        s = ctx.settings
        if s.bands and s.rows:
            bands, rows = s.bands, s.rows
        else:
            bands, rows = optimal_bands_rows(s.threshold, s.num_perm, s.fp_weight, s.fn_weight)
        docs = ctx.read_documents()
        features = docs.select("id", "text").mapInPandas(
            _signature_batches(s, bands, rows), FEATURES_SCHEMA).cache()
        # Materialise the cache in one job now: otherwise adaptive execution submits the band join's
        # and the verification join's inputs concurrently, and each computes the signatures itself
        # (two 21 s jobs sharing 2 cores on the 4x corpus, issue 21).
        no_shingles = features.filter(F.size("keys") == 0).count()
        band_rows = features.select("id", F.posexplode("keys").alias("band", "key"))
        pairs = candidate_pairs(band_rows, s.max_bucket).cache()
        verified = verify_pairs(pairs, features, s.verify, s.threshold, s.num_perm).cache()
        comps = connected_components(verified.select("src", "dst"))
        if comps.local is not None:  # sizes from the driver's union-find: no Spark jobs for them
            members = Counter(comps.local.values())
            size_counts = dict(Counter(members.values()))
            clusters = ctx.spark.createDataFrame(
                [(i, c, members[c]) for i, c in sorted(comps.local.items())],
                "id string, cluster string, cluster_size int")
        else:
            sizes = comps.assignments.groupBy("component").agg(F.count("*").cast("int").alias("cluster_size"))
            clusters = comps.assignments.join(sizes, "component").select(
                "id", F.col("component").alias("cluster"), "cluster_size").cache()
            size_counts = {r["cluster_size"]: r["n"] for r in
                           sizes.groupBy("cluster_size").agg(F.count("*").alias("n")).collect()}

        # Clusters from the driver's union-find are small: broadcast them, never shuffle the texts.
        annotated = (docs.join(F.broadcast(clusters) if comps.iterations == 0 else clusters, "id", "left")
                     .withColumn("dup_minhash_cluster", F.coalesce("cluster", "id"))
                     .withColumn("dup_minhash_cluster_size", F.coalesce("cluster_size", F.lit(1)))
                     .drop("cluster", "cluster_size"))
        is_dup = F.col("id") != F.col("dup_minhash_cluster")
        kept = annotated.filter(~is_dup) if s.drop_duplicates else annotated
        rejected = annotated.filter(is_dup).withColumn("reject_reason", F.lit("minhash_duplicate"))

        n_dups = sum((k - 1) * v for k, v in size_counts.items())
        stats = {
            "bands": bands, "rows": rows, "num_perm": s.num_perm, "threshold": s.threshold,
            "verify": s.verify,
            "documents_without_shingles": no_shingles,
            "candidate_pairs": pairs.count(), "verified_pairs": verified.count(),
            "components_iterations": comps.iterations,
            "clusters": sum(size_counts.values()), "duplicates": n_dups,
            "dropped": {"minhash_duplicate": n_dups if s.drop_duplicates else 0},
            "cluster_size_histogram": size_histogram(size_counts),
        }
        side = {"clusters": clusters}
        if s.drop_duplicates:
            side["rejected"] = rejected
        if s.index_path:
            kept, matched, n_matched = _against_index(ctx.spark, kept, s, bands, rows)
            stats["dropped"]["minhash_index_duplicate"] = n_matched
            matched = matched.withColumn("reject_reason", F.lit("minhash_index_duplicate"))
            side["rejected"] = side["rejected"].unionByName(matched, allowMissingColumns=True) \
                if "rejected" in side else matched
        return StageResult(documents=kept, stats=stats, side_outputs=side)


def _against_index(spark, kept, s: DedupMinhashConfig, bands: int, rows: int):
    """Survivors vs the persisted datasketch index, streamed in id order through the driver."""
    from pyspark.sql import functions as F

    from pipeline.dedup.index import MinHashIndex

    index = MinHashIndex.open(s.index_path, threshold=s.threshold, num_perm=s.num_perm, seed=s.seed,
                              ngram=s.ngram, bands_rows=(bands, rows))
    found: list[tuple[str, str]] = []
    ids: list[str] = []
    texts: list[str] = []

    def flush() -> None:
        found.extend((k, v) for k, v in index.dedup(ids, texts).items() if v is not None)
        ids.clear()
        texts.clear()

    for row in kept.select("id", "text").orderBy("id").toLocalIterator():
        ids.append(row["id"])
        texts.append(row["text"])
        if len(ids) >= 1000:
            flush()
    flush()
    index.save(s.index_path)
    matches = spark.createDataFrame(found, "id string, dup_minhash_index_of string")
    joined = kept.join(F.broadcast(matches), "id", "left")
    hit = F.col("dup_minhash_index_of").isNotNull()
    return joined.filter(~hit).drop("dup_minhash_index_of"), joined.filter(hit), len(found)


def _signature_batches(s: DedupMinhashConfig, bands: int, rows: int):
    """mapInPandas function: (id, text) batches -> band keys, shingle sets, signatures."""

    def run(batches):
        import pandas as pd

        from pipeline.dedup.candidates import pack_set
        from pipeline.dedup.minhash import band_hashes, signatures
        from pipeline.dedup.shingles import shingle_hashes, unique_flat

        for pdf in batches:
            texts = pdf["text"].fillna("").tolist()
            hashes, offsets = shingle_hashes(texts, s.ngram, s.char_ngram, s.cjk_char_shingles)
            # Distinct shingles first: the signature is the same, over ~30% fewer values on real text.
            hashes, offsets = unique_flat(hashes, offsets)
            sig = signatures(hashes, offsets, s.num_perm, s.seed)
            keys = band_hashes(sig, bands, rows)
            has = pd.Series(offsets[1:] > offsets[:-1])
            sets = ([hashes[offsets[i]:offsets[i + 1]] for i in range(len(texts))] if s.verify == "exact"
                    else [None] * len(texts))
            sig_i32 = sig.view("int32")
            yield pd.DataFrame({
                "id": pdf["id"].astype(object).values,
                "keys": [k if h else [] for k, h in zip(keys.tolist(), has, strict=True)],
                "shingles": [None if x is None else pack_set(x) for x in sets],
                "sig": sig_i32.tolist() if s.verify == "signature" else [None] * len(texts),
            })

    return run


STAGE = DedupMinhash()

if __name__ == "__main__":
    from pipeline.cli import stage_main

    sys.exit(stage_main(STAGE.name))
