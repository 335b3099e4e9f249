"""Spherical k-means over an embeddings DataFrame, deterministic whatever the partitioning.

MLlib's KMeans seeds with k-means|| (or random) sampling that walks partitions, so the same data split
differently gives different centroids. Here the initial centroids are the k documents with the
smallest seeded hash of their id, and each Lloyd step sums per partition (float64) and reduces the
k partial sums on the driver: only k x dim numbers per partition ever leave the executors.
"""

from __future__ import annotations

import numpy as np


def _partial_sums(centroids_bc, dim: int):
    def run(batches):
        import pandas as pd

        from pipeline.dedup.semdedup import assign

        cent = centroids_bc.value
        sums = np.zeros((len(cent), dim), dtype=np.float64)
        counts = np.zeros(len(cent), dtype=np.int64)
        for pdf in batches:
            if len(pdf) == 0:
                continue
            emb = np.stack(pdf["emb"].to_numpy()).astype(np.float32)
            cluster, _ = assign(emb, cent)
            np.add.at(sums, cluster, emb.astype(np.float64))
            counts += np.bincount(cluster, minlength=len(cent))
        nz = np.nonzero(counts)[0]
        if len(nz) == 0:  # a partition with no vectors: an empty list column has no Arrow type
            return
        yield pd.DataFrame({"cluster": nz.astype(np.int32), "n": counts[nz],
                            "s": [sums[c].tolist() for c in nz]})

    return run


def spherical_kmeans(emb_df, k: int, seed: int, max_iter: int = 20, tol: float = 1e-4) -> np.ndarray:
    """emb_df(id string, emb array<float>) -> centroids (k x dim, float32, unit norm)."""
    from pyspark.sql import functions as F

    from pipeline.dedup.semdedup import l2_normalise

    spark = emb_df.sparkSession
    init = (emb_df.withColumn("h", F.xxhash64(F.lit(str(seed)), "id")).orderBy("h", "id").limit(k)
            .select("emb").collect())
    cent = l2_normalise(np.array([r["emb"] for r in init], dtype=np.float32))
    dim = cent.shape[1]
    for _ in range(max_iter):
        bc = spark.sparkContext.broadcast(cent)
        parts = emb_df.select("emb").mapInPandas(_partial_sums(bc, dim),
                                                 "cluster int, n long, s array<double>").collect()
        bc.unpersist()
        sums = np.zeros((len(cent), dim), dtype=np.float64)
        # Sorted reduction order: the float sum does not depend on which partition answered first.
        for row in sorted(parts, key=lambda r: (r["cluster"], r["n"], r["s"][0])):
            sums[row["cluster"]] += np.asarray(row["s"])
        empty = np.linalg.norm(sums, axis=1) == 0
        new = l2_normalise(sums).astype(np.float32)
        new[empty] = cent[empty]  # an emptied cluster keeps its old centroid
        shift = float(np.max(1.0 - np.sum(new * cent, axis=1)))
        cent = new
        if shift < tol:
            break
    return cent
