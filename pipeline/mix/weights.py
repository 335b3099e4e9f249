"""Sampling weights inside a group: semantic-cluster temperature and quality, as priority keys.

Down-sampling a group keeps the documents with the highest Efraimidis-Spirakis key
log(u) / w (u uniform from a seeded hash of the id): a weighted sample without replacement,
reproducible under any partitioning. The weight w of a document is
  cluster:  p_c / n_c with p_c proportional to n_c^(1/T): T=1 samples clusters in proportion to
            their size, larger T flattens toward one share per cluster (temperature sampling as in
            multilingual mixing, mT5/Xue et al. 2021 use alpha = 1/T = 0.3);
  quality:  exp(z / T_q), z the quality score standardised within the group (optional).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def cluster_doc_weights(sizes: dict, temperature: float) -> dict:
    """Per-document weight of each cluster (mean 1 over documents), from cluster sizes."""
    if temperature <= 0:
        raise ValueError("temperature must be > 0")
    n = np.array([float(v) for v in sizes.values()])
    if n.size == 0:
        return {}
    p = n ** (1.0 / temperature)
    p /= p.sum()
    w = p / n * n.sum()  # normalise so the average document weight is 1
    return dict(zip(sizes.keys(), w.tolist(), strict=True))


def cluster_shares(sizes: dict, temperature: float) -> dict:
    """Share of a weighted sample each cluster is expected to get (p_c above)."""
    n = np.array([float(v) for v in sizes.values()])
    p = n ** (1.0 / temperature)
    return dict(zip(sizes.keys(), (p / p.sum()).tolist(), strict=True))


def quality_doc_weights(z: pd.Series, temperature: float) -> pd.Series:
    """exp(z / T), z already standardised; missing scores count as average (z = 0)."""
    return np.exp(z.fillna(0.0).clip(-6, 6) / temperature)


def uniform_from_hash(h: pd.Series) -> pd.Series:
    """Signed 64-bit hashes to floats strictly inside (0, 1)."""
    bits = (h.astype("int64").to_numpy().view("uint64") >> np.uint64(11)).astype("float64")
    return pd.Series((bits + 0.5) / float(1 << 53), index=h.index)


def priority_keys(u: pd.Series, w: pd.Series) -> pd.Series:
    """Efraimidis & Spirakis 2006: keep the largest log(u)/w for a weighted sample without replacement."""
    return np.log(u) / w.clip(lower=1e-12)
