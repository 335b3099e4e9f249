"""Short pretrain: rephrase documents in another style (WRAP, Maini et al. 2024: "like Wikipedia", "as Q&A")."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from pipeline.synth.filters import FilterConfig, NearDuplicates, strip_preamble, text_reason
from pipeline.synth.generator import ChatRequest, Generator, rephrase_messages
from pipeline.synth.records import make_record
from pipeline.synth.text import seeded_rng, title_of

NAME = "short_pretrain"


@dataclass
class ShortPretrainConfig:
    enabled: bool = True
    sample_rate: float = 0.1  # share of documents rephrased (WRAP mixes real and rephrased 1:1 at most)
    max_records: int = 1000
    styles: list[str] = field(default_factory=lambda: ["wikipedia", "qa"])  # WRAP's two best styles
    max_input_chars: int = 6000  # WRAP rephrases chunks of ~300 tokens; long docs are cut
    filters: FilterConfig = field(default_factory=FilterConfig)


def generate(docs: list[dict], cfg: ShortPretrainConfig, generator: Generator, seed: int):
    counts: Counter = Counter()
    jobs = []
    for doc in docs:
        style = seeded_rng(seed, NAME, doc["id"]).choice(cfg.styles)
        text = doc["text"][: cfg.max_input_chars]
        payload = {"text": text, "title": doc.get("title"), "style": style}
        jobs.append((doc, style, ChatRequest("rephrase", rephrase_messages(text, style), payload)))
    outputs = generator.complete([j[2] for j in jobs])
    records = []
    dups = NearDuplicates(cfg.filters)
    for (doc, style, request), out in zip(jobs, outputs, strict=True):
        if not out or not out.strip():
            counts["dropped_no_response"] += 1
            continue
        out = strip_preamble(out)
        # the template fallback re-wraps source sentences by design: only an LLM's rewrite can be a copy
        source = None if generator.name == "template" else request.payload["text"]
        reason = text_reason(out, cfg.filters, source=source)
        if reason is None and dups.seen(out):
            reason = "near_duplicate"
        if reason:
            counts[f"dropped_{reason}"] += 1
            continue
        records.append(make_record("pretrain", NAME, [doc["id"]], doc.get("domain"), 0, text=out,
                                   title=f"{title_of(doc)} ({style})", style=style))
        counts["records"] += 1
    return records, counts
