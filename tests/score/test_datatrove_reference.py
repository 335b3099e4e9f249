"""Our rule statistics equal datatrove's on committed documents (values computed once by datatrove).

fixtures/datatrove_reference.json holds 42 short documents (8 Debian copyright files, 10 pydoc
text snippets of the standard library, 24 adversarial texts: punctuation, bullets, ellipses, lorem
ipsum, braces, javascript, numbers, contractions, abbreviations, URLs, emoticons, CJK, ...) with
the statistics and filter() decisions datatrove 0.10.1 (spaCy 3.8 blank English) computed for
them. Its "note" says how; to regenerate, extract {id, text} per line to DOCS.jsonl and run
`benchmarks/filters.py --write-fixture ... --documents DOCS.jsonl` with a datatrove venv.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from pipeline.filter.rules import FilterConfig, _thresholds
from pipeline.score.document import ScoreSettings, score_text
from pipeline.score.english_tokens import english_words

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "datatrove_reference.json").read_text(encoding="utf-8"))
DOCS = FIXTURE["documents"]
RULE_SETS = ["gopher_repetition", "gopher", "c4", "fineweb"]


def _value(v: float | None) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else v


def _decisions(metrics: dict) -> dict[str, bool]:
    cfg = FilterConfig()
    return {name: not any(t.applies("en") and t.fails(metrics.get(t.column)) for t in _thresholds(name, cfg, []))
            for name in RULE_SETS}


def test_fixture_is_varied():
    assert len(DOCS) >= 40
    kinds = {d["id"].split(":")[0] for d in DOCS}
    assert kinds == {"debian", "pydoc", "adversarial"}
    # both outcomes of every filter occur, so the decision check below can fail either way
    for name in RULE_SETS:
        assert {d["decisions"][name] for d in DOCS} == {True, False}, name


@pytest.mark.parametrize("doc", DOCS, ids=[d["id"] for d in DOCS])
def test_statistics_and_decisions_match_datatrove(doc):
    _, ours = score_text(doc["text"], ScoreSettings(cjk_per_character=False), [])
    for column, expected in doc["stats"].items():
        got, want = _value(ours[column]), _value(expected)
        if want is None:
            assert got is None, column
        else:
            assert got == pytest.approx(want, abs=1e-6), column
    assert _decisions(ours) == doc["decisions"]


def test_default_differs_only_on_cjk_text():
    for doc in DOCS:
        _, ref = score_text(doc["text"], ScoreSettings(cjk_per_character=False), [])
        _, default = score_text(doc["text"], ScoreSettings(), [])
        same = all(_value(ref[c]) == _value(default[c]) for c in doc["stats"])
        assert same is (doc["id"] != "adversarial:cjk_mixed"), doc["id"]


@pytest.mark.parametrize(("text", "tokens"), [
    ("It's done. Don't stop!", ["It", "'s", "done", ".", "Do", "n't", "stop", "!"]),
    ("Dr. Smith (e.g. here) costs $5.", ["Dr.", "Smith", "(", "e.g.", "here", ")", "costs", "$", "5", "."]),
    ("f(x): see https://example.com/a.", ["f(x", "):", "see", "https://example.com/a", "."]),
    ("state-of-the-art 10km", ["state", "-", "of", "-", "the", "-", "art", "10", "km"]),
])
def test_english_words_split_like_spacy(text, tokens):
    assert english_words(text) == tokens
