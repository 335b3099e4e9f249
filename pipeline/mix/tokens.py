"""Token counts before a tokenizer exists: UTF-8 bytes / bytes-per-token, rounded up.

3.4 bytes/token is what a byte-level BPE with an 8k vocabulary gave on English web text here
(docs/facts.md, "Tokenizers"); GPT-2's 50k vocabulary gives ~4. The same formula runs in Spark
(`ceil(octet_length(text) / bpt)`) so planning and reports agree with these pure functions.
"""

from __future__ import annotations

import math

BYTES_PER_TOKEN = 3.4


def estimate_tokens(text: str, bytes_per_token: float = BYTES_PER_TOKEN) -> int:
    return math.ceil(len((text or "").encode("utf-8")) / bytes_per_token)


def spark_estimate_tokens(text_col, bytes_per_token: float = BYTES_PER_TOKEN):
    """The same estimate as a Spark column expression (no Python per row)."""
    from pyspark.sql import functions as F

    return F.ceil(F.octet_length(text_col) / F.lit(bytes_per_token)).cast("long")
