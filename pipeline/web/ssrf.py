"""SSRF guard: refuse URLs whose host resolves to an address a public crawler must not reach.

Checked after DNS resolution (every address the name resolves to) and again for each redirect
hop, BEFORE connecting; the fetcher then connects to a checked address only (`pinned.py`), so
`http://evil.example/` pointing at 127.0.0.1, a DNS-rebinding second answer or a redirect to the
cloud metadata endpoint never receives a request. IPv6 forms that carry an IPv4 address (6to4,
Teredo, IPv4-mapped/compatible, NAT64) are judged by that IPv4 address too. Tests and the demo
allow 127.0.0.1 explicitly through `allow_networks`.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

# Cloud instance-metadata endpoints (AWS/GCP/Azure 169.254.169.254, AWS IPv6 fd00:ec2::254,
# Alibaba 100.100.100.200): refused even if some other rule would let them through.
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in
                               ("169.254.169.254", "fd00:ec2::254", "100.100.100.200"))

Resolver = Callable[[str, int], list[str]]
# NAT64 prefixes (RFC 6052 well-known, RFC 8215 local-use): the last 32 bits are an IPv4 address.
NAT64_NETWORKS = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return sorted({info[4][0] for info in infos})


def refusal_reason(address: str, allow: Iterable[ipaddress._BaseNetwork] = ()) -> str | None:
    """Why `address` must not be contacted, or None when it may be."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if isinstance(ip, ipaddress.IPv6Address):
        for inner in embedded_ipv4(ip):
            reason = refusal_reason(str(inner), allow)
            if reason:
                return reason
    if ip in METADATA_ADDRESSES:
        return "metadata_address"
    if any(ip in net for net in allow):
        return None
    if ip.is_unspecified or ip.is_multicast:  # 0.0.0.0 reaches the local host on Linux
        return "reserved_address"
    if ip.is_loopback:
        return "loopback_address"
    if ip.is_link_local:
        return "link_local_address"
    if ip.is_private or ip in ipaddress.ip_network("100.64.0.0/10"):  # RFC 6598 shared space too
        return "private_address"
    if ip.is_reserved or not ip.is_global:
        return "reserved_address"
    return None


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses a router would reach through this IPv6 address (6to4, Teredo, NAT64, compat)."""
    out = []
    if ip.sixtofour:  # 2002:AABB:CCDD::/48 tunnels to AA.BB.CC.DD
        out.append(ip.sixtofour)
    if ip.teredo:  # (server, client); the client is the tunnel's far end
        out += list(ip.teredo)
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if any(ip in net for net in NAT64_NETWORKS):
        out.append(low32)
    if int(ip) >> 32 == 0 and int(ip) > 1:  # deprecated IPv4-compatible ::a.b.c.d
        out.append(low32)
    return out


class SsrfGuard:
    def __init__(self, allow_networks: Iterable[str] = (), resolver: Resolver = system_resolver):
        self.allow = [ipaddress.ip_network(n, strict=False) for n in allow_networks]
        self.resolver = resolver

    def check(self, url: str) -> str | None:
        """None if every address of the URL's host is allowed, else the refusal reason."""
        return self.resolve(url)[1]

    def resolve(self, url: str) -> tuple[list[str], str | None]:
        """(addresses, None) when every address of the host is allowed, else ([], reason).

        The fetcher connects only to these addresses: one resolution, checked, then pinned.
        """
        parts = urlsplit(url)
        host = parts.hostname
        if not host:
            return [], "no_host"
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            addresses = self.resolver(host, port)
        except (OSError, UnicodeError, ValueError):
            return [], "dns_failure"
        if not addresses:
            return [], "dns_failure"
        for address in addresses:
            try:
                reason = refusal_reason(address, self.allow)
            except ValueError:
                reason = "bad_address"
            if reason:
                return [], reason
        return list(addresses), None

    def check_peer(self, address: str) -> str | None:
        """Check the address actually connected to (closes the DNS-rebinding gap)."""
        return refusal_reason(address, self.allow)
