"""Candidate pairs from LSH band buckets, and their verification, as Spark DataFrame operations.

Documents sharing a (band, key) bucket are candidates. Small buckets give all their pairs; a bucket
larger than `max_bucket` (boilerplate pages, templated spam) gives a star to its smallest id instead,
so one hot bucket cannot emit k^2 pairs. Verification computes exact Jaccard of the shingle-hash sets,
each a sorted uint32 array packed in one binary value (4 bytes a shingle: array<bigint> rows cost the
JVM ~4x that, and Arrow a Python int each), by binary search in numpy; or the MinHash estimate from
signatures in the JVM.
"""

from __future__ import annotations

import numpy as np


def candidate_pairs(bands, max_bucket: int = 100):
    """bands(id, band, key) -> distinct pairs (src < dst) of ids sharing a bucket."""
    from pyspark.sql import functions as F

    buckets = (bands.groupBy("band", "key").agg(F.sort_array(F.collect_list("id")).alias("ids"))
               .filter(F.size("ids") > 1))
    small = buckets.filter(F.size("ids") <= max_bucket)
    pairs = (small.select("ids", F.posexplode("ids").alias("i", "src"))
             .select("i", "src", F.posexplode("ids").alias("j", "dst"))
             .filter(F.col("i") < F.col("j")).select("src", "dst"))
    stars = (buckets.filter(F.size("ids") > max_bucket)
             .select(F.col("ids")[0].alias("src"), F.explode(F.slice("ids", 2, 1 << 30)).alias("dst")))
    return pairs.unionByName(stars).distinct()


def verify_pairs(pairs, features, method: str, threshold: float, num_perm: int):
    """Keep pairs whose similarity >= threshold; adds a `similarity` column.

    features(id, shingles binary, sig array<int>). method: "exact" (Jaccard of shingle sets, see
    `pack_set`), "signature" (fraction of equal MinHash values) or "none" (every candidate kept).
    """
    from pyspark.sql import functions as F

    if method == "none":
        return pairs.withColumn("similarity", F.lit(None).cast("double"))
    col = {"exact": "shingles", "signature": "sig"}.get(method)
    if col is None:
        raise ValueError(f"verify must be exact, signature or none, got {method!r}")
    left = features.select(F.col("id").alias("src"), F.col(col).alias("x"))
    right = features.select(F.col("id").alias("dst"), F.col(col).alias("y"))
    joined = pairs.join(left, "src").join(right, "dst")
    if method == "exact":
        return joined.mapInPandas(_exact_batches(threshold), "src string, dst string, similarity double")
    equal = F.zip_with("x", "y", lambda x, y: F.when(x == y, 1).otherwise(0))
    sim = F.aggregate(equal, F.lit(0), lambda acc, v: acc + v) / F.lit(num_perm)
    return (joined.withColumn("similarity", sim.cast("double"))
            .filter(F.col("similarity") >= threshold).select("src", "dst", "similarity"))


def pack_set(values: np.ndarray) -> bytes:
    """A sorted set of 32-bit shingle hashes as one binary value (little-endian uint32)."""
    return values.astype("<u4").tobytes()


def unpack_set(raw: bytes) -> np.ndarray:
    return np.frombuffer(raw, dtype="<u4")


def _exact_batches(threshold: float):
    def run(batches):
        from pipeline.dedup.shingles import sorted_jaccard

        for pdf in batches:
            sim = np.array([sorted_jaccard(unpack_set(x), unpack_set(y))
                            for x, y in zip(pdf["x"], pdf["y"], strict=True)], dtype=np.float64)
            keep = sim >= threshold
            yield pdf.loc[keep, ["src", "dst"]].assign(similarity=sim[keep])

    return run


def size_histogram(sizes: dict[int, int]) -> dict[str, int]:
    """Cluster counts per size bin (2, 3-4, 5-8, ...): power-of-two bins keep the table short."""
    out: dict[str, int] = {}
    for size, count in sorted(sizes.items()):
        hi = 2
        while hi < size:
            hi *= 2
        lo = hi // 2 + 1 if hi > 2 else 2
        key = str(hi) if lo == hi else f"{lo}-{hi}"
        out[key] = out.get(key, 0) + count
    return out
