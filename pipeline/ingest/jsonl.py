"""Documents from JSON Lines: one object per line with at least a non-empty `text`.

Bad lines are data, not a crash: each comes back with the reason it was set aside.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pipeline.schema import SOURCES, document_id

REJECT_REASONS = ("invalid_json", "not_an_object", "missing_text", "empty_text", "unknown_source")


def parse_document_line(line: str, default_source: str, fetched_at: str) -> tuple[dict[str, Any] | None, str]:
    """One JSONL line -> (document in the core schema, "") or (None, reject reason)."""
    try:
        obj = json.loads(line)
    except ValueError:
        return None, "invalid_json"
    if not isinstance(obj, dict):
        return None, "not_an_object"
    text = obj.get("text")
    if not isinstance(text, str):
        return None, "missing_text"
    if not text.strip():
        return None, "empty_text"
    source = obj.get("source") or default_source
    if source not in SOURCES:
        return None, "unknown_source"
    url = obj.get("url") if isinstance(obj.get("url"), str) else None
    locator = url or obj.get("id") or hashlib.sha1(text.encode()).hexdigest()
    metadata = obj.get("metadata")
    if isinstance(metadata, dict | list):
        metadata = json.dumps(metadata, sort_keys=True, ensure_ascii=False)
    lang_score = obj.get("lang_score")
    return {
        "id": document_id(source, str(locator)),
        "text": text,
        "source": source,
        "url": url,
        "title": obj.get("title") if isinstance(obj.get("title"), str) else None,
        "lang": obj.get("lang") if isinstance(obj.get("lang"), str) else None,
        "lang_score": float(lang_score) if isinstance(lang_score, int | float) else None,
        "fetched_at": obj.get("fetched_at") if isinstance(obj.get("fetched_at"), str) else fetched_at,
        "metadata": metadata if isinstance(metadata, str) else None,
    }, ""
