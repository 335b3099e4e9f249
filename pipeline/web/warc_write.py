"""WARC output of the crawler: request + response records, one gzip member each (as Common Crawl).

Records are built with warcio's WARCWriter and StatusAndHeaders directly (warcio's
`capture_http` silently records nothing unless `requests` is imported after it; docs/facts.md).
A page's request and response are written in one `write` and fsynced before the frontier marks
the URL done; `reconcile` repairs a file cut short by a kill and lists the URLs it holds.
"""

from __future__ import annotations

import io
import os
import uuid
from pathlib import Path

from pipeline.web.warc_read import iter_raw_records

# Transport encodings are undone before storage; the original values are kept under these
# names (Common Crawl's convention) so readers do not decode the payload twice.
_RENAMED = {"content-encoding": "X-Crawler-Content-Encoding",
            "transfer-encoding": "X-Crawler-Transfer-Encoding",
            "content-length": "X-Crawler-Content-Length"}


def _record_id(*parts: str) -> str:
    return f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, chr(0).join(parts))}>"


def exchange_bytes(url: str, fetched_at: str, request_headers: list[tuple[str, str]],
                   status_line: str, response_headers: list[tuple[str, str]], body: bytes,
                   ip: str | None = None, truncated: str | None = None) -> bytes:
    """A request + response record pair, gzip-compressed per record, ready to append."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    path = url.split("/", 3)[3] if url.count("/") >= 3 else ""
    req_http = StatusAndHeaders(f"GET /{path} HTTP/1.1", request_headers, is_http_request=True)
    req_id = _record_id("request", url, fetched_at)
    common = {"WARC-Date": fetched_at}
    if ip:
        common["WARC-IP-Address"] = ip
    writer.write_record(writer.create_warc_record(
        url, "request", payload=io.BytesIO(b""), http_headers=req_http,
        warc_headers_dict={**common, "WARC-Record-ID": req_id}))
    kept = [(_RENAMED.get(k.lower(), k), v) for k, v in response_headers]
    kept.append(("Content-Length", str(len(body))))
    resp_http = StatusAndHeaders(status_line, kept, protocol="HTTP/1.1")
    resp_headers = {**common, "WARC-Record-ID": _record_id("response", url, fetched_at),
                    "WARC-Concurrent-To": req_id}
    if truncated:
        resp_headers["WARC-Truncated"] = truncated
    writer.write_record(writer.create_warc_record(
        url, "response", payload=io.BytesIO(body), length=len(body), http_headers=resp_http,
        warc_headers_dict=resp_headers))
    return buf.getvalue()


def warcinfo_bytes(filename: str, info: dict[str, str]) -> bytes:
    from warcio.warcwriter import WARCWriter

    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    writer.write_record(writer.create_warcinfo_record(filename, info))
    return buf.getvalue()


class WarcSink:
    """Appends record pairs to a new `crawl-NNNNN.warc.gz` in `directory` (one file per session)."""

    def __init__(self, directory: str | Path, info: dict[str, str]):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        index = len(list(self.dir.glob("crawl-*.warc.gz")))
        self.path = self.dir / f"crawl-{index:05d}.warc.gz"
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._write(warcinfo_bytes(self.path.name, info))

    def _write(self, data: bytes) -> None:
        os.write(self.fd, data)
        os.fsync(self.fd)

    def write_exchange(self, **exchange) -> int:
        data = exchange_bytes(**exchange)
        self._write(data)
        return len(data)

    def close(self) -> None:
        os.close(self.fd)


def reconcile(directory: str | Path) -> dict[str, int]:
    """URL -> response count over the crawl's WARC files, after cutting each file back to its
    last complete record pair (a kill mid-write leaves a partial gzip member at the end)."""
    from warcio.archiveiterator import ArchiveIterator

    counts: dict[str, int] = {}
    for path in sorted(Path(directory).glob("crawl-*.warc.gz")):
        good_end = 0
        with open(path, "rb") as f:
            for raw in iter_raw_records(f):
                if raw.data is None or raw.end is None:
                    break
                rec = next(iter(ArchiveIterator(io.BytesIO(raw.data))), None)
                if rec is None:
                    break
                if rec.rec_type in ("response", "warcinfo"):
                    good_end = raw.end
                if rec.rec_type == "response":
                    url = rec.rec_headers.get_header("WARC-Target-URI")
                    counts[url] = counts.get(url, 0) + 1
        if good_end < path.stat().st_size:
            with open(path, "r+b") as f:
                f.truncate(good_end)
    return counts
