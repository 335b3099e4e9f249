"""Short SFT: an instruction/response pair grounded in one document (LLM, or a template offline)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from pipeline.synth.filters import FilterConfig, NearDuplicates, text_reason
from pipeline.synth.generator import ChatRequest, Generator, parse_sft_pair, sft_pair_messages
from pipeline.synth.records import sft_record
from pipeline.synth.text import seeded_rng

NAME = "short_sft"


@dataclass
class ShortSftConfig:
    enabled: bool = True
    sample_rate: float = 0.1
    max_records: int = 1000
    max_input_chars: int = 6000  # keeps prompt + document inside a 4k-token context
    min_response_words: int = 3
    filters: FilterConfig = field(default_factory=FilterConfig)


def generate(docs: list[dict], cfg: ShortSftConfig, generator: Generator, seed: int):
    counts: Counter = Counter()
    jobs = []
    for doc in docs:
        text = doc["text"][: cfg.max_input_chars]
        variant = seeded_rng(seed, NAME, doc["id"]).choice(["summary", "title"])
        payload = {"text": text, "title": doc.get("title"), "variant": variant}
        jobs.append((doc, ChatRequest("sft_pair", sft_pair_messages(text), payload)))
    outputs = generator.complete([j[1] for j in jobs])
    records = []
    dups = NearDuplicates(cfg.filters)
    for (doc, _), out in zip(jobs, outputs, strict=True):
        pair = parse_sft_pair(out)
        if pair is None:
            counts["dropped_unparseable" if out else "dropped_no_response"] += 1
            continue
        reason = (text_reason(pair[0], cfg.filters, min_words=2)
                  or text_reason(pair[1], cfg.filters, min_words=cfg.min_response_words))
        if reason is None and dups.seen(f"{pair[0]}\n{pair[1]}"):
            reason = "near_duplicate"
        if reason:
            counts[f"dropped_{reason}"] += 1
            continue
        records.append(sft_record(NAME, [doc["id"]], doc.get("domain"), pair[0], pair[1]))
        counts["records"] += 1
    return records, counts
