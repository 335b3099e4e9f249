"""SemDeDup (Abbas et al. 2023) within one k-means cluster: drop embeddings too close to an earlier one.

Documents are ordered by id; document j is a duplicate when its cosine similarity to some earlier
document i < j in the same cluster is >= 1 - eps (the paper's rule: the max over the upper triangle of
the similarity matrix, so the smallest id of each near-duplicate group survives). The similarity matrix
is built in row blocks, so memory is block x cluster size, never cluster size squared.
"""

from __future__ import annotations

import numpy as np

BLOCK = 1024


def l2_normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms == 0, 1.0, norms)


def near_duplicates(emb: np.ndarray, eps: float, block: int = BLOCK) -> tuple[np.ndarray, np.ndarray]:
    """For rows already sorted by id: (is_duplicate bool, index of the earliest row it duplicates or -1)."""
    emb = l2_normalise(np.asarray(emb, dtype=np.float32))
    n = len(emb)
    dup_of = np.full(n, -1, dtype=np.int64)
    for lo in range(0, n, block):
        hi = min(lo + block, n)
        sims = emb[lo:hi] @ emb[:hi].T  # rows lo..hi against every earlier-or-equal row
        cols = np.arange(hi)[None, :]
        rows = np.arange(lo, hi)[:, None]
        close = (sims >= 1.0 - eps) & (cols < rows)
        has = close.any(axis=1)
        dup_of[lo:hi] = np.where(has, close.argmax(axis=1), -1)
    return dup_of >= 0, dup_of


def kmeans_init(ids: list[str], k: int, seed: int) -> list[str]:
    """Initial centroids: the k ids with the smallest seeded hash, independent of row order and partitions."""
    import xxhash

    return sorted(ids, key=lambda i: (xxhash.xxh3_64_intdigest(i.encode(), seed=seed), i))[:k]


def assign(emb: np.ndarray, centroids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centroid by cosine (spherical k-means, as SemDeDup uses): (cluster, similarity)."""
    sims = l2_normalise(np.asarray(emb, dtype=np.float32)) @ centroids.T
    best = sims.argmax(axis=1)
    return best.astype(np.int32), sims[np.arange(len(sims)), best].astype(np.float64)
