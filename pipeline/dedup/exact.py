"""Exact dedup keys: normalised text hashed with xxh3 (64 or 128 bit), whole documents or lines.

Normalisation decides what "the same text" means: Unicode NFC (canonically equal strings compare
equal), whitespace runs collapsed, optional case folding. cc_net (Wenzek et al. 2019) dedups
paragraphs the same way after lower-casing and removing digits/punctuation; `strip_digits_punct`
gives that stricter key for line dedup.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import xxhash

_SPACE = re.compile(r"\s+")
_DIGITS_PUNCT = re.compile(r"[\d\W_]+", re.UNICODE)


def normalize_for_hash(text: str, lowercase: bool = True, collapse_whitespace: bool = True,
                       strip_digits_punct: bool = False) -> str:
    text = unicodedata.normalize("NFC", text)
    if lowercase:
        text = text.casefold()
    if strip_digits_punct:
        text = _DIGITS_PUNCT.sub(" ", text)
    if collapse_whitespace or strip_digits_punct:
        text = _SPACE.sub(" ", text).strip()
    return text


def content_hash(text: str, bits: int = 128) -> str:
    """Hex digest of xxh3 (fast, non-cryptographic: collisions at 2^-64/2^-128 are not a concern)."""
    if bits == 64:
        return xxhash.xxh3_64_hexdigest(text.encode())
    if bits == 128:
        return xxhash.xxh3_128_hexdigest(text.encode())
    raise ValueError(f"hash bits must be 64 or 128, got {bits}")


def content_hashes(texts: Iterable[str], bits: int = 128, lowercase: bool = True,
                   collapse_whitespace: bool = True, strip_digits_punct: bool = False) -> list[str]:
    return [content_hash(normalize_for_hash(t, lowercase, collapse_whitespace, strip_digits_punct), bits)
            for t in texts]


def line_keys(text: str, min_chars: int = 0, bits: int = 64) -> list[str | None]:
    """One key per line (cc_net style, digits and punctuation stripped); None for lines kept as-is.

    Lines whose normalised form is shorter than `min_chars` (blank lines, "Home | About") get no key:
    they carry no content worth deduplicating and removing them would mangle layout.
    """
    keys: list[str | None] = []
    for line in text.split("\n"):
        norm = normalize_for_hash(line, strip_digits_punct=True)
        keys.append(content_hash(norm, bits) if norm and len(norm) >= min_chars else None)
    return keys
