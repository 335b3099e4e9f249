"""WARC record -> page row for extraction, or the reason the record is skipped.

Kept: `response` records with HTTP 200 and an HTML/text content type (decoded to text), and WET
`conversion` records (already plain text). Everything else is counted by reason.
"""

from __future__ import annotations

import io

from pipeline.web.charset import decode_html
from pipeline.web.warc_read import RawRecord

HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain")
PAGE_COLUMNS = ("url", "html", "text", "charset", "charset_source", "content_type", "fetched_at",
                "record_type", "warc_record_id", "warc_file", "offset", "truncated")


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def parse_record(raw: RawRecord, warc_file: str) -> list[tuple[dict | None, str | None, dict]]:
    """(page row or None, skip reason or None, context for the skip log) per record in `raw`."""
    where = {"warc_file": warc_file, "offset": raw.offset, "url": None}
    if raw.data is None:
        return [(None, raw.error, where)]
    from warcio.archiveiterator import ArchiveIterator

    out = []
    try:
        for record in ArchiveIterator(io.BytesIO(raw.data), ensure_http_headers=False):
            ctx = {**where, "url": record.rec_headers.get_header("WARC-Target-URI")}
            try:
                row, reason = _page(record, warc_file, raw.offset)
            except Exception as exc:  # a bad record is data, not a crash
                row, reason = None, f"unparseable_record:{type(exc).__name__}"
            out.append((row, reason, ctx))
    except Exception as exc:
        out.append((None, f"corrupt_record:{type(exc).__name__}", where))
    return out or [(None, "empty_record", where)]


def _page(record, warc_file: str, offset: int) -> tuple[dict | None, str | None]:
    kind = record.rec_type
    headers = record.rec_headers
    base = {"url": headers.get_header("WARC-Target-URI"), "fetched_at": headers.get_header("WARC-Date"),
            "record_type": kind, "warc_record_id": headers.get_header("WARC-Record-ID"),
            "warc_file": warc_file, "offset": offset,
            "truncated": headers.get_header("WARC-Truncated")}
    if kind == "conversion":  # WET: text already extracted by the producer
        text = record.content_stream().read().decode("utf-8", errors="replace")
        if not text.strip():
            return None, "empty_payload"
        return {**base, "html": None, "text": text, "charset": "utf-8", "charset_source": "wet",
                "content_type": headers.get_header("Content-Type")}, None
    if kind != "response":
        return None, f"not_a_response:{kind}"
    if not base["url"]:
        return None, "missing_target_uri"
    if record.http_headers is None:
        return None, "not_http"
    status = record.http_headers.get_statuscode()
    if status != "200":
        return None, f"http_status_{status[:1]}xx" if status and status[:1].isdigit() else "http_status_bad"
    content_type = record.http_headers.get_header("Content-Type")
    if media_type(content_type) not in HTML_TYPES:
        return None, "non_html_content_type"
    payload = record.content_stream().read()
    if not payload.strip():
        return None, "empty_payload"
    html, codec, how = decode_html(payload, content_type)
    return {**base, "html": html, "text": None, "charset": codec, "charset_source": how,
            "content_type": content_type}, None
