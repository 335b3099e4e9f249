"""Semantic dedup (SemDeDup): embeddings, k-means clusters (`semantic_cluster`), near-duplicates dropped per cluster."""

import sys
from dataclasses import dataclass, field

from pipeline.stage import Stage, StageContext, StageResult


@dataclass
class DedupSemanticConfig:
    embedding_backend: str = "model2vec"  # model2vec (shipped, fast) | hashed (no model) | minilm (optional)
    model_path: str = ""  # model2vec directory; empty: the one shipped in pipeline/dedup/models/
    hashed_dim: int = 512  # feature-hashing width for the "hashed" backend
    # SemDeDup (Abbas et al. 2023): duplicates have cosine >= 1 - eps within a k-means cluster.
    # The paper sweeps eps 0.01-0.1; 0.05 keeps paraphrases in and topic neighbours out on MiniLM/model2vec.
    eps: float = 0.05
    num_clusters: int = 0  # 0: ceil(documents / target_cluster_size)
    target_cluster_size: int = 1000  # SemDeDup used ~9k/cluster for LAION; smaller keeps groups in memory
    kmeans_max_iter: int = 20  # SemDeDup/faiss default for spherical k-means is 20 iterations
    drop_duplicates: bool = True  # False: annotate semantic_cluster and dup_semantic_* only
    # The shipped embedding model is English MiniLM: text in other scripts collapses to near-identical
    # vectors (Chinese pages scored cosine 0.95-0.99 with each other), so only these languages are
    # compared; other documents pass through unjudged ([] = compare every document).
    languages: list[str] = field(default_factory=lambda: ["en"])


class DedupSemantic(Stage):
    name = "dedup-semantic"
    config_class = DedupSemanticConfig

    def run(self, ctx: StageContext) -> StageResult:
        import math

        from pyspark.sql import functions as F

        from pipeline.dedup.candidates import size_histogram
        from pipeline.dedup.kmeans import spherical_kmeans

        s = ctx.settings
        all_docs = ctx.read_documents()
        if s.languages:
            judged = F.coalesce(F.col("lang").isin(list(s.languages)), F.lit(False))
            docs, unjudged = all_docs.filter(judged), all_docs.filter(~judged)
        else:
            docs, unjudged = all_docs, None
        emb = docs.select("id", "text").mapInPandas(_embed_batches(s), "id string, emb array<float>").cache()
        n = emb.count()
        k = max(1, min(n, s.num_clusters or math.ceil(n / max(1, s.target_cluster_size))))
        centroids = spherical_kmeans(emb, k, ctx.seed, s.kmeans_max_iter) if n else None
        bc = ctx.spark.sparkContext.broadcast(centroids)
        assigned = emb.mapInPandas(_assign_batches(bc), "id string, semantic_cluster int, emb array<float>")
        table = assigned.groupBy("semantic_cluster").applyInPandas(
            _dedup_cluster(s.eps), "id string, semantic_cluster int, semantic_cluster_size int, "
                                   "dup_semantic_of string, dup_semantic_similarity double").cache()
        annotated = docs.join(table.drop("semantic_cluster_size"), "id")
        is_dup = F.col("dup_semantic_of").isNotNull()
        kept = annotated.filter(~is_dup) if s.drop_duplicates else annotated
        if unjudged is not None:
            kept = kept.unionByName(unjudged, allowMissingColumns=True)
        n_dups = table.filter(is_dup).count()
        sizes = {r["semantic_cluster_size"]: r["n"] for r in table.groupBy("semantic_cluster", "semantic_cluster_size")
                 .count().groupBy("semantic_cluster_size").agg(F.count("*").alias("n")).collect()}
        stats = {"embedding_backend": s.embedding_backend, "eps": s.eps, "kmeans_clusters": k,
                 "languages": list(s.languages), "judged": n,
                 "duplicates": n_dups, "dropped": {"semantic_duplicate": n_dups if s.drop_duplicates else 0},
                 "cluster_size_histogram": size_histogram(sizes)}
        side = {"clusters": table}
        if s.drop_duplicates:
            side["rejected"] = annotated.filter(is_dup).withColumn("reject_reason", F.lit("semantic_duplicate"))
        return StageResult(documents=kept, stats=stats, side_outputs=side)


def _embed_batches(s: DedupSemanticConfig):
    def run(batches):
        import pandas as pd

        from pipeline.dedup.embeddings import embed

        for pdf in batches:
            if pdf.empty:  # Arrow cannot type an empty column of vectors; nothing to embed anyway
                continue
            vecs = embed(pdf["text"].tolist(), s.embedding_backend, s.model_path, s.hashed_dim)
            yield pd.DataFrame({"id": pdf["id"].astype(object).values, "emb": list(vecs)})

    return run


def _assign_batches(centroids_bc):
    def run(batches):
        import numpy as np
        import pandas as pd

        from pipeline.dedup.semdedup import assign

        for pdf in batches:
            if pdf.empty:
                continue
            vecs = np.stack(pdf["emb"].to_numpy())
            cluster = assign(vecs, centroids_bc.value)[0]
            yield pd.DataFrame({"id": pdf["id"].astype(object).values, "semantic_cluster": cluster,
                                "emb": pdf["emb"].values})

    return run


def _dedup_cluster(eps: float):
    def run(pdf):
        import numpy as np
        import pandas as pd

        from pipeline.dedup.semdedup import near_duplicates

        pdf = pdf.sort_values("id", kind="stable").reset_index(drop=True)
        vecs = np.stack(pdf["emb"].to_numpy()).astype(np.float32)
        is_dup, dup_of = near_duplicates(vecs, eps)
        ids = pdf["id"].to_numpy(dtype=object)
        sims = np.where(is_dup, np.sum(vecs * vecs[np.maximum(dup_of, 0)], axis=1), np.nan)
        return pd.DataFrame({
            "id": ids, "semantic_cluster": pdf["semantic_cluster"].astype("int32"),
            "semantic_cluster_size": np.full(len(pdf), len(pdf), dtype="int32"),
            "dup_semantic_of": pd.Series(np.where(is_dup, ids[np.maximum(dup_of, 0)], None), dtype=object),
            "dup_semantic_similarity": sims.astype("float64"),
        })

    return run


STAGE = DedupSemantic()

if __name__ == "__main__":
    from pipeline.cli import stage_main

    sys.exit(stage_main(STAGE.name))
