"""PII redaction (counted, placeholders) and user regex rules from YAML."""

import pytest

from pipeline.errors import UsageError
from pipeline.score.pii import PiiSettings, redact
from pipeline.score.thresholds import failed
from pipeline.score.user_rules import load_rules, parse_rules, thresholds, user_metrics


@pytest.mark.parametrize(("text", "expected", "counts"), [
    ("Write to jane.doe@example.org today.", "Write to <EMAIL> today.", (1, 0, 0)),
    ("Call +1 415-555-0123 or (010) 8888-6666.", "Call <PHONE> or <PHONE>.", (0, 2, 0)),
    ("手机13800138000联系我", "手机<PHONE>联系我", (0, 1, 0)),
    ("Server 8.8.8.8 and 2001:4860:4860::8888 down", "Server <IP> and <IP> down", (0, 0, 2)),
])
def test_pii_is_redacted_and_counted(text, expected, counts):
    out, n = redact(text, PiiSettings())
    assert out == expected
    assert (n["emails"], n["phones"], n["ips"]) == counts


@pytest.mark.parametrize("text", [
    "On 2024-01-15 it cost $19.99 with Python 3.11.7 in 2024.",
    "Private hosts 192.168.1.1 and 127.0.0.1 at 12:30:45.",
    "Pi is 3.14159 and 1,000,000 people came.",
])
def test_non_pii_numbers_are_kept(text):
    assert redact(text, PiiSettings()) == (text, {"emails": 0, "phones": 0, "ips": 0})


def test_pii_kinds_can_be_switched_off():
    out, n = redact("a@b.com 8.8.8.8", PiiSettings(redact_emails=False))
    assert out == "a@b.com <IP>" and n["emails"] == 0


def test_user_rules_count_matches_and_threshold(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n"
                    "  - {name: casino, pattern: '\\b(casino|slots)\\b', ignore_case: true, max_matches: 1}\n"
                    "  - {name: zh_ad, pattern: '免费领取'}\n")
    rules = load_rules(str(path))
    m = user_metrics("Casino! Best slots. 免费领取", rules)
    assert m == {"rule_user_casino": 2.0, "rule_user_zh_ad": 1.0}
    assert failed(m, thresholds(rules)) == ["user_casino", "user_zh_ad"]
    assert failed(user_metrics("one casino", rules), thresholds(rules)) == []
    assert failed(m, thresholds(rules, {"casino": 5, "zh_ad": 1})) == []


def test_user_rules_reject_bad_definitions(tmp_path):
    with pytest.raises(UsageError):
        parse_rules({"rules": [{"name": "Bad Name", "pattern": "x"}]})
    with pytest.raises(UsageError):
        parse_rules({"rules": [{"name": "ok", "pattern": "("}]})
    with pytest.raises(UsageError):
        load_rules(str(tmp_path / "missing.yaml"))
    assert load_rules("") == []
