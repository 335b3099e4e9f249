"""Routes and page helpers for the programmable 127.0.0.1 test server (tests/web/conftest.py)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/html; charset=utf-8"})
    delay: float = 0.0  # seconds before the response starts
    fail_first: int = 0  # answer 503 this many times first (transient errors)


class Site:
    def __init__(self):
        self.routes: dict[str, Route] = {}
        self.log: list[tuple[str, float]] = []  # (path, monotonic time) of every request
        self.lock = threading.Lock()
        self.base = ""

    def page(self, path: str, html: str, **kw) -> None:
        self.routes[path] = Route(body=html.encode(), **kw)

    def hits(self, path: str) -> int:
        with self.lock:
            return sum(1 for p, _ in self.log if p == path)

    def url(self, path: str) -> str:
        return self.base.rstrip("/") + path


def html_page(title: str, links: list[str] = (), text: str = "Some text.") -> str:
    anchors = "".join(f'<a href="{h}">{h}</a> ' for h in links)
    return f"<html><head><title>{title}</title></head><body><p>{text}</p>{anchors}</body></html>"
