"""arXiv fixtures: hostile bundles and a fake arXiv API + e-print server on 127.0.0.1."""

from __future__ import annotations

import io
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pipeline.sample.arxiv.build import SINGLE_TEX, add_file, gzip_bytes, multi_file_paper

BOMB_BYTES = 8 << 20  # 8 MiB of zeros gzip to ~8 KB: a 1000:1 ratio


def bomb_payload() -> bytes:
    """A paper payload that is a gzipped tar of one file of zeros."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("main.tex")
        info.size = BOMB_BYTES
        tar.addfile(info, io.BytesIO(bytes(BOMB_BYTES)))
    return gzip_bytes(buf.getvalue())


def hostile_bundle() -> bytes:
    """A bulk tar with one good paper and: `../escape`, an absolute path, a symlink out, a bomb."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        add_file(tar, "2301/2301.00001v2.gz", multi_file_paper())
        add_file(tar, "../escape.gz", gzip_bytes(SINGLE_TEX.encode()))
        add_file(tar, "/tmp/absolute/2301.00005v1.gz", gzip_bytes(SINGLE_TEX.encode()))
        link = tarfile.TarInfo("2301/2301.00006v1.gz")
        link.type, link.linkname = tarfile.SYMTYPE, "../../../../etc/passwd"
        tar.addfile(link)
        add_file(tar, "2301/2301.00007v1.gz", bomb_payload())
    return buf.getvalue()


FEED = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom">
  <title>arXiv Query</title>
  <entry>
    <id>http://arxiv.org/abs/2301.00001v2</id>
    <title>Sparse Mixtures for
      Small Language Models</title>
    <arxiv:primary_category term="cs.CL" scheme="http://arxiv.org/schemas/atom"/>
    <category term="cs.CL" scheme="http://arxiv.org/schemas/atom"/>
    <category term="cs.LG" scheme="http://arxiv.org/schemas/atom"/>
  </entry>
  <entry>
    <id>http://arxiv.org/abs/2301.00002v1</id>
    <title>A Note on Counting Tokens</title>
    <arxiv:primary_category term="cs.CL" scheme="http://arxiv.org/schemas/atom"/>
    <category term="cs.CL" scheme="http://arxiv.org/schemas/atom"/>
  </entry>
  <entry>
    <id>http://arxiv.org/abs/2301.00009v1</id>
    <title>Missing e-print</title>
    <category term="cs.CL" scheme="http://arxiv.org/schemas/atom"/>
  </entry>
</feed>
"""

EPRINTS = {"2301.00001v2": multi_file_paper(), "2301.00002v1": gzip_bytes(SINGLE_TEX.encode())}


@pytest.fixture
def arxiv_server():
    """(base URL, list of request paths) for a fake export.arxiv.org on 127.0.0.1."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            seen.append(self.path)
            if self.path.startswith("/api/query"):
                body, status = FEED.encode(), 200
            elif self.path.startswith("/e-print/") and self.path[9:] in EPRINTS:
                body, status = EPRINTS[self.path[9:]], 200
            elif self.path == "/big":
                body, status = bytes(200_000), 200
            else:
                body, status = b"not found", 404
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", seen
    server.shutdown()
    server.server_close()
