"""Fetch one URL politely and safely: SSRF check per hop, manual redirects, byte/time caps.

Redirects are followed by hand so each hop is normalised, SSRF-checked and counted. Each hop
resolves the host once, checks every address, and connects to a checked one (`pinned.py`);
DNS, connect, headers + body share one deadline of `max_seconds` of wall time (cut bodies are marked
`WARC-Truncated: time`). The decoded body is cut at `max_bytes` (`WARC-Truncated: length`, as
Common Crawl does); gzip/deflate are inflated with `max_length`, so a bomb stops there too.
"""

from __future__ import annotations

import http.client
import queue
import threading
import time
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from pipeline.web.pinned import pinned_connection
from pipeline.web.ssrf import SsrfGuard
from pipeline.web.urls import normalize_url

TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})  # worth retrying with backoff
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


@dataclass
class FetchLimits:
    max_bytes: int
    max_seconds: float
    connect_timeout: float
    max_redirects: int
    accept_types: tuple[str, ...]


@dataclass
class FetchResult:
    url: str  # the URL finally fetched (after redirects)
    outcome: str  # "ok", or the reason nothing was stored
    status: int | None = None
    status_line: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    truncated: str | None = None  # "length" / "time" when the body was cut
    ip: str | None = None
    fetched_at: str = ""
    redirects: list[str] = field(default_factory=list)


def fetch(session, url: str, guard: SsrfGuard, limits: FetchLimits, user_agent: str,
          fetch_one_hop=None, may_follow=None) -> FetchResult:
    """GET `url`, following up to `limits.max_redirects` redirects; never raises on network errors.

    `may_follow(target)` returns a reason to refuse a redirect target (scope, robots) or None.
    """
    redirects: list[str] = []
    current = url
    while True:
        reason = guard.check(current) if fetch_one_hop else None  # `_get` checks what it connects to
        if reason:
            return FetchResult(current, f"ssrf_refused:{reason}", redirects=redirects)
        result = (fetch_one_hop or _get)(session, current, guard, limits, user_agent)
        result.redirects = redirects
        if result.status in REDIRECT_STATUSES and result.outcome == "redirect":
            location = dict((k.lower(), v) for k, v in result.headers).get("location")
            target = normalize_url(location or "", current)
            if target is None:
                return FetchResult(current, "bad_redirect", status=result.status, redirects=redirects)
            if target in redirects or target == current:
                return FetchResult(current, "redirect_loop", status=result.status, redirects=redirects)
            refused = may_follow(target) if may_follow else None
            if refused:
                return FetchResult(target, refused, status=result.status, redirects=redirects)
            redirects.append(current)
            if len(redirects) > limits.max_redirects:
                return FetchResult(target, "too_many_redirects", status=result.status, redirects=redirects)
            current = target
            continue
        return result


def _get(session, url: str, guard: SsrfGuard, limits: FetchLimits, user_agent: str) -> FetchResult:
    """One hop: resolve + check, connect to a checked address, all within `limits.max_seconds`."""
    deadline = time.monotonic() + limits.max_seconds
    fetched_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    resolved = _resolve_by(guard, url, deadline)
    if resolved is None:
        return FetchResult(url, "timeout", fetched_at=fetched_at)
    addresses, reason = resolved
    if reason:
        return FetchResult(url, f"ssrf_refused:{reason}", fetched_at=fetched_at)
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    request_headers = [("User-Agent", user_agent), ("Accept", "text/html,application/xhtml+xml,text/plain"),
                       ("Accept-Encoding", "gzip, deflate"), ("Host", url.split("/")[2])]
    conn, resp, ip, outcome = None, None, None, "connection_error"
    for ip in addresses:  # every one was checked; the first that answers is used
        conn = pinned_connection(parts.scheme, parts.hostname, port, ip, deadline, limits.connect_timeout)
        try:
            conn.request("GET", target, headers=dict(request_headers[:3]))
            resp = conn.getresponse()
            break
        except TimeoutError:
            outcome = "timeout"
        except (OSError, http.client.HTTPException, ValueError):
            outcome = "connection_error"
        conn.close()
        if time.monotonic() >= deadline:
            break
    if resp is None:
        return FetchResult(url, outcome, ip=ip, fetched_at=fetched_at)
    try:
        return _read_response(url, resp, ip, fetched_at, request_headers, limits)
    finally:
        conn.close()


def _resolve_by(guard: SsrfGuard, url: str, deadline: float) -> tuple[list[str], str | None] | None:
    """`guard.resolve(url)`, or None if DNS has not answered by the deadline.

    getaddrinfo cannot be interrupted: a hung lookup is left to finish in a daemon thread.
    """
    answer: queue.Queue = queue.Queue(maxsize=1)

    def lookup() -> None:
        try:
            answer.put(guard.resolve(url))
        except Exception:  # a resolver bug is a failed lookup, not a hung fetch
            answer.put(([], "dns_failure"))

    threading.Thread(target=lookup, daemon=True, name="dns").start()
    try:
        return answer.get(timeout=max(deadline - time.monotonic(), 0.001))
    except queue.Empty:
        return None


def _read_response(url: str, resp, ip: str, fetched_at: str, request_headers: list[tuple[str, str]],
                   limits: FetchLimits) -> FetchResult:
    headers = resp.getheaders()
    base = dict(url=url, status=resp.status, headers=headers, ip=ip, fetched_at=fetched_at,
                request_headers=request_headers, status_line=f"{resp.status} {resp.reason or ''}".strip())
    if resp.status in REDIRECT_STATUSES:
        return FetchResult(outcome="redirect", **base)
    if resp.status in TRANSIENT_STATUSES:
        return FetchResult(outcome=f"transient_{resp.status}", **base)
    media = (resp.getheader("Content-Type") or "").split(";")[0].strip().lower()
    if resp.status == 200 and media not in limits.accept_types:
        return FetchResult(outcome="unaccepted_content_type", **base)
    body = BoundedBody(resp.getheader("Content-Encoding"), limits.max_bytes)
    truncated = None
    try:
        while not body.full and (chunk := resp.read1(16384)):  # read1: keep what arrived by the deadline
            body.feed(chunk)
        if body.full:
            truncated = "length"
    except TimeoutError:
        truncated = "time"
    except (OSError, http.client.HTTPException, zlib.error):
        return FetchResult(outcome="connection_error", **base)
    return FetchResult(outcome="ok", body=body.value(), truncated=truncated, **base)


class BoundedBody:
    """The decoded body, never more than `max_bytes` (a gzip bomb inflates only that far)."""

    def __init__(self, encoding: str | None, max_bytes: int):
        encoding = (encoding or "").strip().lower()
        # gzip: wbits 31; deflate: zlib-wrapped (32+15 also accepts gzip); other codings kept as sent
        wbits = 31 if encoding in ("gzip", "x-gzip") else 47 if encoding == "deflate" else None
        self.decoder = zlib.decompressobj(wbits) if wbits else None
        self.max_bytes, self.size, self.full = max_bytes, 0, False
        self.parts: list[bytes] = []

    def feed(self, chunk: bytes) -> None:
        room = self.max_bytes + 1 - self.size  # one byte more than allowed tells "cut" from "exact"
        piece = self.decoder.decompress(chunk, room) if self.decoder else chunk[:room]
        self.parts.append(piece)
        self.size += len(piece)
        self.full = self.size > self.max_bytes

    def value(self) -> bytes:
        return b"".join(self.parts)[:self.max_bytes]
