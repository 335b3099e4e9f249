"""Short RL: prompts with verifiable answers (arithmetic, unit conversion, a fact in the document).

With an LLM generator, arithmetic items become word problems: the pipeline picks the numbers and the
operation and computes the answer; the model only writes the story around them. A problem that leaves
out a number, gives the result away or is no question is dropped (`dropped_checker_failure`): the
answer the RL set stores is always the computed one, never the model's.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from pipeline.synth.checkers import DEFAULT_TOLERANCE, check
from pipeline.synth.filters import FilterConfig, text_reason
from pipeline.synth.generator import ChatRequest, Generator
from pipeline.synth.records import rl_record
from pipeline.synth.text import numeric_facts, seeded_rng, title_of

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
    filters: FilterConfig = field(default_factory=lambda: FilterConfig(min_words=8, max_words=200))


def _operands(doc: dict, rng) -> tuple[int, int, str, int, bool]:
    nums = [int(n) for n in _INT.findall(doc["text"])][:20]
    a, b = (rng.sample(nums, 2) if len(nums) >= 2 else (rng.randint(10, 999), rng.randint(10, 999)))
    op = rng.choice(["+", "-", "*"])
    return a, b, op, {"+": a + b, "-": a - b, "*": a * b}[op], len(nums) >= 2


def _arithmetic(doc: dict, rng) -> tuple[str, str]:
    a, b, op, value, from_doc = _operands(doc, rng)
    intro = f"A document mentions the numbers {a} and {b}. " if from_doc else ""
    return f"{intro}What is {a} {op} {b}?", str(value)


OP_WORDS = {"+": "adding {b} to {a}", "-": "subtracting {b} from {a}", "*": "multiplying {a} by {b}"}


def word_problem_messages(title: str, a: int, b: int, op: str) -> list[dict[str, str]]:
    def ask(topic: str, x: int, y: int, how: str) -> str:
        return (f"Write a math word problem about \"{topic}\" that uses the numbers {x} and {y} and is solved by "
                f"{how}. Do not solve it.")

    return [{"role": "user", "content": ask("apples", 12, 5, "adding 5 to 12")},
            {"role": "assistant", "content": "Anna picked 12 apples in the morning and 5 more in the afternoon. "
             "How many apples did she pick in total?"},
            {"role": "user", "content": ask(title, a, b, OP_WORDS[op].format(a=a, b=b))}]


def problem_reason(problem: str, a: int, b: int, value: int, filters: FilterConfig) -> str | None:
    """Why an LLM-written word problem cannot carry the computed answer, or None when it can."""
    reason = text_reason(problem, filters)
    if reason:
        return reason
    found = {int(n) for n in re.findall(r"(?<![\w.])-?\d+(?![\w])", problem.replace(",", ""))}
    if a not in found or b not in found or "?" not in problem:
        return "checker_failure"  # the computed answer would not follow from the problem as written
    if found - {a, b} or "=" in problem:
        return "checker_failure"  # another number or a worked solution (maybe a wrong one) in the problem
    return None


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


def generate(docs: list[dict], cfg: ShortRlConfig, seed: int, generator: Generator | None = None):
    counts: Counter = Counter()
    records, pending = [], []
    llm = generator is not None and generator.name != "template"
    for doc in docs:
        rng = seeded_rng(seed, NAME, doc["id"])
        task = rng.choice(cfg.tasks)
        made = None
        if task == "fact_extraction":
            made = _fact(doc, rng, cfg.max_context_chars)
            if made is None:
                task = "arithmetic"  # no number occurs exactly once: fall back to a computed answer
        if made is None and task == "arithmetic" and llm:
            a, b, op, value, _ = _operands(doc, rng)
            pending.append((doc, a, b, value, ChatRequest("word_problem", word_problem_messages(title_of(doc), a, b, op))))
            continue
        if made is None:
            made = _arithmetic(doc, rng) if task == "arithmetic" else _unit_conversion(rng)
        _add(records, counts, doc, task, *made)
    outputs = generator.complete([p[-1] for p in pending]) if pending else []
    for (doc, a, b, value, _), out in zip(pending, outputs, strict=True):
        if not out or not out.strip():
            counts["dropped_no_response"] += 1
            continue
        problem = out.strip()
        reason = problem_reason(problem, a, b, value, cfg.filters)
        if reason:
            counts[f"dropped_{reason}"] += 1
            continue
        _add(records, counts, doc, "arithmetic", problem, str(value), task_name="word_problem")
    return records, counts


def _add(records: list, counts: Counter, doc: dict, checker: str, question: str, answer: str,
         task_name: str | None = None) -> None:
    task = task_name or checker
    tolerance = DEFAULT_TOLERANCE[checker] or None
    record = rl_record(NAME, [doc["id"]], doc.get("domain"), question, answer, checker, tolerance, task)
    if not check(checker, f"Answer: {answer}", answer, tolerance):  # never ship an item its own checker fails
        counts["dropped_checker_failure"] += 1
        return
    records.append(record)
    counts[f"task_{task}"] += 1
    counts["records"] += 1
