"""Pure logic: URL normalisation and scope, robots rules, the SSRF guard, charset decoding."""

from __future__ import annotations

import pytest

from pipeline.web.charset import decode_html
from pipeline.web.robots import RobotsRules
from pipeline.web.ssrf import SsrfGuard, refusal_reason
from pipeline.web.urls import Scope, extract_links, normalize_url


@pytest.mark.parametrize("raw, expected", [
    ("HTTP://Example.COM:80/a/./b/../c?b=2&a=1#frag", "http://example.com/a/c?a=1&b=2"),
    ("https://example.com:443", "https://example.com/"),
    ("https://example.com:8443/x", "https://example.com:8443/x"),
    ("http://example.com/p?utm_source=x&id=3", "http://example.com/p?id=3"),
    ("http://example.com/a%7Eb/c d", "http://example.com/a~b/c%20d"),
    ("mailto:someone@example.com", None),
    ("javascript:void(0)", None),
    ("http://[::1]:8080/x", "http://[::1]:8080/x"),
])
def test_normalize_url(raw, expected):
    assert normalize_url(raw) == expected


def test_extract_links_resolves_dedups_and_skips_nofollow():
    html = ('<html><head><base href="/docs/"></head><body><a href="a.html">A</a><a href="a.html#x">A2</a>'
            '<a rel="nofollow" href="/ads">ad</a><a href="mailto:x@y">m</a><a href="https://other.org/">o</a>'
            "</body></html>")
    assert extract_links(html, "http://site.test/index.html") == ["http://site.test/docs/a.html",
                                                                   "https://other.org/"]
    assert extract_links("", "http://site.test/") == []


def test_scope_same_host_and_allowed_domains():
    scope = Scope(seed_hosts={"site.test"}, same_host=True, allowed_domains=("example.org",))
    assert scope.allows("http://site.test/x")
    assert scope.allows("http://news.example.org/x")
    assert not scope.allows("http://other.test/x")
    assert Scope(seed_hosts={"site.test"}, same_host=False).allows("http://other.test/x")


def test_robots_status_semantics_and_agent_groups():
    body = b"User-agent: mybot\nDisallow: /\n\nUser-agent: *\nDisallow: /private/\nCrawl-delay: 2\n"
    star = RobotsRules.from_response(200, body, "otherbot/1.0")
    assert star.can_fetch("http://s/a") and not star.can_fetch("http://s/private/x")
    assert star.crawl_delay() == 2.0
    mine = RobotsRules.from_response(200, body, "mybot")
    assert not mine.can_fetch("http://s/a")
    assert RobotsRules.from_response(404, b"", "bot").can_fetch("http://s/private/x")  # 4xx: no rules
    assert not RobotsRules.from_response(503, b"", "bot").can_fetch("http://s/a")  # 5xx: disallow all
    assert not RobotsRules.from_response(None, b"", "bot").can_fetch("http://s/a")  # unreachable


@pytest.mark.parametrize("address, reason", [
    ("127.0.0.1", "loopback_address"), ("::1", "loopback_address"), ("10.0.0.1", "private_address"),
    ("192.168.1.5", "private_address"), ("172.16.0.9", "private_address"), ("100.64.1.1", "private_address"),
    ("169.254.169.254", "metadata_address"), ("169.254.10.10", "link_local_address"),
    ("fe80::1", "link_local_address"), ("::ffff:10.0.0.1", "private_address"), ("0.0.0.0", "reserved_address"),
    ("93.184.216.34", None), ("2606:4700::1111", None),
    # IPv6 forms that carry a private IPv4 (issue 17): 6to4, Teredo, NAT64, IPv4-compatible, mapped
    ("2002:a9fe:a9fe::1", "metadata_address"), ("2002:7f00:1::1", "loopback_address"),
    ("2002:a00:1::1", "private_address"), ("2002:a9fe:101::1", "link_local_address"),
    ("2001:0:7f00:1::ffff:ffff", "loopback_address"), ("64:ff9b::a00:1", "private_address"),
    ("64:ff9b:1::7f00:1", "loopback_address"), ("::127.0.0.1", "loopback_address"),
    ("::ffff:127.0.0.1", "loopback_address"), ("2002:808:808::1", None),
])
def test_refusal_reasons(address, reason):
    assert refusal_reason(address) == reason


def test_guard_checks_every_resolved_address_and_allow_list():
    rebinding = SsrfGuard(resolver=lambda host, port: ["93.184.216.34", "127.0.0.1"])
    assert rebinding.check("http://evil.test/") == "loopback_address"
    allowed = SsrfGuard(["127.0.0.1/32"], resolver=lambda host, port: ["127.0.0.1"])
    assert allowed.check("http://localhost:8000/") is None
    # The metadata endpoint stays refused even inside an allowed network.
    assert SsrfGuard(["169.254.0.0/16"]).check("http://169.254.169.254/") == "metadata_address"

    def broken(host, port):
        raise OSError("no dns here")

    assert SsrfGuard(resolver=broken).check("http://nowhere.test/") == "dns_failure"


def test_decode_html_declared_meta_bom_and_detection():
    text = "Fête à l'école — café"
    assert decode_html(text.encode("cp1252"), "text/html; charset=ISO-8859-1")[:3] == (text, "cp1252", "declared")
    zh = "<html><head><meta charset='gbk'></head><body>中文网页内容</body></html>"
    got, codec, how = decode_html(zh.encode("gbk"), "text/html")
    assert "中文网页内容" in got and how == "meta"
    assert decode_html(b"\xef\xbb\xbfhello", None)[2] == "bom"
    # A wrong declaration that cannot decode falls through to sniffing instead of mojibake.
    got, _, how = decode_html("naïve café".encode(), "text/html; charset=ascii")
    assert how != "fallback"
    assert decode_html(b"ok", "text/html; charset=no-such-codec")[0] == "ok"
