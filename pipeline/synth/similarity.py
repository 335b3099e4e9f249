"""Order related documents by similarity (in-context pretraining, Shi et al. 2024): hashed bag-of-words
cosine and a greedy nearest-neighbour path that visits each document once."""

from __future__ import annotations

import re
import zlib

import numpy as np

_WORD = re.compile(r"\w+")


def hashed_bow(texts: list[str], dim: int = 4096) -> np.ndarray:
    """L2-normalised term-count vectors with words hashed (crc32) into `dim` buckets."""
    m = np.zeros((len(texts), dim), dtype=np.float32)
    for i, text in enumerate(texts):
        for w in _WORD.findall(text.lower()):
            m[i, zlib.crc32(w.encode()) % dim] += 1.0
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(norms == 0, 1.0, norms)


def greedy_path(vectors: np.ndarray, start: int = 0) -> list[int]:
    """Start at `start`, always step to the most similar unvisited document (ICLM's greedy traversal)."""
    n = len(vectors)
    if n == 0:
        return []
    sims = vectors @ vectors.T
    visited = np.zeros(n, dtype=bool)
    order = [start]
    visited[start] = True
    for _ in range(n - 1):
        row = np.where(visited, -np.inf, sims[order[-1]])
        nxt = int(np.argmax(row))
        order.append(nxt)
        visited[nxt] = True
    return order
