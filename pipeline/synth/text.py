"""Small text helpers the generators share: sentences, facts with numbers, seeded choices."""

from __future__ import annotations

import hashlib
import random
import re

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
_NUMBER_TOKEN = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\w])")


def sentences(text: str, min_words: int = 4) -> list[str]:
    parts = [" ".join(p.split()) for p in _SENTENCE.split(text or "")]
    return [p for p in parts if len(p.split()) >= min_words]


def numeric_facts(text: str) -> list[tuple[str, str]]:
    """(sentence, number) pairs where the number occurs exactly once in the whole text.

    Once in the text, so "which number ..." has one right answer in the source document.
    """
    out = []
    for sent in sentences(text):
        for m in _NUMBER_TOKEN.finditer(sent):
            num = m.group(0)
            if len(re.findall(rf"(?<![\w.]){re.escape(num)}(?![\w])", text)) == 1:
                out.append((sent, num))
                break
    return out


def seeded_rng(seed: int, *keys: str) -> random.Random:
    """A Random seeded by the run seed and string keys: same inputs, same choices, any partitioning."""
    digest = hashlib.sha256("\x00".join([str(seed), *keys]).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "little"))


def title_of(doc: dict) -> str:
    title = (doc.get("title") or "").strip()
    if title:
        return title
    words = (doc.get("text") or "").split()[:6]
    return " ".join(words) if words else "Untitled"
