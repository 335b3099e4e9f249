"""Documents as overlapping word windows: the unit the index embeds, ranks and cites."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class ChunkSettings:
    # ~160 words is ~210 SmolLM2 tokens (docs/facts.md: 3.4 bytes/token): five chunks and a question
    # fit a 2k-token prompt. An overlap of 32 words keeps a fact cut at a boundary whole in one chunk.
    words: int = 160
    overlap: int = 32
    min_words: int = 8  # a trailing window shorter than this joins the previous one


def chunk_text(text: str, settings: ChunkSettings = ChunkSettings()) -> list[str]:
    """Windows of `words` words, each starting `words - overlap` after the previous one."""
    if settings.words <= settings.overlap or settings.words < 1:
        raise ValueError(f"chunk words ({settings.words}) must exceed overlap ({settings.overlap})")
    tokens = (text or "").split()
    if not tokens:
        return []
    step = settings.words - settings.overlap
    starts = list(range(0, max(1, len(tokens) - settings.overlap), step))
    windows = [tokens[s:s + settings.words] for s in starts]
    if len(windows) > 1 and len(tokens) - starts[-1] < settings.min_words:
        windows.pop()
        windows[-1] = tokens[starts[-2]:]
    return [" ".join(w) for w in windows]


def chunk_id(doc_id: str, index: int) -> str:
    """Stable across reruns and partitionings: a hash of the document id and the window's position."""
    return hashlib.sha1(f"{doc_id}\x00{index}".encode()).hexdigest()[:16]
