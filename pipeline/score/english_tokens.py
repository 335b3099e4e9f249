"""English word and sentence splitting as a blank spaCy pipeline does it, without spaCy.

datatrove's Gopher and FineWeb filters count `spacy.blank("en")` tokens (punctuation is its own
token: "end." is two tokens), and C4's sentence count is spaCy's sentencizer over those tokens.
This module runs the same algorithm (whitespace chunks; per chunk, peel prefixes and suffixes
until a special case or nothing is left, then split infixes) over the patterns of
`english_affixes` and the table of `english_specials`. spaCy 3.8 installs 126 MB (plus thinc) and a
model-loading API; this is one short module, and `benchmarks/filters.py` reports how often its
tokens give the same statistics as the real one (on 885 real documents: every token identical).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from pipeline.score.english_affixes import INFIX_RE, PREFIX_RE, SENTENCE_TERMINALS, SUFFIX_RE, URL_RE
from pipeline.score.english_specials import SPECIALS

_CHUNKS = re.compile(r"\S+|\s+")


def _split_affixes(s: str, prefixes: list[str], suffixes: list[str], specials: dict) -> str:
    last = -1
    while s and len(s) != last:
        if s in specials:
            break
        last = len(s)
        m = PREFIX_RE.search(s)
        pre = m.end() if m else 0
        if pre and s[pre:] and s[pre:] in specials:
            prefixes.append(s[:pre])
            return s[pre:]
        m = SUFFIX_RE.search(s[pre:])
        suf = (len(s) - pre - m.start()) if m else 0
        if suf and s[:-suf] and s[:-suf] in specials:
            suffixes.append(s[-suf:])
            return s[:-suf]
        if pre and suf and pre + suf <= len(s):
            prefixes.append(s[:pre])
            suffixes.append(s[-suf:])
            s = s[pre:-suf]
        elif pre:
            prefixes.append(s[:pre])
            s = s[pre:]
        elif suf:
            suffixes.append(s[-suf:])
            s = s[:-suf]
    return s


def _infixes(s: str) -> list[str]:
    out: list[str] = []
    start = 0
    for m in INFIX_RE.finditer(s):
        if m.start() == 0:  # an infix at the very start stays glued to what follows
            continue
        if m.start() != start:
            out.append(s[start:m.start()])
        if m.start() != m.end():
            out.append(m.group())
        start = m.end()
    if s[start:]:
        out.append(s[start:])
    return out


def _affix_tokens(chunk: str, specials: dict) -> list[str]:
    if chunk in specials:
        return list(specials[chunk])
    prefixes: list[str] = []
    suffixes: list[str] = []
    core = _split_affixes(chunk, prefixes, suffixes, specials)
    middle: list[str] = []
    if core:
        if core in specials:
            middle = list(specials[core])
        elif URL_RE.match(core):
            middle = [core]
        else:
            middle = _infixes(core)
    return [*prefixes, *middle, *reversed(suffixes)]


# A special case that affix splitting would cut ("Dr." -> "Dr" "."; "):" -> ")" ":") is also found
# as that token sequence inside a chunk ("Dr.T.Smith", "f(x):") and glued back, as spaCy does.
_GLUED = {tuple(toks): key for key in SPECIALS if len(toks := _affix_tokens(key, {})) > 1}
_GLUED_MAX = max(len(k) for k in _GLUED)


def _glue_specials(tokens: list[str]) -> list[str]:
    spans: list[tuple[int, int]] = []
    for n in range(min(_GLUED_MAX, len(tokens)), 1, -1):  # longest first; no overlaps
        for i in range(len(tokens) - n + 1):
            if tuple(tokens[i:i + n]) in _GLUED and all(i >= e or i + n <= s for s, e in spans):
                spans.append((i, i + n))
    if not spans:
        return tokens
    out: list[str] = []
    i = 0
    for s, e in sorted(spans):
        out.extend(tokens[i:s])
        out.extend(SPECIALS[_GLUED[tuple(tokens[s:e])]])
        i = e
    out.extend(tokens[i:])
    return out


@lru_cache(maxsize=65536)
def chunk_tokens(chunk: str) -> tuple[str, ...]:
    """Tokens of one whitespace-free chunk (cached: real text repeats its chunks)."""
    tokens = _affix_tokens(chunk, SPECIALS)
    return tuple(_glue_specials(tokens) if len(tokens) > 1 else tokens)


def spacy_tokens(text: str) -> list[str]:
    """Every token, whitespace tokens included: a run of spaces after a word loses one space."""
    out: list[str] = []
    for m in _CHUNKS.finditer(text):
        chunk = m.group()
        if chunk[0].isspace():
            ws = chunk[1:] if chunk[0] == " " and m.start() > 0 else chunk
            if ws:
                out.append(ws)
        else:
            out.extend(chunk_tokens(chunk))
    return out


def english_words(text: str) -> list[str]:
    """datatrove's English `split_into_words`: spaCy tokens that are not blank after strip()."""
    return [t.strip() for t in spacy_tokens(text) if t.strip()]


def _is_punct(token: str) -> bool:
    return all(unicodedata.category(c).startswith("P") for c in token)


def sentence_count(text: str, split_cjk: bool = False) -> int:
    """spaCy's sentencizer: a sentence starts at a non-punctuation token after a terminal mark.

    `split_cjk` first cuts CJK runs into characters, so "句子。下一句" ends a sentence at "。"
    (spaCy's English tokenizer keeps such a run whole and sees one sentence).
    """
    count = 1
    seen_terminal = False
    tokens = spacy_tokens(text)
    if split_cjk:
        from pipeline.score.words import tokens as cjk_tokens

        tokens = [p for t in tokens for p in (cjk_tokens(t) if not t.isspace() else [t])]
    for tok in tokens:
        terminal = tok in SENTENCE_TERMINALS
        if seen_terminal and not terminal and not _is_punct(tok):
            count += 1
            seen_terminal = False
        elif terminal:
            seen_terminal = True
    return count
