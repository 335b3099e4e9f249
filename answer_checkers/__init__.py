"""Verifiable-answer checkers: one definition for the synth stage's self-check, GRPO's rewards and
held-out exact match. Standard library only; imports nothing else of ours, so `pipeline/` and
`trainer/` both use it (the same functions, not two copies that could drift).

Strict by design: a reward that accepts "any reply containing the right number" teaches a policy to
list numbers (`Answer: 7 1,204 9 10` must not earn the reward of `1,204`). So each checker parses
ONE final answer, normalises it and compares exactly:

- The *final answer span* is the text after the last marker: `Answer:` (case-insensitive, also with
  a full-width colon) or `####` (GSM8K's marker), up to the end of that line; or the content of the
  last `\\boxed{...}` when that comes later. Stripped of whitespace, markdown emphasis, surrounding
  quotes/backticks and a trailing `.`. With no marker the span is the whole completion.
- Numbers are maximal runs of digits, `,` and `.` (with an optional sign and exponent). A run that is
  not one well-formed number (`1,2045`, `1.2.3`) counts as a malformed number, never as a shorter one.
- `arithmetic`: with a marker, the span must hold exactly one number (a unit or currency word around
  it is fine) and it must equal the expected number within `tolerance` (absolute, default 1e-6).
  Without a marker, the last number of the completion is the answer (lm-eval's GSM8K
  "flexible-extract"); a bare list of numbers then scores only if its last one is right.
- `unit_conversion`: as `arithmetic`, with a relative tolerance (default 0.01).
- `fact_extraction`: a numeric expected answer is compared as `arithmetic` with tolerance 0;
  otherwise the normalised span must equal the normalised expected answer (SQuAD normalisation:
  NFKC, lowercase, punctuation dropped except inside numbers, articles a/an/the dropped).
  No containment: "Paris, France" is not "Paris".
- `exact_match`: the span equals the expected answer stripped of whitespace (case-sensitive:
  needle and key-value answers are random tokens).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

_MARKER = re.compile(r"answer\s*[:：]|####", re.IGNORECASE)
_BOXED = re.compile(r"\\boxed\{([^{}]*)\}")
# A maximal run of number characters; validated by _WELL_FORMED before it counts as a number.
_NUMBER_RUN = re.compile(r"(?<![\w.,])[-+]?[\d.,]*\d(?:[eE][-+]?\d+)?(?!\d)")
_WELL_FORMED = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:[eE][-+]?\d+)?")
_PUNCT = re.compile(r"(?<!\d)[^\w\s]|[^\w\s](?!\d)")  # "3.5" and "1,000" keep their punctuation
_ARTICLES = re.compile(r"\b(?:a|an|the)\b")

DEFAULT_TOLERANCE = {"arithmetic": 1e-6, "unit_conversion": 0.01, "fact_extraction": 0.0, "exact_match": 0.0}


def _clean(span: str) -> str:
    span = span.strip().replace("**", "").strip()
    return span.rstrip(".").strip().strip("`\"'").strip()


def marked_answer(completion: str) -> str | None:
    """The final answer span after the last marker, or None when the completion has no marker."""
    text = unicodedata.normalize("NFKC", completion or "").replace("\u2212", "-")
    marks = list(_MARKER.finditer(text))
    boxed = list(_BOXED.finditer(text))
    if boxed and (not marks or boxed[-1].start() > marks[-1].start()):
        return _clean(boxed[-1].group(1))
    if not marks:
        return None
    return _clean(text[marks[-1].end():].lstrip(" \t").split("\n", 1)[0])


def final_answer(completion: str) -> str:
    """The span a checker reads: the marked answer, else the whole completion."""
    marked = marked_answer(completion)
    return marked if marked is not None else _clean(unicodedata.normalize("NFKC", completion or ""))


def numbers(text: str) -> list[float | None]:
    """Every number run in `text`, in order; None for a malformed run (`1,2045`)."""
    found: list[float | None] = []
    for run in _NUMBER_RUN.findall(text or ""):
        run = run.rstrip(".,")
        if _WELL_FORMED.fullmatch(run) and any(c.isdigit() for c in run):
            found.append(float(run.replace(",", "")))
        else:
            found.append(None)
    return found


def answer_number(completion: str) -> float | None:
    """The one number a completion answers with (rules in the module docstring), or None."""
    marked = marked_answer(completion)
    if marked is not None:
        found = numbers(marked)
        return found[0] if len(found) == 1 else None
    found = numbers(unicodedata.normalize("NFKC", completion or "").replace("\u2212", "-"))
    return found[-1] if found else None


def expected_number(answer: str) -> float | None:
    found = numbers(str(answer))
    return found[0] if len(found) == 1 else None


def normalize_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = _ARTICLES.sub(" ", _PUNCT.sub(" ", text))
    return " ".join(text.split())


def _tolerance(checker: str, tolerance: float | None) -> float:
    return DEFAULT_TOLERANCE[checker] if tolerance is None else float(tolerance)


def arithmetic(completion: str, answer: str, tolerance: float | None = None) -> bool:
    got, want = answer_number(completion), expected_number(answer)
    return got is not None and want is not None and abs(got - want) <= _tolerance("arithmetic", tolerance)


def unit_conversion(completion: str, answer: str, tolerance: float | None = None) -> bool:
    got, want = answer_number(completion), expected_number(answer)
    if got is None or want is None:
        return False
    return math.isclose(got, want, rel_tol=_tolerance("unit_conversion", tolerance), abs_tol=1e-9)


def fact_extraction(completion: str, answer: str, tolerance: float | None = None) -> bool:
    if expected_number(answer) is not None and normalize_text(str(answer)).count(" ") == 0:
        return arithmetic(completion, answer, tolerance or 0.0)
    got, want = normalize_text(final_answer(completion)), normalize_text(str(answer))
    return bool(want) and got == want


def exact_match(completion: str, answer: str, tolerance: float | None = None) -> bool:
    return final_answer(completion) == str(answer).strip()


CHECKERS: dict[str, Callable[[str, str, float | None], bool]] = {
    "arithmetic": arithmetic,
    "unit_conversion": unit_conversion,
    "fact_extraction": fact_extraction,
    "exact_match": exact_match,
}


def check(checker: str, completion: str, answer: str, tolerance: float | None = None) -> bool:
    """True when `completion` answers correctly under the named checker."""
    if checker not in CHECKERS:
        raise ValueError(f"unknown checker {checker!r}; known: {', '.join(sorted(CHECKERS))}")
    return CHECKERS[checker](completion, answer, tolerance)


def reward(record: Mapping[str, Any], completion: str) -> float:
    """GRPO reward of one completion for one RL record (of rl.jsonl): 1.0 right, 0.0 wrong."""
    return float(check(record["checker"], completion, record["answer"], record.get("tolerance")))
