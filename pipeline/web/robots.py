"""robots.txt rules for one host (RFC 9309), on top of the standard library's parser.

Status handling follows RFC 9309 section 2.3.1: 4xx means "no rules" (crawl everything),
5xx or an unreachable server means "assume complete disallow" until it can be read.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.robotparser import RobotFileParser


@dataclass
class RobotsRules:
    parser: RobotFileParser | None  # None: every path allowed or every path refused
    allow_all: bool = False
    user_agent: str = "*"
    fractional_delay: float | None = None  # the stdlib parser only reads whole-second delays

    @classmethod
    def from_response(cls, status: int | None, body: bytes, user_agent: str) -> RobotsRules:
        if status is None or status >= 500:
            return cls(parser=None, allow_all=False, user_agent=user_agent)
        if status >= 400:
            return cls(parser=None, allow_all=True, user_agent=user_agent)
        parser = RobotFileParser()
        # RFC 9309 2.5: parse at least 500 KiB; ignore the rest.
        lines = body[:512 * 1024].decode("utf-8", errors="replace").splitlines()
        parser.parse(lines)
        return cls(parser=parser, user_agent=user_agent, fractional_delay=_fractional_delay(lines, user_agent))

    def can_fetch(self, url: str) -> bool:
        if self.parser is None:
            return self.allow_all
        return self.parser.can_fetch(self.user_agent, url)

    def crawl_delay(self) -> float | None:
        """The site's Crawl-delay for our agent (a de-facto extension, not in RFC 9309)."""
        if self.parser is None:
            return None
        delay = self.parser.crawl_delay(self.user_agent)
        return float(delay) if delay is not None else self.fractional_delay


def _fractional_delay(lines: list[str], user_agent: str) -> float | None:
    """Crawl-delay like `0.5` for our agent's group, else for `*`."""
    agent = user_agent.split("/")[0].lower()
    delays: dict[str, float] = {}
    group: list[str] = []
    in_agents = False
    for line in lines:
        key, _, value = line.split("#")[0].partition(":")
        key, value = key.strip().lower(), value.strip()
        if key == "user-agent":
            group = (group if in_agents else []) + [value.lower()]
            in_agents = True
            continue
        in_agents = False
        if key == "crawl-delay":
            try:
                for name in group:
                    delays.setdefault(name, float(value))
            except ValueError:
                continue
    for name, delay in delays.items():
        if name != "*" and name in agent:
            return delay
    return delays.get("*")
