"""Long pretrain: concatenate related documents (same domain/cluster, most similar next) up to a length.

In-context pretraining (Shi et al. 2024, "ICLM") packs each long sequence with related documents
so the model learns to read across them; every document is used at most once.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from pipeline.mix.tokens import estimate_tokens
from pipeline.synth.records import make_record
from pipeline.synth.similarity import greedy_path, hashed_bow
from pipeline.synth.text import seeded_rng

NAME = "long_pretrain"
SEPARATOR = "\n\n"


@dataclass
class LongPretrainConfig:
    enabled: bool = True
    target_tokens: int = 8192  # a long-context stage length (Llama 3: 8k base, extended later)
    max_records: int = 200
    max_docs_per_group: int = 2000  # the greedy path is O(n^2) in a group
    bytes_per_token: float = 3.4  # docs/facts.md: byte-level BPE 8k vocab


def generate(docs: list[dict], cfg: LongPretrainConfig, seed: int, group: str = ""):
    counts: Counter = Counter()
    docs = sorted(docs, key=lambda d: d["id"])[: cfg.max_docs_per_group]
    if not docs:
        return [], counts
    start = seeded_rng(seed, NAME, group).randrange(len(docs))
    order = greedy_path(hashed_bow([d["text"] for d in docs]), start)
    records, current, tokens = [], [], 0
    for i in order:
        current.append(docs[i])
        tokens += estimate_tokens(docs[i]["text"] + SEPARATOR, cfg.bytes_per_token)
        if tokens >= cfg.target_tokens:
            text = SEPARATOR.join(d["text"] for d in current)
            ids = [d["id"] for d in current]
            records.append(make_record("pretrain", NAME, ids, current[0].get("domain"), 0, text=text,
                                       title=f"related documents ({len(ids)})",
                                       tokens_estimate=estimate_tokens(text, cfg.bytes_per_token)))
            current, tokens = [], 0
    counts["records"] += len(records)
    counts["docs_left_over"] += len(current)  # too few related tokens left for one more sequence
    return records, counts
