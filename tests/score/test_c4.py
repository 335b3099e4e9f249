"""C4 line rules (a text modifier) and document rules, including Chinese lines."""

import pytest

from pipeline.score.c4 import C4LineSettings, C4Thresholds, c4_lines, c4_metrics, thresholds
from pipeline.score.english_tokens import sentence_count
from pipeline.score.thresholds import failed

S = C4LineSettings()


def kept(text: str) -> list[str]:
    out = c4_lines(text, S).text
    return out.split("\n") if out else []


def fails(text: str) -> list[str]:
    return failed(c4_metrics(c4_lines(text, S)), thresholds(C4Thresholds()))


def test_defaults_are_c4s():
    assert (S.min_words_per_line, S.max_word_length, S.require_terminal_punctuation) == (3, 1000, True)
    assert C4Thresholds().min_sentences == 5


@pytest.mark.parametrize(("line", "keep"), [
    ("This line ends well.", True),
    ("This line does not end well", False),
    ("Is this a question?", True),
    ("It trails off...", False),
    ("这是一个完整的句子。", True),
    ("这是一个没有句号的句子", False),
])
def test_terminal_punctuation(line, keep):
    assert (kept(line) == [line]) is keep


@pytest.mark.parametrize(("line", "keep"), [
    ("Three words here.", True),
    ("Two words.", False),
    ("你好吗。", True),  # three characters = three words
    ("你好。", False),
])
def test_at_least_three_words(line, keep):
    assert (kept(line) == [line]) is keep


@pytest.mark.parametrize(("n", "keep"), [(1000, True), (1001, False)])
def test_max_word_length(n, keep):
    line = "A word " + "x" * n + " here."
    assert (kept(line) == [line]) is keep


@pytest.mark.parametrize("line", [
    "Please enable JavaScript to view this page.",
    "This site uses cookies to improve your experience.",
    "Read our Privacy Policy before you continue.",
    "By using the site you accept the Terms of Use.",
])
def test_javascript_and_policy_lines_removed(line):
    assert kept(line) == []


def test_citations_stripped():
    assert kept("The sky is blue.[1] Water is wet.[citation needed]") == ["The sky is blue. Water is wet."]


def test_lorem_ipsum_and_curly_brace_flag_the_document():
    base = "One sentence here. Two sentences here. Three now. Four now. Five now."
    assert fails(base) == []
    assert "c4_lorem_ipsum" in fails(base + "\nLorem ipsum dolor sit amet.")
    assert "c4_curly_brace" in fails(base + "\nfunction f() { return 1; }.")


@pytest.mark.parametrize(("n", "fail"), [(5, False), (4, True)])
def test_min_sentences_english_and_chinese(n, fail):
    english = " ".join(["This is a sentence."] * n)
    chinese = "这是一个句子。" * n
    assert ("c4_min_sentences" in fails(english)) is fail
    assert ("c4_min_sentences" in fails(chinese)) is fail
    # the reference drops the line (no C4 end mark, one whitespace word); its sentencizer would
    # have seen one sentence, spaCy-English keeping the Chinese run whole
    assert c4_lines(chinese, S, cjk_per_character=False).text == ""
    assert sentence_count(chinese) == 1


def test_sentence_count_is_spacys_sentencizer():
    # spaCy keeps "第一句。Second" as one token, so the reference sees 2 sentences (checked with
    # spacy 3.8 blank "en" + sentencizer); CJK per character finds all 4.
    assert sentence_count("第一句。Second one! 第三句？And a tail") == 2
    assert sentence_count("第一句。Second one! 第三句？And a tail", split_cjk=True) == 4
    assert sentence_count("Version 3.5 is out.") == 1
    # "Dr." is one token and "..." is not a sentence terminal (not a single character): 3
    assert sentence_count("Dr. Smith arrived. He sat down... Then?! Nothing.") == 3


def test_line_removal_can_be_switched_off_but_still_counts():
    text = "menu\nThis is a good line of text."
    result = c4_lines(text, C4LineSettings(remove_lines=False))
    assert result.text == text and result.lines_removed == 1
    assert c4_lines(text, S).text == "This is a good line of text."
