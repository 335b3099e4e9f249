"""Small generated WARC/WET files for reader and stage tests."""

from __future__ import annotations

import io
from pathlib import Path

from pipeline.web.warc_write import exchange_bytes, warcinfo_bytes

GOOD = [(f"http://site.test/page{i}.html", f"<html><body><p>Good page number {i}.</p></body></html>")
        for i in range(6)]
LATIN1_URL = "http://site.test/latin1.html"
LATIN1_TEXT = "Déjà vu à la française, naïve façade"


def pair(url: str, body: bytes, ctype: str = "text/html; charset=utf-8", status: str = "200 OK") -> bytes:
    return exchange_bytes(url=url, fetched_at="2026-11-01T00:00:00Z", request_headers=[("User-Agent", "t")],
                          status_line=status, response_headers=[("Content-Type", ctype)], body=body)


def damaged_warc(path: Path) -> Path:
    """Six good pages, a Latin-1 page, a 404 and a PNG, with a cut member in the middle and at the end."""
    parts = [warcinfo_bytes(path.name, {"software": "tests"})]
    for i, (url, html) in enumerate(GOOD):
        parts.append(pair(url, html.encode()))
        if i == 2:
            cut = pair("http://site.test/cut.html", b"<html>" + b"x" * 5000 + b"</html>")
            parts.append(cut[: len(cut) // 2])
    parts.append(pair(LATIN1_URL, f"<html><body><p>{LATIN1_TEXT}</p></body></html>".encode("latin-1"),
                      ctype="text/html; charset=ISO-8859-1"))
    parts.append(pair("http://site.test/missing.html", b"<html>no</html>", status="404 Not Found"))
    parts.append(pair("http://site.test/logo.png", b"\x89PNG....", ctype="image/png"))
    tail = pair("http://site.test/tail.html", b"<html><body>tail</body></html>")
    parts.append(tail[:-10])
    path.write_bytes(b"".join(parts))
    return path


def wet_file(path: Path, texts: dict[str, str], gzip: bool = False) -> Path:
    from warcio.warcwriter import WARCWriter

    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=gzip)
    for url, text in texts.items():
        writer.write_record(writer.create_warc_record(url, "conversion", payload=io.BytesIO(text.encode()),
                                                      warc_content_type="text/plain"))
    path.write_bytes(buf.getvalue())
    return path
