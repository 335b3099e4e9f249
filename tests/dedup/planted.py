"""Planted near-duplicates at known 5-gram Jaccard similarities (tests and benchmarks/dedup.py)."""

from __future__ import annotations

import random

VOCAB = [f"w{i:04d}" for i in range(3000)]

def random_words(rng: random.Random, n: int) -> list[str]:
    return [rng.choice(VOCAB) for _ in range(n)]


def near_copy(words: list[str], jaccard_target: float, rng: random.Random, n: int = 5,
              offset: int | None = None) -> list[str]:
    """Replace evenly spaced words until the 5-gram Jaccard with `words` is about `jaccard_target`.

    Each replaced word breaks up to n shingles; with k edits spaced >= n apart, shared = S - n*k,
    Jaccard = (S - n*k) / (S + n*k), so k = S(1 - J) / (n(1 + J)).
    """
    shingles = len(words) - n + 1
    k = max(1, round(shingles * (1 - jaccard_target) / (n * (1 + jaccard_target))))
    out = list(words)
    step = len(words) // k
    start = step // 2 if offset is None else offset
    for i in range(k):
        out[i * step + start] = f"x{rng.randrange(10**9)}"
    return out


def doc(id_: str, text: str, source: str = "web") -> dict:
    return {"id": id_, "text": text, "source": source, "url": f"https://example.org/{id_}", "title": None,
            "lang": "en", "lang_score": 0.99, "fetched_at": None, "metadata": None}
