"""Long RL: needle-in-a-haystack and multi-key retrieval over long contexts, exact-match answers.

The haystack is real documents (Kamradt's NIAH; RULER, Hsieh et al. 2024, for the multi-key
variant); needle values are random 7-digit numbers that appear exactly once in the context.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from pipeline.mix.tokens import estimate_tokens
from pipeline.synth.records import rl_record
from pipeline.synth.text import seeded_rng

NAME = "long_rl"
KEY_WORDS = ["amber", "river", "granite", "falcon", "velvet", "orchard", "copper", "meadow", "silent", "harbor", "crimson", "willow", "lunar", "canyon", "violet", "summit"]


@dataclass
class LongRlConfig:
    enabled: bool = True
    target_tokens: int = 8192  # haystack length; RULER evaluates 4k-128k
    per_group: int = 4
    max_records: int = 500
    tasks: list[str] = field(default_factory=lambda: ["needle", "multi_key"])
    distractor_keys: int = 4  # other key/value needles in a multi_key haystack (RULER "MK-NIAH")
    bytes_per_token: float = 3.4  # docs/facts.md


def _needle(rng) -> tuple[str, str]:
    return f"{rng.choice(KEY_WORDS)}-{rng.choice(KEY_WORDS)}-{rng.randint(100, 999)}", str(rng.randint(10**6, 10**7 - 1))


def _haystack(docs: list[dict], rng, target: int, bpt: float) -> tuple[list[str], list[str]]:
    order = list(range(len(docs)))
    rng.shuffle(order)
    parts, ids, tokens = [], [], 0
    while tokens < target and docs:
        for i in order:  # cycles over the group again when it holds fewer tokens than the target
            parts.append(docs[i]["text"])
            ids.append(docs[i]["id"])
            tokens += estimate_tokens(docs[i]["text"] + "\n\n", bpt)
            if tokens >= target:
                break
    return parts, list(dict.fromkeys(ids))


def generate(docs: list[dict], cfg: LongRlConfig, seed: int, group: str = ""):
    counts: Counter = Counter()
    docs = sorted(docs, key=lambda d: d["id"])
    records = []
    for n in range(cfg.per_group if docs else 0):
        rng = seeded_rng(seed, NAME, group, str(n))
        task = rng.choice(cfg.tasks)
        parts, ids = _haystack(docs, rng, cfg.target_tokens, cfg.bytes_per_token)
        hay = "\n\n".join(parts)
        needles = [_needle(rng) for _ in range(1 + (cfg.distractor_keys if task == "multi_key" else 0))]
        key, value = needles[0]
        values = [v for _, v in needles]
        if len(set(values)) != len(values) or any(v in hay for v in values) or len({k for k, _ in needles}) < len(needles):
            counts["rejected_needle_collision"] += 1
            continue
        for k, v in needles:  # insert each needle at a random paragraph boundary (random depth)
            paras = hay.split("\n\n")
            at = rng.randint(0, len(paras))
            paras.insert(at, f"The special magic number for {k} is {v}.")
            hay = "\n\n".join(paras)
        question = (f"{hay}\n\nWhat is the special magic number for {key} mentioned in the text above? "
                    "Reply with the number only.")
        rec = rl_record(NAME, ids, docs[0].get("domain"), question, value, "exact_match", None, task, index=n)
        rec["context_tokens_estimate"] = estimate_tokens(hay, cfg.bytes_per_token)
        records.append(rec)
        counts[f"task_{task}"] += 1
        counts["records"] += 1
    return records, counts
