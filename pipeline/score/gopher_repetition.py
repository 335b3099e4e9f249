"""Gopher repetition rules (Rae et al. 2021, MassiveText, appendix A.1, table A1).

Duplicate line/paragraph fractions (by count and by characters), the character share of the
most frequent 2/3/4-gram, and the character share of duplicated 5..10-grams, as datatrove's
`GopherRepetitionFilter` (0.10) computes them: n-grams run over every spaCy-English token
(punctuation included); paragraphs are split from the stripped text, lines from the text as it
is (a leading or trailing newline makes an empty "line"); the top n-gram counts even when it
occurs once; duplicated n-grams are compared as their tokens glued without spaces, and every
fraction is over `len(text)`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from pipeline.score.gopher import DocView
from pipeline.score.thresholds import Threshold

_PARAGRAPHS = re.compile(r"\n{2,}")
_LINES = re.compile(r"\n+")

TOP_NGRAMS = (2, 3, 4)
DUP_NGRAMS = (5, 6, 7, 8, 9, 10)


@dataclass
class GopherRepetitionThresholds:
    max_dup_para_frac: float = 0.3  # Gopher table A1: duplicate paragraph fraction
    max_dup_para_char_frac: float = 0.2  # Gopher table A1: duplicate paragraph character fraction
    max_dup_line_frac: float = 0.3  # Gopher table A1: duplicate line fraction
    max_dup_line_char_frac: float = 0.2  # Gopher table A1: duplicate line character fraction
    max_top_2gram_char_frac: float = 0.2  # Gopher table A1: top 2-gram character fraction
    max_top_3gram_char_frac: float = 0.18
    max_top_4gram_char_frac: float = 0.16
    max_dup_5gram_char_frac: float = 0.15  # Gopher table A1: duplicate 5..10-gram character fraction
    max_dup_6gram_char_frac: float = 0.14
    max_dup_7gram_char_frac: float = 0.13
    max_dup_8gram_char_frac: float = 0.12
    max_dup_9gram_char_frac: float = 0.11
    max_dup_10gram_char_frac: float = 0.10


def duplicates(elements: list[str]) -> tuple[int, int]:
    """(number, characters) of elements that already appeared earlier in the list."""
    seen: set[str] = set()
    count = chars = 0
    for e in elements:
        if e in seen:
            count += 1
            chars += len(e)
        else:
            seen.add(e)
    return count, chars


def _fractions(elements: list[str], text_len: int) -> tuple[float | None, float | None]:
    if not text_len:
        return None, None
    count, chars = duplicates(elements)
    return count / len(elements), chars / text_len


def paragraph_duplication(doc: DocView) -> tuple[float | None, float | None]:
    return _fractions(_PARAGRAPHS.split(doc.text.strip()), len(doc.text))


def line_duplication(doc: DocView) -> tuple[float | None, float | None]:
    return _fractions(_LINES.split(doc.text), len(doc.text))


def top_ngram_char_frac(doc: DocView, n: int) -> float | None:
    """Characters of the most frequent n-gram (joined by spaces) times its count, over the text length."""
    ids, lengths = doc.token_ids, doc.token_lengths
    if len(ids) < n or not doc.text:
        return None
    grams = Counter(zip(*(ids[k:] for k in range(n)), strict=False))  # shifted views: unequal on purpose
    gram, count = grams.most_common(1)[0]  # ties: the first seen, as in datatrove
    start = next(i for i in range(len(ids) - n + 1) if tuple(ids[i:i + n]) == gram)
    chars = sum(lengths[start:start + n]) + n - 1  # the n-gram joined by single spaces
    return chars * count / len(doc.text)


def dup_ngram_char_frac(doc: DocView, n: int) -> float | None:
    """Characters of n-grams seen before (non-overlapping after a hit) over the text length."""
    toks = doc.tokens
    if not doc.text:
        return None
    seen: set[str] = set()
    repeated = 0
    i = 0
    while i <= len(toks) - n:
        gram = "".join(toks[i:i + n])  # glued: "ab"+"c" meets "a"+"bc", as in datatrove
        if gram in seen:
            repeated += len(gram)
            i += n
        else:
            seen.add(gram)
            i += 1
    return repeated / len(doc.text)


COLUMNS = (["rule_rep_dup_para_frac", "rule_rep_dup_para_char_frac", "rule_rep_dup_line_frac",
            "rule_rep_dup_line_char_frac"]
           + [f"rule_rep_top_{n}gram_char_frac" for n in TOP_NGRAMS]
           + [f"rule_rep_dup_{n}gram_char_frac" for n in DUP_NGRAMS])


def gopher_repetition(doc: DocView) -> dict[str, float | None]:
    values = [*paragraph_duplication(doc), *line_duplication(doc)]
    values += [top_ngram_char_frac(doc, n) for n in TOP_NGRAMS]
    values += [dup_ngram_char_frac(doc, n) for n in DUP_NGRAMS]
    return dict(zip(COLUMNS, values, strict=True))


def thresholds(t: GopherRepetitionThresholds) -> list[Threshold]:
    out = [
        Threshold("gopher_rep_dup_para_frac", "rule_rep_dup_para_frac", "max", t.max_dup_para_frac),
        Threshold("gopher_rep_dup_para_char_frac", "rule_rep_dup_para_char_frac", "max",
                  t.max_dup_para_char_frac),
        Threshold("gopher_rep_dup_line_frac", "rule_rep_dup_line_frac", "max", t.max_dup_line_frac),
        Threshold("gopher_rep_dup_line_char_frac", "rule_rep_dup_line_char_frac", "max",
                  t.max_dup_line_char_frac),
    ]
    for n in TOP_NGRAMS:
        out.append(Threshold(f"gopher_rep_top_{n}gram", f"rule_rep_top_{n}gram_char_frac", "max",
                             getattr(t, f"max_top_{n}gram_char_frac")))
    for n in DUP_NGRAMS:
        out.append(Threshold(f"gopher_rep_dup_{n}gram", f"rule_rep_dup_{n}gram_char_frac", "max",
                             getattr(t, f"max_dup_{n}gram_char_frac")))
    return out
