"""Long SFT: multi-document question answering; the answer sits in one document among distractors.

As in "Lost in the Middle" (Liu et al. 2024): the gold document's position is drawn at random so
the model learns to find evidence anywhere in a long context.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from pipeline.mix.tokens import estimate_tokens
from pipeline.synth.records import sft_record
from pipeline.synth.text import numeric_facts, seeded_rng, title_of

NAME = "long_sft"


@dataclass
class LongSftConfig:
    enabled: bool = True
    target_tokens: int = 4096  # context filled with distractors up to this length
    per_group: int = 8  # questions per domain/cluster group
    max_records: int = 500
    max_doc_chars: int = 4000
    bytes_per_token: float = 3.4  # docs/facts.md


def generate(docs: list[dict], cfg: LongSftConfig, seed: int, group: str = ""):
    counts: Counter = Counter()
    docs = sorted(docs, key=lambda d: d["id"])
    rng = seeded_rng(seed, NAME, group)
    candidates = [(d, numeric_facts(d["text"][: cfg.max_doc_chars])) for d in docs]
    candidates = [(d, f) for d, f in candidates if f]
    rng.shuffle(candidates)
    records = []
    for gold, facts in candidates[: cfg.per_group]:
        sentence, number = rng.choice(facts)
        others = [d for d in docs if d["id"] != gold["id"] and number not in d["text"][: cfg.max_doc_chars]]
        rng.shuffle(others)
        chosen, tokens = [gold], estimate_tokens(gold["text"][: cfg.max_doc_chars], cfg.bytes_per_token)
        for d in others:
            if tokens >= cfg.target_tokens:
                break
            chosen.append(d)
            tokens += estimate_tokens(d["text"][: cfg.max_doc_chars], cfg.bytes_per_token)
        if len(chosen) < 2:
            counts["rejected_no_distractors"] += 1
            continue
        rest = chosen[1:]
        pos = rng.randrange(len(chosen))
        ordered = rest[:pos] + [gold] + rest[pos:]
        context = "\n\n".join(f"Document [{k + 1}] {title_of(d)}\n{d['text'][: cfg.max_doc_chars]}"
                              for k, d in enumerate(ordered))
        blanked = sentence.replace(number, "___", 1)
        prompt = f"{context}\n\nUsing the documents above, which number is missing here: \"{blanked}\"?"
        response = f"Document [{pos + 1}] says: \"{sentence}\" The missing number is {number}."
        ids = [gold["id"]] + [d["id"] for d in rest]
        rec = sft_record(NAME, ids, gold.get("domain"), prompt, response)
        rec["gold_position"] = pos + 1
        records.append(rec)
        counts["records"] += 1
    return records, counts
