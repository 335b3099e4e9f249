"""URL normalisation, crawl scope and link extraction (pure: no network).

Normalisation follows RFC 3986 section 6 (case, default ports, dot segments, percent-encoding)
plus the usual crawler conventions: drop the fragment, sort the query, strip session-style
tracking parameters, so one page reached by two spellings is fetched once.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit, urlunsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
# Tracking parameters that never change content (Google Analytics' utm_*, click ids).
TRACKING_PARAMS = ("utm_", "fbclid", "gclid", "msclkid", "mc_cid", "mc_eid")
# Characters left unescaped in a path (RFC 3986 pchar + "/").
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


def normalize_url(url: str, base: str | None = None) -> str | None:
    """A canonical absolute http(s) URL, or None when `url` is not one."""
    url = (url or "").strip()
    if not url:
        return None
    if base:
        url = urljoin(base, url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        return None
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = parts.path or "/"
    trailing = path.endswith("/")
    path = posixpath.normpath(path)
    path = "/" if path in (".", "//") else path.replace("//", "/")
    if trailing and not path.endswith("/"):
        path += "/"
    path = quote(unquote(path), safe=_PATH_SAFE)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not k.lower().startswith(TRACKING_PARAMS)]
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query)), ""))


def host_of(url: str) -> str:
    """Host (with a non-default port): the unit of politeness and of robots.txt."""
    return urlsplit(url).netloc.lower()


def robots_url(url: str) -> str:
    p = urlsplit(url)
    return urlunsplit((p.scheme, p.netloc, "/robots.txt", "", ""))


@dataclass
class Scope:
    """Which discovered links a crawl follows."""

    seed_hosts: set[str] = field(default_factory=set)
    same_host: bool = True
    allowed_domains: tuple[str, ...] = ()  # domain suffixes, e.g. "example.org" allows a.example.org

    def allows(self, url: str) -> bool:
        host = urlsplit(url).hostname or ""
        if any(host == d or host.endswith("." + d) for d in self.allowed_domains):
            return True
        return not self.same_host or host_of(url) in self.seed_hosts


def extract_links(html: bytes | str, base_url: str) -> list[str]:
    """Normalised absolute http(s) links of a page, in document order, without duplicates.

    `<base href>` is honoured; `rel=nofollow` links are skipped (the page asks crawlers not to).
    """
    import lxml.html

    try:
        doc = lxml.html.fromstring(html)
    except (ValueError, TypeError, Exception):  # lxml raises ParserError on empty documents
        return []
    base = base_url
    for href in doc.xpath("//base/@href")[:1]:
        base = urljoin(base_url, str(href))
    seen: dict[str, None] = {}
    for a in doc.xpath("//a[@href]"):
        if "nofollow" in (a.get("rel") or "").lower():
            continue
        url = normalize_url(str(a.get("href")), base)
        if url:
            seen.setdefault(url, None)
    return list(seen)
