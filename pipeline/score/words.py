"""Unicode- and CJK-aware word splitting: the CJK-per-character variant of the rule sets.

The rule sets count words as datatrove does (spaCy-English tokens, `english_tokens`), which turns
a Chinese clause into one "word". With `cjk_per_character` (the default) we split Han,
Hiragana/Katakana and CJK punctuation runs into one word per character: no dictionary segmenter
(jieba and friends) ships offline, and a character is the unit Chinese readers and tokenizers
fall back to, so counts stay comparable across documents (a Chinese character carries roughly
one English word's information over the 1-3 character words of a dictionary segmentation).
Hangul is written with spaces and is left to the whitespace split. Punctuation-only tokens are
kept by `tokens` (Gopher's symbol and alphabetic-word ratios need them) and dropped by `words`.
"""

from __future__ import annotations

import re

# Han (incl. extension A and compatibility), Hiragana, Katakana, CJK symbols and full-width forms.
CJK_RANGES = (
    "\u3000-\u303f"  # CJK symbols and punctuation (。、「」)
    "\u3040-\u309f"  # Hiragana
    "\u30a0-\u30ff"  # Katakana
    "\u3400-\u4dbf"  # CJK unified ideographs extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\uff00-\uffef"  # half-width and full-width forms (，！？)
)
_CJK_CHAR = re.compile(f"[{CJK_RANGES}]")
# One CJK character, or a run of anything that is neither CJK nor whitespace.
_TOKEN = re.compile(f"[{CJK_RANGES}]|[^\\s{CJK_RANGES}]+")
# A letter, digit or combining mark (\w without the underscore): a token with none is punctuation.
_WORD_CHAR = re.compile(r"[^\W_]")


def is_cjk(ch: str) -> bool:
    return bool(_CJK_CHAR.match(ch))


def is_punctuation_token(token: str) -> bool:
    """True when no character is a letter, digit or mark (punctuation, symbols, underscores)."""
    return _WORD_CHAR.search(token) is None


def is_word(token: str) -> bool:
    return _WORD_CHAR.search(token) is not None


def tokens(text: str) -> list[str]:
    """Whitespace tokens with every CJK character split off as its own token."""
    return _TOKEN.findall(text)


def words(text: str) -> list[str]:
    """Tokens that are not pure punctuation/symbols: what the rules call "words"."""
    return [t for t in _TOKEN.findall(text) if _WORD_CHAR.search(t)]


def cjk_fraction(text: str) -> float:
    """Share of non-space characters that are CJK (0.0 for empty text)."""
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return 0.0
    return sum(1 for c in chars if _CJK_CHAR.match(c)) / len(chars)
