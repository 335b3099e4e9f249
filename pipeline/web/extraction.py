"""Main-text extraction of one HTML page: trafilatura, a fallback, and a per-page time limit.

trafilatura (Barbaresi 2021) keeps the article and drops navigation, footers, cookie banners
and link lists; on pages where it returns nothing, its `baseline` extractor (paragraph and
article text) is the fallback. A page over the time limit is set aside, not allowed to stall
a whole Spark task.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass


class PageTimeout(Exception):
    pass


@dataclass
class Extracted:
    text: str | None
    title: str | None = None
    metadata: dict | None = None
    extractor: str | None = None  # trafilatura | baseline | wet
    reject_reason: str | None = None


@contextmanager
def time_limit(seconds: float):
    """SIGALRM-based limit; a no-op off the main thread (signals only reach the main thread)."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum, frame):
        raise PageTimeout()

    previous = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


_META_FIELDS = ("author", "date", "sitename", "description", "hostname", "categories", "tags")


def extract_page(html: str, url: str | None, time_limit_s: float = 10.0, fallback: bool = True,
                 max_html_chars: int = 2_000_000, min_chars: int = 1) -> Extracted:
    import trafilatura

    if not html or not html.strip():
        return Extracted(None, reject_reason="empty_html")
    html = html[:max_html_chars]
    try:
        with time_limit(time_limit_s):
            doc = trafilatura.bare_extraction(html, url=url, with_metadata=True, include_comments=False)
            text = (doc.text or "").strip() if doc is not None else ""
            if len(text) >= min_chars:
                meta = {k: getattr(doc, k, None) for k in _META_FIELDS}
                meta = {k: v for k, v in meta.items() if v}
                return Extracted(text, doc.title or None, meta, "trafilatura")
            if fallback:
                _, base_text, _ = trafilatura.baseline(html)
                base_text = (base_text or "").strip()
                if len(base_text) >= min_chars:
                    title = doc.title if doc is not None else None
                    return Extracted(base_text, title or None, {}, "baseline")
    except PageTimeout:
        return Extracted(None, reject_reason="extraction_timeout")
    except Exception as exc:  # a page lxml or trafilatura chokes on is data, not a crash
        return Extracted(None, reject_reason=f"extraction_error:{type(exc).__name__}")
    return Extracted(None, reject_reason="no_text")
