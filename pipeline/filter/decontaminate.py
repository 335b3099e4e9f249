"""Evaluation-set decontamination: word 13-gram overlap (GPT-3, Brown et al. 2020, appendix C).

Texts are normalised the same way on both sides (lowercase, CJK characters as words, punctuation
dropped) and each n-gram is hashed with xxh64, which is stable across processes (Python's `hash`
is salted per process, so driver and executors would disagree). Evaluation items shorter than n
words cannot be matched this way and are counted, not checked.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import xxhash

from pipeline.score.words import words

DEFAULT_N = 13  # GPT-3's 13-gram overlap test (Brown et al. 2020); also used by Llama 2 and OLMo
_EDGE_PUNCTUATION = ".,;:!?\"'()[]{}«»“”‘’"


def normalized_words(text: str) -> list[str]:
    return [w for w in (t.strip(_EDGE_PUNCTUATION).lower() for t in words(text or "")) if w]


def ngram_hashes(text: str, n: int = DEFAULT_N) -> set[int]:
    ws = normalized_words(text)
    return {xxhash.xxh64_intdigest(" ".join(ws[i:i + n]).encode()) for i in range(len(ws) - n + 1)}


def eval_ngrams(items: Iterable[dict], fields: list[str], n: int = DEFAULT_N) -> tuple[set[int], dict[str, int]]:
    """All n-gram hashes of the given text fields of evaluation items, and counts for the stats."""
    grams: set[int] = set()
    stats = {"items": 0, "fields": 0, "shorter_than_n": 0}
    for item in items:
        stats["items"] += 1
        for field in fields:
            value = item.get(field)
            if not isinstance(value, str) or not value.strip():
                continue
            stats["fields"] += 1
            h = ngram_hashes(value, n)
            if not h:
                stats["shorter_than_n"] += 1
            grams |= h
    stats["ngrams"] = len(grams)
    return grams, stats


def read_jsonl(lines: Iterable[str]) -> Iterable[dict]:
    """JSON objects from lines; blank, malformed and non-object lines are skipped."""
    for line in lines:
        line = line.strip()
        if not line:
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict):
            yield obj


def overlap(text: str, grams: set[int], n: int = DEFAULT_N) -> int:
    """How many of the document's distinct n-grams occur in the evaluation set."""
    return len(ngram_hashes(text, n) & grams) if grams else 0
