"""Write the sample site to a directory and serve it on 127.0.0.1 (for the crawl demo and tests).

Beside the pages the site has a robots.txt that disallows /private/, a redirect chain
(/old/launch.html -> /moved/launch.html -> an article), a redirect loop, a CSV and a PNG file,
and index pages linking everything so a crawl from "/" discovers the whole site.
"""

from __future__ import annotations

import html as html_lib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from pipeline.sample.web.pages import COOKIE_EN, NAV_EN, Page, en_footer

ROBOTS_TXT = "User-agent: *\nDisallow: /private/\nDisallow: /search\n"
REDIRECTS_FILE = "_redirects.json"
# A minimal valid 1x1 PNG: the crawler must refuse it by content type.
PNG_1X1 = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
CSV = "quarter,revenue,costs\nQ1,120,80\nQ2,135,90\nQ3,150,95\n"


def redirects_for(pages: list[Page]) -> dict[str, tuple[int, str]]:
    target = next(p.path for p in pages if p.kind == "article" and p.topic == "technology")
    return {"/old/launch.html": (301, "/moved/launch.html"), "/moved/launch.html": (302, target),
            "/loop/a.html": (302, "/loop/b.html"), "/loop/b.html": (302, "/loop/a.html")}


def index_pages(pages: list[Page]) -> dict[str, str]:
    """path -> HTML of the home page and one listing page per section."""
    e = html_lib.escape
    sections: dict[str, list[Page]] = {}
    for p in pages:
        section = p.path.strip("/").split("/")[0] if "/" in p.path.strip("/") else "more"
        sections.setdefault(section, []).append(p)

    def listing(title: str, items: list[tuple[str, str]]) -> str:
        lis = "".join(f'<li><a href="{e(h)}">{e(t)}</a></li>' for t, h in items)
        nav = "".join(f'<li><a href="{h}">{e(t)}</a></li>' for t, h in NAV_EN)
        return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title></head>'
                f'<body><div class="cookie-consent">{e(COOKIE_EN)}</div><nav><ul>{nav}</ul></nav>'
                f"<main><h1>{e(title)}</h1><ul>{lis}</ul></main><footer>{e(en_footer('index'))}</footer>"
                "</body></html>\n")

    out = {}
    for section, items in sorted(sections.items()):
        out[f"/{section}/index.html"] = listing(f"Section: {section}", [(p.title, p.path) for p in items])
    home_links = [(f"Section: {s}", f"/{s}/") for s in sorted(sections) if s != "more"]
    home_links += [(p.title, p.path) for p in sections.get("more", [])]
    home_links += [("Product launch (moved)", "/old/launch.html"), ("Archive", "/loop/a.html"),
                   ("Company logo", "/img/logo.png")]
    out["/index.html"] = listing("Sample Media Group", home_links)
    return out


def write_site(pages: list[Page], root: str | Path) -> Path:
    root = Path(root)
    for p in pages:
        target = root / p.path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(p.body())
    for path, html in index_pages(pages).items():
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")
    (root / "robots.txt").write_text(ROBOTS_TXT)
    (root / "files").mkdir(exist_ok=True)
    (root / "files" / "report.csv").write_text(CSV)
    (root / "img").mkdir(exist_ok=True)
    (root / "img" / "logo.png").write_bytes(PNG_1X1)
    (root / REDIRECTS_FILE).write_text(json.dumps(redirects_for(pages), indent=1, sort_keys=True))
    return root


class _SiteHandler(SimpleHTTPRequestHandler):
    redirects: dict[str, list] = {}

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        path = self.path.split("?")[0]
        if path == f"/{REDIRECTS_FILE}":
            self.send_error(404)
            return
        if path in self.redirects:
            code, location = self.redirects[path]
            self.send_response(code)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, format: str, *args) -> None:  # keep test and demo output quiet
        pass


@contextmanager
def serve_directory(root: str | Path, port: int = 0) -> Iterator[str]:
    """Serve `root` on 127.0.0.1 (a free port by default); yields the base URL."""
    root = Path(root)
    redirects_path = root / REDIRECTS_FILE
    redirects = json.loads(redirects_path.read_text()) if redirects_path.is_file() else {}
    handler = type("SiteHandler", (_SiteHandler,), {"redirects": redirects})
    server = ThreadingHTTPServer(("127.0.0.1", port), partial(handler, directory=str(root)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
