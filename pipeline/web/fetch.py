"""Fetch one URL politely and safely: SSRF check per hop, manual redirects, byte/time caps.

Redirects are followed by hand (not by requests) so each hop is normalised, SSRF-checked and
counted; the body is streamed and cut at `max_bytes` (the record is marked `WARC-Truncated:
length`, as Common Crawl does) and at `max_seconds` of wall time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

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


def _peer_ip(resp) -> str | None:
    # urllib3 keeps the live connection on a streamed response; its socket names the real peer.
    try:
        return resp.raw._connection.sock.getpeername()[0]
    except (AttributeError, OSError, TypeError):
        return None


def fetch(session, url: str, guard: SsrfGuard, limits: FetchLimits, user_agent: str,
          fetch_one_hop=None, may_follow=None) -> FetchResult:
    """GET `url`, following up to `limits.max_redirects` redirects; never raises on network errors.

    `may_follow(target)` returns a reason to refuse a redirect target (scope, robots) or None.
    """
    redirects: list[str] = []
    current = url
    while True:
        reason = guard.check(current)
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
    import requests

    request_headers = [("User-Agent", user_agent), ("Accept", "text/html,application/xhtml+xml,text/plain"),
                       ("Accept-Encoding", "gzip, deflate"), ("Host", url.split("/")[2])]
    fetched_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    started = time.monotonic()
    try:
        resp = session.get(url, headers=dict(request_headers[:3]), stream=True, allow_redirects=False,
                           timeout=(limits.connect_timeout, limits.max_seconds))
    except requests.Timeout:
        return FetchResult(url, "timeout", fetched_at=fetched_at)
    except (requests.RequestException, OSError, ValueError):
        return FetchResult(url, "connection_error", fetched_at=fetched_at)
    with resp:
        ip = _peer_ip(resp)
        if ip and guard.check_peer(ip):
            return FetchResult(url, f"ssrf_refused:{guard.check_peer(ip)}", ip=ip, fetched_at=fetched_at)
        headers = list(resp.raw.headers.items())
        base = dict(url=url, status=resp.status_code, headers=headers, ip=ip, fetched_at=fetched_at,
                    request_headers=request_headers,
                    status_line=f"{resp.status_code} {resp.reason or ''}".strip())
        if resp.status_code in REDIRECT_STATUSES:
            return FetchResult(outcome="redirect", **base)
        if resp.status_code in TRANSIENT_STATUSES:
            return FetchResult(outcome=f"transient_{resp.status_code}", **base)
        media = (resp.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if resp.status_code == 200 and media not in limits.accept_types:
            return FetchResult(outcome="unaccepted_content_type", **base)
        chunks, size, truncated = [], 0, None
        try:
            for chunk in resp.iter_content(chunk_size=16384):
                chunks.append(chunk)
                size += len(chunk)
                if size > limits.max_bytes:
                    truncated = "length"
                    break
                if time.monotonic() - started > limits.max_seconds:
                    truncated = "time"
                    break
        except requests.Timeout:
            truncated = "time"
        except (requests.RequestException, OSError):
            return FetchResult(outcome="connection_error", **base)
        body = b"".join(chunks)[:limits.max_bytes]
        return FetchResult(outcome="ok", body=body, truncated=truncated, **base)
