"""The arXiv API (Atom feed) and e-print endpoint, fetched politely with timeouts and size caps.

arXiv's API terms ask for no more than one request every three seconds from one client
(https://info.arxiv.org/help/api/tou.html); `PoliteFetcher` spaces request starts by
`delay_s`. Feed parsing is pure (`parse_feed`) and tested on fixture XML.
"""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import urlencode

_ATOM = "{http://www.w3.org/2005/Atom}"
_ARXIV = "{http://arxiv.org/schemas/atom}"
_ABS_ID = re.compile(r"/abs/(.+?)(v\d+)?$")


class FetchError(Exception):
    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass
class FeedEntry:
    arxiv_id: str
    version: str | None
    title: str
    categories: list[str]
    primary_category: str | None


def parse_feed(xml: bytes) -> list[FeedEntry]:
    """Entries of an arXiv API Atom feed; raises FetchError('invalid_feed') on malformed XML."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise FetchError("invalid_feed", str(exc)) from exc
    entries = []
    for entry in root.iter(f"{_ATOM}entry"):
        m = _ABS_ID.search((entry.findtext(f"{_ATOM}id") or "").strip())
        if not m:
            continue  # the API reports errors as an entry whose id is not an abs URL
        primary = entry.find(f"{_ARXIV}primary_category")
        entries.append(FeedEntry(
            arxiv_id=m.group(1), version=m.group(2),
            title=re.sub(r"\s+", " ", entry.findtext(f"{_ATOM}title") or "").strip(),
            categories=[c.get("term") for c in entry.iter(f"{_ATOM}category") if c.get("term")],
            primary_category=primary.get("term") if primary is not None else None,
        ))
    return entries


def query_url(api_url: str, search_query: str = "", id_list: list[str] | None = None,
              start: int = 0, max_results: int = 100) -> str:
    params = {"start": start, "max_results": max_results}
    if search_query:
        params["search_query"] = search_query
    if id_list:
        params["id_list"] = ",".join(id_list)
    return f"{api_url}?{urlencode(params)}"


def eprint_url(eprint_base: str, arxiv_id: str, version: str | None) -> str:
    return f"{eprint_base.rstrip('/')}/{arxiv_id}{version or ''}"


class PoliteFetcher:
    """GETs with a minimum spacing between request starts, a timeout and a byte cap."""

    def __init__(self, delay_s: float = 3.0, timeout_s: float = 30.0, max_bytes: int = 64 << 20,
                 user_agent: str = "llm-pipeline-ingest/0.1", clock=time.monotonic, sleep=time.sleep):
        self.delay_s, self.timeout_s, self.max_bytes = delay_s, timeout_s, max_bytes
        self.user_agent = user_agent
        self._clock, self._sleep = clock, sleep
        self._last: float | None = None
        self.requests = 0

    def _wait(self) -> None:
        if self._last is not None:
            remaining = self.delay_s - (self._clock() - self._last)
            if remaining > 0:
                self._sleep(remaining)
        self._last = self._clock()

    def get(self, url: str) -> bytes:
        import requests

        self._wait()
        self.requests += 1
        started = self._clock()
        try:
            with requests.get(url, timeout=self.timeout_s, stream=True,
                              headers={"User-Agent": self.user_agent}) as resp:
                if resp.status_code != 200:
                    raise FetchError("http_error", f"{resp.status_code} {url}")
                declared = resp.headers.get("Content-Length")
                if declared and declared.isdigit() and int(declared) > self.max_bytes:
                    raise FetchError("too_large", url)
                body = bytearray()
                for chunk in resp.iter_content(1 << 16):
                    body += chunk
                    if len(body) > self.max_bytes:
                        raise FetchError("too_large", url)
                    # requests' timeout is per socket read; a slow drip must not hold the run.
                    if self._clock() - started > 4 * self.timeout_s:
                        raise FetchError("timeout", url)
                return bytes(body)
        except requests.Timeout as exc:
            raise FetchError("timeout", url) from exc
        except requests.RequestException as exc:
            raise FetchError("connection_error", f"{url}: {exc}") from exc


def fetch_sources(urls: list[str], fetcher: PoliteFetcher, eprint_base: str,
                  failures: dict[str, int]) -> list[tuple[str, bytes, str]]:
    """Feed URLs (each entry's e-print is fetched) and e-print URLs -> (locator, payload, meta JSON).

    Runs on the driver, one request at a time, so the politeness delay holds for the whole run.
    """
    import json

    out = []
    for url in urls:
        try:
            if "/e-print/" in url:
                name = url.rstrip("/").rsplit("/", 1)[-1]
                out.append((url, fetcher.get(url), json.dumps({"name": name})))
                continue
            entries = parse_feed(fetcher.get(url))
        except FetchError as exc:
            failures[exc.reason] = failures.get(exc.reason, 0) + 1
            continue
        for e in entries:
            target = eprint_url(eprint_base, e.arxiv_id, e.version)
            try:
                payload = fetcher.get(target)
            except FetchError as exc:
                failures[exc.reason] = failures.get(exc.reason, 0) + 1
                continue
            meta = {"name": f"{e.arxiv_id.replace('/', '')}{e.version or ''}.gz", "title": e.title,
                    "categories": e.categories, "primary_category": e.primary_category,
                    "version": e.version}
            out.append((target, payload, json.dumps(meta)))
    return out
