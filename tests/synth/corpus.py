"""A tiny deterministic corpus for synth and tokenize tests."""

from __future__ import annotations

import random

TOPICS = {
    "science": ["The reactor produced {n} megawatts during the trial.", "Researchers observed {n} samples in the lab.",
                "The telescope recorded light from {n} galaxies.", "Cells divided every {n} minutes in culture."],
    "history": ["The treaty was signed by {n} delegates.", "The castle held {n} soldiers in winter.",
                "The empire collected taxes from {n} provinces.", "The fleet counted {n} ships at its height."],
}


def make_docs(n_per_domain: int = 12, sentences: int = 14, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    docs = []
    for domain, templates in TOPICS.items():
        for i in range(n_per_domain):
            used: set[int] = set()
            parts = []
            for _ in range(sentences):
                n = rng.randint(100, 99999)
                while n in used:
                    n = rng.randint(100, 99999)
                used.add(n)
                parts.append(rng.choice(templates).format(n=n))
            docs.append({"id": f"{domain}-{i:03d}", "text": " ".join(parts), "title": f"{domain} note {i}",
                         "domain": domain, "semantic_cluster": i % 2})
    return docs
