"""Documents from JSON Lines: one object per line with at least a non-empty `text`.

Bad lines are data, not a crash: each comes back with the reason it was set aside. Hostile
lines included: bytes that are not UTF-8, a JSON escape for a lone surrogate (valid JSON, but no
UTF-8 writer accepts it), and nesting deep enough to exhaust the parser's recursion.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pipeline.schema import SOURCES, document_id

REJECT_REASONS = ("invalid_utf8", "invalid_json", "too_deeply_nested", "not_an_object", "missing_text",
                  "empty_text", "unknown_source", "lone_surrogate", "line_too_long")


def decode_line(raw: bytes) -> tuple[str | None, str]:
    """A line's bytes -> (text, "") or (None, "invalid_utf8"); JSON Lines is UTF-8 (jsonlines.org)."""
    try:
        return raw.decode("utf-8"), ""
    except UnicodeDecodeError:
        return None, "invalid_utf8"


def parse_raw_line(raw: bytes, default_source: str, fetched_at: str) -> tuple[dict[str, Any] | None, str]:
    line, reason = decode_line(raw)
    if line is None:
        return None, reason
    return parse_document_line(line, default_source, fetched_at)


def parse_document_line(line: str, default_source: str, fetched_at: str) -> tuple[dict[str, Any] | None, str]:
    """One JSONL line -> (document in the core schema, "") or (None, reject reason)."""
    try:
        obj = json.loads(line)
    except RecursionError:  # e.g. `metadata` nested 100k levels deep
        return None, "too_deeply_nested"
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
    if not all(_encodable(obj.get(k)) for k in ("text", "url", "id", "title", "lang", "fetched_at")):
        return None, "lone_surrogate"  # checked before hashing: sha1 needs the UTF-8 bytes
    locator = url or obj.get("id") or hashlib.sha1(text.encode()).hexdigest()
    metadata = obj.get("metadata")
    if isinstance(metadata, dict | list):
        try:
            metadata = json.dumps(metadata, sort_keys=True, ensure_ascii=False)
        except RecursionError:
            return None, "too_deeply_nested"
    lang_score = obj.get("lang_score")
    doc = {
        "id": document_id(source, str(locator)),
        "text": text,
        "source": source,
        "url": url,
        "title": obj.get("title") if isinstance(obj.get("title"), str) else None,
        "lang": obj.get("lang") if isinstance(obj.get("lang"), str) else None,
        "lang_score": float(lang_score) if isinstance(lang_score, int | float) else None,
        "fetched_at": obj.get("fetched_at") if isinstance(obj.get("fetched_at"), str) else fetched_at,
        "metadata": metadata if isinstance(metadata, str) else None,
    }
    if not _encodable(doc["metadata"]):
        return None, "lone_surrogate"
    return doc, ""


def _encodable(value: Any) -> bool:
    """False for a str holding a lone surrogate (a "\\ud800" JSON escape): not writable as UTF-8."""
    if not isinstance(value, str) or value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
