"""The sample as a WARC file: what a crawl of the sample site would have written, plus damage.

Besides the good pages it holds a 404, a PNG, a redirect, request and warcinfo records, a
page in ISO-8859-1 declared only in the HTTP header, a page in GBK declared only in <meta>, and
two damaged gzip members in the middle (one cut short, one garbage), so ingestion has to count
them and still read every record after them.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipeline.sample.web.pages import Page
from pipeline.sample.web.site import PNG_1X1, index_pages
from pipeline.web.warc_write import exchange_bytes, warcinfo_bytes

HOST = "https://sample-media.example"
START = datetime(2026, 11, 1, 12, 0, 0, tzinfo=UTC)
DAMAGED_URLS = (f"{HOST}/corrupt/truncated.html", f"{HOST}/corrupt/garbage.html")


def _content_type(page: Page) -> str:
    if page.charset == "cp1252":
        return "text/html; charset=ISO-8859-1"  # declared only in HTTP (cp1252 is its WHATWG superset)
    if page.charset != "utf-8":
        return "text/html"  # left to the <meta> tag
    return "text/html; charset=utf-8"


def warc_entries(pages: list[Page]) -> list[tuple[str, str, str, bytes]]:
    """(url, status line, content type, body) in crawl order."""
    out = [(f"{HOST}{path}", "200 OK", "text/html; charset=utf-8", html.encode())
           for path, html in sorted(index_pages(pages).items())]
    out += [(f"{HOST}{p.path}", "200 OK", _content_type(p), p.body()) for p in pages if p.kind != "private"]
    out += [(f"{HOST}/missing.html", "404 Not Found", "text/html", b"<html><body><h1>Not found</h1></body></html>"),
            (f"{HOST}/img/logo.png", "200 OK", "image/png", PNG_1X1),
            (f"{HOST}/old/launch.html", "301 Moved Permanently", "text/html", b"")]
    return out


def write_sample_warc(pages: list[Page], path: str | Path, seed: int = 7) -> dict[str, int]:
    rng = random.Random(seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    entries = warc_entries(pages)
    damaged_at = {len(entries) // 3: DAMAGED_URLS[0], 2 * len(entries) // 3: DAMAGED_URLS[1]}
    with open(path, "wb") as f:
        f.write(warcinfo_bytes(path.name, {"software": "llm-pipeline sample", "format": "WARC File Format 1.1"}))
        for i, (url, status, ctype, body) in enumerate(entries):
            if i in damaged_at:
                f.write(_damaged(damaged_at[i], rng, i))
            headers = [("Content-Type", ctype), ("Server", "sample/1.0")]
            if status.startswith("301"):
                headers.append(("Location", "/moved/launch.html"))
            when = (START + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
            f.write(exchange_bytes(url=url, fetched_at=when, request_headers=[("User-Agent", "sample")],
                                   status_line=status, response_headers=headers, body=body, ip="203.0.113.7"))
    ok = sum(1 for _, status, ctype, _ in entries if status.startswith("200") and ctype.startswith("text/html"))
    return {"responses": len(entries), "html_200": ok, "damaged": len(damaged_at)}


def _damaged(url: str, rng: random.Random, i: int) -> bytes:
    good = exchange_bytes(url=url, fetched_at=START.strftime("%Y-%m-%dT%H:%M:%SZ"), request_headers=[],
                          status_line="200 OK", response_headers=[("Content-Type", "text/html")],
                          body=b"<html><body><p>This record is damaged.</p></body></html>" * 20)
    if url.endswith("truncated.html"):
        return good[: len(good) * 2 // 3]  # cut mid-member, as a crashed writer would leave it
    return b"\x1f\x8b\x08\x00" + bytes(rng.randrange(256) for _ in range(300))
