"""The crawl loop: frontier -> robots -> polite scheduling -> fetch -> WARC -> links -> frontier.

Runs on one machine with a thread pool (crawling is I/O-bound; Spark adds nothing here). The
main thread owns the frontier and the WARC file; workers only fetch. One request per host is in
flight at a time and the next waits `delay` seconds after the previous one finished, where
delay = max(min_delay, robots Crawl-delay capped at max_crawl_delay).
"""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from pipeline.progress import Progress
from pipeline.web.fetch import FetchLimits, FetchResult, fetch
from pipeline.web.frontier import DONE, FAILED, SKIPPED, Frontier
from pipeline.web.robots import RobotsRules
from pipeline.web.ssrf import SsrfGuard, system_resolver
from pipeline.web.urls import Scope, extract_links, host_of, normalize_url, robots_url
from pipeline.web.warc_write import WarcSink, reconcile


@dataclass
class CrawlSettings:
    user_agent: str
    max_pages: int
    max_depth: int
    same_host: bool
    allowed_domains: tuple[str, ...]
    concurrency: int
    min_delay: float
    max_crawl_delay: float
    limits: FetchLimits
    max_retries: int
    backoff_base: float
    allow_networks: tuple[str, ...]
    respect_robots: bool = True


def warc_dir(state_dir: str | Path) -> Path:
    return Path(state_dir) / "warc"


def crawl(seeds: list[str], state_dir: str | Path, s: CrawlSettings, resolver=system_resolver) -> dict:
    """Crawl until the frontier is empty or `max_pages` pages are written; returns counters."""
    frontier = Frontier(Path(state_dir) / "frontier.sqlite")
    stats: Counter[str] = Counter()
    stats["resumed_done"] = frontier.mark_done_many(list(reconcile(warc_dir(state_dir))))
    seeds = [u for u in (normalize_url(x) for x in seeds) if u]
    frontier.add(seeds, 0)
    scope = Scope(seed_hosts={host_of(u) for u in seeds}, same_host=s.same_host,
                  allowed_domains=tuple(s.allowed_domains))
    guard = SsrfGuard(s.allow_networks, resolver)
    # No HTTP session: each hop opens its own connection pinned to the address the guard checked
    # (a pooled keep-alive connection, or a proxy from the environment, would bypass the guard).
    session = None
    loop = _Loop(frontier, scope, guard, session, s, warc_dir(state_dir), stats)
    try:
        loop.run()
    finally:
        loop.close()
        frontier.close()
    return dict(stats)


class _Loop:
    def __init__(self, frontier: Frontier, scope: Scope, guard: SsrfGuard, session, s: CrawlSettings,
                 out_dir: Path, stats: Counter):
        self.frontier, self.scope, self.guard, self.session, self.s = frontier, scope, guard, session, s
        self.out_dir, self.stats = out_dir, stats
        self.robots: dict[str, RobotsRules] = {}
        self.refused_hosts: dict[str, str] = {}
        self.delay: dict[str, float] = {}
        self.next_at: dict[str, float] = {}
        self.busy: set[str] = set()
        self.pending: dict[Future, tuple[str, str, int, int]] = {}  # future -> (kind, url, depth, attempt)
        self.retries: list[tuple[float, str, int, int]] = []
        self.sink: WarcSink | None = None
        self.pool = ThreadPoolExecutor(max_workers=s.concurrency, thread_name_prefix="crawl")
        self.written = frontier.count(DONE)
        # pages written by this attempt (a resumed crawl starts past the pages already in its WARCs)
        self.resumed = self.written
        self.progress = Progress("crawl", "pages", total=max(s.max_pages - self.written, 0))

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.progress.finish()
        if self.sink:
            self.sink.close()

    def run(self) -> None:
        while True:
            self._schedule()
            if not self.pending:
                if self._finished():
                    return
                time.sleep(self._idle_wait())
                continue
            done, _ = wait(list(self.pending), timeout=0.5, return_when=FIRST_COMPLETED)
            for future in done:
                kind, url, depth, attempt = self.pending.pop(future)
                self._handle(kind, url, depth, attempt, future.result())
            self.progress.update(self.written - self.resumed)

    def _finished(self) -> bool:
        return self.written >= self.s.max_pages or (not self.retries and not self.frontier.queued(1))

    def _idle_wait(self) -> float:
        now = time.monotonic()
        times = [t for t, *_ in self.retries] + [t for h, t in self.next_at.items() if h not in self.busy]
        return min(max(min(times, default=now + 0.05) - now, 0.01), 0.5)

    def _in_flight_pages(self) -> int:
        return sum(1 for kind, *_ in self.pending.values() if kind == "page")

    def _schedule(self) -> None:
        now = time.monotonic()
        ready_retries = [r for r in self.retries if r[0] <= now]
        candidates = [(u, d, a) for _, u, d, a in ready_retries]
        retrying = {u for _, u, _, _ in self.retries}
        candidates += [(u, d, 0) for u, d in self.frontier.queued(4 * self.s.concurrency + 64)
                       if u not in retrying]
        for url, depth, attempt in candidates:
            if len(self.pending) >= self.s.concurrency:
                return
            if self.written + self._in_flight_pages() >= self.s.max_pages:
                return
            host = host_of(url)
            if host in self.busy or self.next_at.get(host, 0.0) > now or self._is_pending(url):
                continue
            if host in self.refused_hosts:  # its robots.txt fetch already hit the SSRF guard
                self._finish(url, FAILED, self.refused_hosts[host])
                continue
            if self.s.respect_robots and host not in self.robots:
                self._submit("robots", robots_url(url), host, depth, 0)
                continue
            if self.s.respect_robots and not self.robots[host].can_fetch(url):
                self._finish(url, SKIPPED, "robots_disallowed")  # never fetched
                continue
            if attempt:
                self.retries = [r for r in self.retries if r[1] != url]
            self._submit("page", url, host, depth, attempt)

    def _is_pending(self, url: str) -> bool:
        return any(u == url for _, u, _, _ in self.pending.values())

    def _submit(self, kind: str, url: str, host: str, depth: int, attempt: int) -> None:
        self.busy.add(host)
        may_follow = None if kind == "robots" else self._may_follow
        future = self.pool.submit(fetch, self.session, url, self.guard, self.s.limits, self.s.user_agent,
                                  None, may_follow)
        self.pending[future] = (kind, url, depth, attempt)

    def _may_follow(self, url: str) -> str | None:
        if not self.scope.allows(url):
            return "redirect_out_of_scope"
        rules = self.robots.get(host_of(url))
        if self.s.respect_robots and rules is not None and not rules.can_fetch(url):
            return "robots_disallowed"
        return None

    def _handle(self, kind: str, url: str, depth: int, attempt: int, result: FetchResult) -> None:
        host = host_of(url)
        self.busy.discard(host)
        if kind == "robots" and result.outcome.startswith("ssrf_refused") and not result.redirects:
            self.refused_hosts[host] = result.outcome
            return
        if kind == "robots":
            status = result.status if result.outcome == "ok" else None
            if result.outcome == "ok" or (result.status and 400 <= result.status < 500):
                status = result.status
            self.robots[host] = RobotsRules.from_response(status, result.body, self.s.user_agent)
            site_delay = self.robots[host].crawl_delay() or 0.0
            self.delay[host] = max(self.s.min_delay, min(site_delay, self.s.max_crawl_delay))
            self.next_at[host] = time.monotonic() + self.delay[host]
            self.stats["robots_fetched"] += 1
            return
        self.next_at[host] = time.monotonic() + self.delay.get(host, self.s.min_delay)
        outcome = result.outcome
        if outcome.startswith("transient_") or outcome in ("timeout", "connection_error"):
            if attempt < self.s.max_retries:
                self.stats["retries"] += 1
                backoff = self.s.backoff_base * 2 ** attempt
                self.retries.append((time.monotonic() + backoff, url, depth, attempt + 1))
                return
            self._finish(url, FAILED, f"gave_up:{outcome}")
            return
        if outcome != "ok":
            self._finish(url, SKIPPED if outcome == "unaccepted_content_type" else FAILED, outcome)
            return
        final = result.url
        if final != url and self.frontier.status(final) == DONE:
            self._finish(url, SKIPPED, "duplicate_after_redirect")
            return
        self._write(result)
        if final != url:
            self.frontier.add([final], depth)
            self.frontier.mark(final, DONE)
            self.stats["redirected"] += 1
        self._finish(url, DONE, None)
        if result.status == 200 and depth < self.s.max_depth:
            links = [u for u in extract_links(result.body, final) if self.scope.allows(u)]
            self.stats["links_new"] += self.frontier.add(links, depth + 1)

    def _write(self, result: FetchResult) -> None:
        if self.sink is None:
            self.sink = WarcSink(self.out_dir, {"software": "llm-pipeline crawl",
                                                "format": "WARC File Format 1.1",
                                                "robots": "obey" if self.s.respect_robots else "ignore"})
        self.stats["bytes_written"] += self.sink.write_exchange(
            url=result.url, fetched_at=result.fetched_at, request_headers=result.request_headers,
            status_line=result.status_line, response_headers=result.headers, body=result.body,
            ip=result.ip, truncated=result.truncated)
        self.stats["pages_written"] += 1
        if result.truncated:
            self.stats[f"truncated_{result.truncated}"] += 1

    def _finish(self, url: str, status: str, reason: str | None) -> None:
        self.frontier.mark(url, status, reason)
        if status == DONE:
            self.written += 1
        else:
            self.stats[reason or status] += 1
