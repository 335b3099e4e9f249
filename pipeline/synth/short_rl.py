"""Short RL: prompts with verifiable answers (arithmetic, unit conversion, a fact in the document)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from pipeline.synth.checkers import DEFAULT_TOLERANCE, check
from pipeline.synth.records import rl_record
from pipeline.synth.text import numeric_facts, seeded_rng

NAME = "short_rl"

# (from, to, factor, offset): value_to = value_from * factor + offset (exact SI definitions).
UNITS = [("kilometres", "metres", 1000.0, 0.0), ("miles", "kilometres", 1.609344, 0.0),
         ("pounds", "kilograms", 0.45359237, 0.0), ("inches", "centimetres", 2.54, 0.0),
         ("hours", "seconds", 3600.0, 0.0), ("degrees Celsius", "degrees Fahrenheit", 1.8, 32.0),
         ("litres", "millilitres", 1000.0, 0.0), ("kilobytes", "bytes", 1024.0, 0.0)]
_INT = re.compile(r"(?<![\w.,])\d{1,6}(?![\w.,]\d)")


@dataclass
class ShortRlConfig:
    enabled: bool = True
    sample_rate: float = 0.2
    max_records: int = 2000
    tasks: list[str] = field(default_factory=lambda: ["arithmetic", "unit_conversion", "fact_extraction"])
    max_context_chars: int = 4000  # the document quoted in fact-extraction prompts


def _arithmetic(doc: dict, rng) -> tuple[str, str]:
    nums = [int(n) for n in _INT.findall(doc["text"])][:20]
    a, b = (rng.sample(nums, 2) if len(nums) >= 2 else (rng.randint(10, 999), rng.randint(10, 999)))
    op = rng.choice(["+", "-", "*"])
    value = {"+": a + b, "-": a - b, "*": a * b}[op]
    intro = "A document mentions the numbers {a} and {b}. " if len(nums) >= 2 else ""
    return f"{intro.format(a=a, b=b)}What is {a} {op} {b}?", str(value)


def _unit_conversion(rng) -> tuple[str, str]:
    src, dst, factor, offset = rng.choice(UNITS)
    value = round(rng.uniform(1, 500), rng.choice([0, 1, 2]))
    value = int(value) if float(value).is_integer() else value
    answer = round(value * factor + offset, 6)
    return f"Convert {value} {src} to {dst}.", f"{answer:g}"


def _fact(doc: dict, rng, max_chars: int) -> tuple[str, str] | None:
    context = doc["text"][:max_chars]
    facts = numeric_facts(context)
    if not facts:
        return None
    sentence, number = rng.choice(facts)
    blanked = sentence.replace(number, "___", 1)
    question = (f"Read the document and answer.\n\nDocument:\n{context}\n\n"
                f"Which number is missing from this sentence of the document: \"{blanked}\"?")
    return question, number


def generate(docs: list[dict], cfg: ShortRlConfig, seed: int):
    counts: Counter = Counter()
    records = []
    for doc in docs:
        rng = seeded_rng(seed, NAME, doc["id"])
        task = rng.choice(cfg.tasks)
        made = None
        if task == "fact_extraction":
            made = _fact(doc, rng, cfg.max_context_chars)
            if made is None:
                task = "arithmetic"  # no number occurs exactly once: fall back to a computed answer
        if made is None:
            made = _arithmetic(doc, rng) if task == "arithmetic" else _unit_conversion(rng)
        question, answer = made
        tolerance = DEFAULT_TOLERANCE[task] or None
        record = rl_record(NAME, [doc["id"]], doc.get("domain"), question, answer, task, tolerance, task)
        if not check(task, f"Answer: {answer}", answer, tolerance):  # never ship an item its own checker fails
            counts["rejected_self_check"] += 1
            continue
        records.append(record)
        counts[f"task_{task}"] += 1
        counts["records"] += 1
    return records, counts
