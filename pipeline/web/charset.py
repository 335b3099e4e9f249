"""Decode an HTML payload to text: declared charset, then BOM, then <meta>, then detection.

The order follows the WHATWG encoding-sniffing algorithm (BOM first, then the transport layer,
then a <meta> prescan of the first 1024 bytes) with charset-normalizer as the final guess. A
label that is unknown or fails to decode strictly falls through to the next source.
"""

from __future__ import annotations

import codecs
import re

_META = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.I)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# WHATWG maps these labels to supersets; decoding with the superset avoids needless failures.
_SUPERSETS = {"iso-8859-1": "cp1252", "latin-1": "cp1252", "ascii": "cp1252", "us-ascii": "cp1252",
              "gb2312": "gb18030", "gbk": "gb18030"}


def declared_charset(content_type: str | None) -> str | None:
    for part in (content_type or "").split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return None


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    label = _SUPERSETS.get(label.lower(), label.lower())
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _try(payload: bytes, label: str | None) -> tuple[str, str] | None:
    name = _codec(label)
    if name is None:
        return None
    try:
        return payload.decode(name), name
    except (UnicodeDecodeError, LookupError):
        return None


def decode_html(payload: bytes, content_type: str | None = None) -> tuple[str, str, str]:
    """(text, codec used, how it was chosen: bom|declared|meta|detected|fallback)."""
    for bom, name in _BOMS:
        if payload.startswith(bom):
            hit = _try(payload, name)
            if hit:
                return hit[0], hit[1], "bom"
    hit = _try(payload, declared_charset(content_type))
    if hit:
        return hit[0], hit[1], "declared"
    m = _META.search(payload[:1024])
    if m:
        hit = _try(payload, m.group(1).decode("ascii", "ignore"))
        if hit:
            return hit[0], hit[1], "meta"
    hit = _try(payload, "utf-8")
    if hit:
        return hit[0], hit[1], "detected"
    from charset_normalizer import from_bytes

    best = from_bytes(payload[:200_000]).best()
    if best is not None:
        hit = _try(payload, best.encoding)
        if hit:
            return hit[0], hit[1], "detected"
    return payload.decode("utf-8", errors="replace"), "utf-8", "fallback"
