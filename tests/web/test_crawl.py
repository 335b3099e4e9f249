"""The crawler against a local server: robots, delay, redirects, caps, SSRF, retries, resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from pipeline.web.crawler import crawl, warc_dir
from pipeline.web.warc_write import reconcile
from tests.web.site_server import Route, html_page


def test_robots_disallowed_pages_are_never_fetched(site, crawl_settings, tmp_path):
    site.page("/robots.txt", "User-agent: *\nDisallow: /private/\n", headers={"Content-Type": "text/plain"})
    site.page("/", html_page("home", ["/a.html", "/private/secret.html"]))
    site.page("/a.html", html_page("a"))
    site.page("/private/secret.html", html_page("secret"))
    stats = crawl([site.base], tmp_path, crawl_settings())
    assert site.hits("/private/secret.html") == 0
    assert stats["robots_disallowed"] == 1
    assert set(reconcile(warc_dir(tmp_path))) == {site.url("/"), site.url("/a.html")}


def test_crawl_delay_from_robots_holds_between_requests(site, crawl_settings, tmp_path):
    site.page("/robots.txt", "User-agent: *\nCrawl-delay: 0.4\n", headers={"Content-Type": "text/plain"})
    site.page("/", html_page("home", [f"/p{i}.html" for i in range(3)]))
    for i in range(3):
        site.page(f"/p{i}.html", html_page(f"p{i}"))
    crawl([site.base], tmp_path, crawl_settings(concurrency=4))
    times = [t for path, t in site.log if path != "/robots.txt"]
    assert len(times) == 4
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 0.39  # the site's delay, even with four workers free


def test_redirect_loops_and_oversize_bodies_are_cut_off_and_counted(site, crawl_settings, tmp_path):
    site.page("/", html_page("home", ["/loop1", "/big.html", "/r1"]))
    site.routes["/loop1"] = Route(status=302, headers={"Location": "/loop2"})
    site.routes["/loop2"] = Route(status=302, headers={"Location": "/loop1"})
    site.routes["/r1"] = Route(status=301, headers={"Location": "/r2"})
    site.routes["/r2"] = Route(status=301, headers={"Location": "/final.html"})
    site.page("/final.html", html_page("final"))
    site.page("/big.html", "<html><body>" + "x" * 50_000 + "</body></html>")
    stats = crawl([site.base], tmp_path, crawl_settings(max_bytes=10_000))
    assert stats["redirect_loop"] == 1
    assert stats["truncated_length"] == 1
    assert stats["redirected"] == 1
    written = reconcile(warc_dir(tmp_path))
    assert site.url("/final.html") in written and site.url("/loop1") not in written
    from pipeline.web.warc_read import iter_raw_records

    bodies = {}
    for path in warc_dir(tmp_path).glob("*.warc.gz"):
        with open(path, "rb") as f:
            for raw in iter_raw_records(f):
                if b"WARC-Truncated: length" in raw.data:
                    bodies["big"] = raw.data
    assert "big" in bodies and len(bodies["big"]) < 12_000


def test_too_many_redirects_are_refused(site, crawl_settings, tmp_path):
    for i in range(4):
        site.routes[f"/hop{i}"] = Route(status=302, headers={"Location": f"/hop{i + 1}"})
    site.page("/hop4", html_page("end"))
    stats = crawl([site.url("/hop0")], tmp_path, crawl_settings(max_redirects=2))
    assert stats["too_many_redirects"] == 1
    assert site.hits("/hop4") == 0


def test_private_and_metadata_addresses_are_refused_by_default(site, crawl_settings, tmp_path):
    site.page("/", html_page("home", ["/to-metadata", "/to-private"]))
    site.routes["/to-metadata"] = Route(status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    site.routes["/to-private"] = Route(status=302, headers={"Location": "http://10.0.0.1/admin"})
    stats = crawl([site.base], tmp_path, crawl_settings(same_host=False))
    assert stats["ssrf_refused:metadata_address"] == 1
    assert stats["ssrf_refused:private_address"] == 1
    # Without the explicit allowance even the test server on loopback is refused.
    stats = crawl(["http://10.0.0.1/", site.base], tmp_path / "strict", crawl_settings(allow_networks=[]))
    assert stats["ssrf_refused:private_address"] == 1
    assert stats["ssrf_refused:loopback_address"] == 1
    assert not reconcile(warc_dir(tmp_path / "strict"))


def test_non_html_is_skipped_and_transient_errors_are_retried(site, crawl_settings, tmp_path):
    site.page("/", html_page("home", ["/data.csv", "/flaky.html", "/slow.html"]))
    site.routes["/data.csv"] = Route(body=b"a,b\n1,2\n", headers={"Content-Type": "text/csv"})
    site.page("/flaky.html", html_page("flaky"), fail_first=2)
    site.page("/slow.html", html_page("slow"), delay=1.5)
    stats = crawl([site.base], tmp_path, crawl_settings(max_seconds=0.5, max_retries=2))
    written = reconcile(warc_dir(tmp_path))
    assert site.url("/flaky.html") in written and site.hits("/flaky.html") == 3
    assert stats["unaccepted_content_type"] == 1 and site.url("/data.csv") not in written
    assert stats["gave_up:timeout"] == 1 and site.url("/slow.html") not in written


RESUME_SCRIPT = """
import sys
from pipeline.jobs.crawl import CrawlConfig, settings_from
from pipeline.web.crawler import crawl
cfg = CrawlConfig(min_delay=0.15, allow_networks=["127.0.0.1/32"], concurrency=2)
crawl([sys.argv[1]], sys.argv[2], settings_from(cfg))
"""


def test_killed_crawl_resumes_with_each_page_exactly_once(site, crawl_settings, tmp_path):
    pages = [f"/p{i:02d}.html" for i in range(12)]
    site.page("/", html_page("home", pages))
    for p in pages:
        site.page(p, html_page(p, text="Body of " + p))
    state = tmp_path / "state"
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    proc = subprocess.Popen([sys.executable, "-c", RESUME_SCRIPT, site.base, str(state)], env=env)
    deadline = time.monotonic() + 60
    while sum(site.hits(p) for p in pages) < 4 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = reconcile(warc_dir(state))
    assert 0 < len(before) < 13  # killed halfway
    crawl([site.base], state, crawl_settings(min_delay=0.0))
    after = reconcile(warc_dir(state))
    assert set(after) == {site.base} | {site.url(p) for p in pages}
    assert set(after.values()) == {1}  # each page in the WARC output exactly once
    for url in before:  # what was already written was not fetched again
        assert site.hits(url.removeprefix(site.base.rstrip("/"))) == 1
