"""User regex rules from a YAML file: each rule counts its matches into `rule_user_<name>`.

    rules:
      - name: casino_spam            # becomes column rule_user_casino_spam and drop reason user_casino_spam
        pattern: "\\b(casino|jackpot|slots?)\\b"
        ignore_case: true
        max_matches: 2               # the filter drops documents with more matches (default 0)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from pipeline.errors import UsageError
from pipeline.score.thresholds import Threshold

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class UserRule:
    name: str
    pattern: re.Pattern
    max_matches: float = 0.0

    @property
    def column(self) -> str:
        return f"rule_user_{self.name}"

    def count(self, text: str) -> float:
        return float(sum(1 for _ in self.pattern.finditer(text)))


def parse_rules(data: dict | None, where: str = "user rules") -> list[UserRule]:
    rules = []
    for i, item in enumerate((data or {}).get("rules") or []):
        name = str(item.get("name", ""))
        if not _NAME.match(name):
            raise UsageError(f"{where}: rule {i} needs a lower_snake_case name, got {name!r}")
        try:
            pattern = re.compile(str(item["pattern"]), re.IGNORECASE if item.get("ignore_case") else 0)
        except (KeyError, re.error) as e:
            raise UsageError(f"{where}: rule {name!r} has no valid pattern ({e})") from e
        rules.append(UserRule(name, pattern, float(item.get("max_matches", 0))))
    return rules


def load_rules(path: str) -> list[UserRule]:
    """Rules from a YAML file; an empty path means no user rules."""
    if not path:
        return []
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"user rules file not found: {path}")
    return parse_rules(yaml.safe_load(p.read_text()), where=str(p))


def user_metrics(text: str, rules: list[UserRule]) -> dict[str, float]:
    return {r.column: r.count(text) for r in rules}


def thresholds(rules: list[UserRule], overrides: dict[str, float] | None = None) -> list[Threshold]:
    overrides = overrides or {}
    return [Threshold(f"user_{r.name}", r.column, "max", overrides.get(r.name, r.max_matches)) for r in rules]
