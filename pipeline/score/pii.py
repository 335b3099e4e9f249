"""PII redaction (emails, phone numbers, IPv4/IPv6 addresses) as a text modifier, counted.

Patterns follow datatrove's `PIIFormatter` and BigScience/StarCoder PII practice: replace with a
placeholder rather than drop the document, so the surrounding text still trains the model.
Phone numbers need a separator structure (e.g. +1 415-555-0123, (010) 8888-6666, 138 0013 8000)
so that years, prices and version numbers are not redacted.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}\b")
# An optional +country code, an optional (area), then 2-4 digit groups joined by space/dot/dash, 7+ digits.
PHONE = re.compile(
    r"(?<![\w.+-])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{2,4}(?:[\s.-]\d{2,4}){1,3}(?![\w-]|\.\d)"
)
CN_MOBILE = re.compile(r"(?<![\d.])1[3-9]\d{9}(?![\d.])")  # mainland mobile numbers: no separators
# Dates look like phone numbers (2024-01-15, 15.01.2024): never redact them.
DATE = re.compile(r"^(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{4})$")
IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.]|\.\d)")
# Loose on purpose: candidates are validated by `ipaddress` (times like 12:30:45 are rejected there).
IPV6 = re.compile(r"(?<![:\w])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{1,4}(?![:\w])")


@dataclass
class PiiSettings:
    email_replacement: str = "<EMAIL>"
    phone_replacement: str = "<PHONE>"
    ip_replacement: str = "<IP>"
    redact_emails: bool = True
    redact_phones: bool = True
    redact_ips: bool = True
    min_phone_digits: int = 7  # shorter digit groups are dates, prices, versions


def _valid_ip(candidate: str) -> bool:
    try:
        addr = ipaddress.ip_address(candidate)
    except ValueError:
        return False
    # Private/loopback addresses identify no one; datatrove keeps them too.
    return not (addr.is_private or addr.is_loopback or addr.is_unspecified)


def redact(text: str, s: PiiSettings) -> tuple[str, dict[str, int]]:
    """Redacted text and how many of each kind were replaced."""
    counts = {"emails": 0, "phones": 0, "ips": 0}

    def sub(kind: str, replacement: str, keep=lambda m: True):
        def f(m: re.Match) -> str:
            if not keep(m.group(0)):
                return m.group(0)
            counts[kind] += 1
            return replacement
        return f

    if s.redact_emails:
        text = EMAIL.sub(sub("emails", s.email_replacement), text)
    if s.redact_ips:  # before phones: an IPv4 address also looks like dotted digit groups
        text = IPV4.sub(sub("ips", s.ip_replacement, _valid_ip), text)
        text = IPV6.sub(sub("ips", s.ip_replacement, _valid_ip), text)
    if s.redact_phones:
        def is_phone(m: str) -> bool:
            return sum(c.isdigit() for c in m) >= s.min_phone_digits and not DATE.match(m.strip())
        text = CN_MOBILE.sub(sub("phones", s.phone_replacement), text)
        text = PHONE.sub(sub("phones", s.phone_replacement, is_phone), text)
    return text, counts
