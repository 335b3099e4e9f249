"""arXiv API client: Atom parsing, politeness spacing, size caps and errors on a local server."""

import pytest

from pipeline.arxiv.api import FetchError, PoliteFetcher, eprint_url, fetch_sources, parse_feed, query_url
from tests.arxiv.conftest import FEED


def test_parse_feed_ids_versions_titles_categories():
    entries = parse_feed(FEED.encode())
    assert [(e.arxiv_id, e.version) for e in entries] == [
        ("2301.00001", "v2"), ("2301.00002", "v1"), ("2301.00009", "v1")]
    assert entries[0].title == "Sparse Mixtures for Small Language Models"
    assert entries[0].categories == ["cs.CL", "cs.LG"] and entries[0].primary_category == "cs.CL"
    with pytest.raises(FetchError, match="invalid_feed"):
        parse_feed(b"<feed><entry>")


def test_query_and_eprint_urls():
    url = query_url("http://h/api/query", "cat:cs.CL", None, start=100, max_results=50)
    assert url == "http://h/api/query?start=100&max_results=50&search_query=cat%3Acs.CL"
    assert eprint_url("http://h/e-print/", "hep-th/9901001", "v2") == "http://h/e-print/hep-th/9901001v2"


def test_default_delay_is_three_seconds_and_requests_are_spaced():
    assert PoliteFetcher().delay_s == 3.0
    now = [100.0]
    slept: list[float] = []

    def sleep(s):
        slept.append(s)
        now[0] += s

    fetcher = PoliteFetcher(delay_s=3.0, clock=lambda: now[0], sleep=sleep)
    fetcher._wait()
    now[0] += 1.0  # one second of work between requests
    fetcher._wait()
    fetcher._wait()
    assert slept == [pytest.approx(2.0), pytest.approx(3.0)]


def test_fetch_caps_and_http_errors(arxiv_server):
    base, _ = arxiv_server
    fetcher = PoliteFetcher(delay_s=0.0, timeout_s=5, max_bytes=100_000)
    with pytest.raises(FetchError, match="too_large"):
        fetcher.get(f"{base}/big")
    with pytest.raises(FetchError, match="http_error"):
        fetcher.get(f"{base}/e-print/0000.00000")
    with pytest.raises(FetchError, match="connection_error"):
        PoliteFetcher(delay_s=0.0, timeout_s=2).get("http://127.0.0.1:9/nothing")


def test_fetch_sources_follows_feed_to_eprints_and_counts_failures(arxiv_server):
    base, seen = arxiv_server
    failures: dict[str, int] = {}
    got = fetch_sources([f"{base}/api/query?search_query=cat:cs.CL"], PoliteFetcher(delay_s=0.01),
                        f"{base}/e-print", failures)
    assert [locator.rsplit("/", 1)[-1] for locator, _, _ in got] == ["2301.00001v2", "2301.00002v1"]
    assert failures == {"http_error": 1}  # 2301.00009v1 has no e-print
    assert seen == ["/api/query?search_query=cat:cs.CL", "/e-print/2301.00001v2", "/e-print/2301.00002v1",
                    "/e-print/2301.00009v1"]
