"""Long SFT: multi-document question answering; the answer sits in one document among distractors.

As in "Lost in the Middle" (Liu et al. 2024): the gold document's position is drawn at random so
the model learns to find evidence anywhere in a long context. With an LLM generator the question is the
model's rewrite of the gold sentence into a natural question; the answer stays the number the pipeline
took from the gold document (a rewrite that contains it, or is no question, is dropped).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from pipeline.mix.tokens import estimate_tokens
from pipeline.synth.filters import FilterConfig, text_reason
from pipeline.synth.generator import ChatRequest, Generator
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
    filters: FilterConfig = field(default_factory=lambda: FilterConfig(min_words=5, max_words=80))


def question_messages(sentence: str, number: str) -> list[dict[str, str]]:
    def ask(sent: str, num: str) -> str:
        return f"Sentence: \"{sent}\"\nWrite a question this sentence answers with {num}."

    return [{"role": "user", "content": ask("The tower is 330 metres tall.", "330")},
            {"role": "assistant", "content": "How tall is the tower, in metres?"},
            {"role": "user", "content": ask(sentence, number)}]


def question_reason(question: str, number: str, filters: FilterConfig) -> str | None:
    reason = text_reason(question, filters)
    if reason is None and (number in question or "?" not in question):
        reason = "checker_failure"  # the question gives the answer away, or asks nothing
    return reason


def generate(docs: list[dict], cfg: LongSftConfig, seed: int, group: str = "", generator: Generator | None = None):
    counts: Counter = Counter()
    docs = sorted(docs, key=lambda d: d["id"])
    rng = seeded_rng(seed, NAME, group)
    candidates = [(d, numeric_facts(d["text"][: cfg.max_doc_chars])) for d in docs]
    candidates = [(d, f) for d, f in candidates if f]
    rng.shuffle(candidates)
    records, items = [], []
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
        question = f"Using the documents above, which number is missing here: \"{blanked}\"?"
        response = f"Document [{pos + 1}] says: \"{sentence}\" The missing number is {number}."
        ids = [gold["id"]] + [d["id"] for d in rest]
        items.append((context, question, response, ids, gold, pos, sentence, number))
    if generator is not None and generator.name != "template" and items:
        outs = generator.complete([ChatRequest("question", question_messages(it[6], it[7])) for it in items])
        kept = []
        for it, out in zip(items, outs, strict=True):
            reason = "no_response" if not out or not out.strip() else question_reason(out.strip(), it[7], cfg.filters)
            if reason:
                counts[f"dropped_{reason}"] += 1
                continue
            response = f"According to Document [{it[5] + 1}]: {it[7]}. It says: \"{it[6]}\""
            kept.append((it[0], out.strip(), response, *it[3:]))
        items = kept
    for context, question, response, ids, gold, pos, _, _ in items:
        rec = sft_record(NAME, ids, gold.get("domain"), f"{context}\n\n{question}", response)
        rec["gold_position"] = pos + 1
        records.append(rec)
        counts["records"] += 1
    return records, counts
