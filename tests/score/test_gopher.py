"""Gopher quality rules just inside and just outside each published threshold."""

import pytest

from pipeline.score.gopher import (
    CJK_STOP_WORDS,
    GOPHER_STOP_WORDS,
    DocView,
    GopherQualityThresholds,
    gopher_quality,
    thresholds,
)
from pipeline.score.thresholds import failed
from tests.score.helpers import unique_words

STOP = GOPHER_STOP_WORDS + CJK_STOP_WORDS
HAN = "天地玄黄宇宙洪荒日月盈昃辰宿列张寒来暑往秋收冬藏闰余成岁律吕调阳云腾致雨露结为霜金生丽水玉出昆冈剑号巨阙珠称夜光果珍李柰菜重芥姜海咸河淡鳞潜羽翔"


def fails(text: str, lang: str | None = "en") -> list[str]:
    return failed({**gopher_quality(DocView(text), STOP), "lang": lang}, thresholds(GopherQualityThresholds()))


def test_defaults_are_gophers():
    t = GopherQualityThresholds()
    assert (t.min_words, t.max_words, t.min_mean_word_length, t.max_mean_word_length) == (50, 100_000, 3, 10)
    assert (t.max_hash_word_ratio, t.max_ellipsis_word_ratio) == (0.1, 0.1)
    assert (t.max_bullet_lines_ratio, t.max_ellipsis_lines_ratio) == (0.9, 0.3)
    assert (t.min_alpha_words_ratio, t.min_stop_words) == (0.8, 2)


@pytest.mark.parametrize(("n", "fail"), [(50, False), (49, True)])
def test_min_words_english(n, fail):
    assert ("gopher_min_words" in fails(" ".join(unique_words(n)))) is fail


@pytest.mark.parametrize(("n", "fail"), [(50, False), (49, True)])
def test_min_words_chinese_counts_characters(n, fail):
    assert ("gopher_min_words" in fails(HAN[:n])) is fail


@pytest.mark.parametrize(("n", "fail"), [(100_000, False), (100_001, True)])
def test_max_words(n, fail):
    assert ("gopher_max_words" in fails("word " * n)) is fail


@pytest.mark.parametrize(("text", "fail"), [
    (" ".join(["cat"] * 50), False),  # mean 3.0
    (" ".join(["cat"] * 49 + ["ab"]), True),  # mean 2.98
    (" ".join(["abcdefghij"] * 50), False),  # mean 10.0
    (" ".join(["abcdefghij"] * 49 + ["abcdefghijk"]), True),  # mean 10.02
])
def test_mean_word_length(text, fail):
    assert ("gopher_min_mean_word_length" in fails(text) or "gopher_max_mean_word_length" in fails(text)) is fail


def test_mean_word_length_ignores_chinese_characters():
    assert gopher_quality(DocView(HAN), STOP)["rule_gopher_mean_word_length"] is None
    assert "gopher_min_mean_word_length" not in fails(HAN)
    mixed = HAN + " " + " ".join(["abcdefghijkl"] * 10)  # mostly Latin: its words alone are too long
    assert "gopher_max_mean_word_length" in fails(mixed)
    byline = HAN + " By Chen Wei, 2026-10-01"  # mostly CJK: a few short Latin tokens are not judged
    assert gopher_quality(DocView(byline), STOP)["rule_gopher_mean_word_length"] is None


# The ratio is over every token, the '#' tokens included (datatrove): 11/111 passes, 12/112 fails.
@pytest.mark.parametrize(("hashes", "fail"), [(11, False), (12, True)])
def test_hash_word_ratio(hashes, fail):
    text = " ".join(unique_words(100)) + " #" * hashes
    assert ("gopher_hash_word_ratio" in fails(text)) is fail


def test_ellipsis_word_ratio_counts_both_spellings_apart_from_hashes():
    text = " ".join(unique_words(100)) + " …" * 6 + " ..." * 6  # 12 of 112 tokens
    assert "gopher_ellipsis_word_ratio" in fails(text)
    mixed = " ".join(unique_words(100)) + " #" * 6 + " ..." * 6  # 6 of 112 each: the two are not summed
    assert not {"gopher_hash_word_ratio", "gopher_ellipsis_word_ratio"} & set(fails(mixed))


@pytest.mark.parametrize(("bullets", "fail"), [(9, False), (10, True)])
def test_bullet_lines(bullets, fail):
    lines = [f"• 第{i}项内容是关于数据的" for i in range(bullets)] + ["the data of the study"] * (10 - bullets)
    assert ("gopher_bullet_lines" in fails("\n".join(lines))) is fail


@pytest.mark.parametrize(("ellipses", "fail"), [(3, False), (4, True)])
def test_ellipsis_lines(ellipses, fail):
    lines = ["我们的研究还没有结束……"] * ellipses + ["the end of the line."] * (10 - ellipses)
    assert ("gopher_ellipsis_lines" in fails("\n".join(lines))) is fail


@pytest.mark.parametrize(("numbers", "fail"), [(20, False), (21, True)])
def test_alpha_words_ratio(numbers, fail):
    text = " ".join(unique_words(100 - numbers) + ["12345"] * numbers)
    assert ("gopher_alpha_words" in fails(text)) is fail


def test_chinese_characters_count_as_alphabetic():
    assert gopher_quality(DocView(HAN), STOP)["rule_gopher_alpha_words_ratio"] == 1.0


@pytest.mark.parametrize(("text", "fail"), [
    ("the cat of mine", False),
    ("the cat the mine", True),  # one distinct stop word, twice
    ("这是我的书", False),
    ("这本书", True),
    ("the 书是我的", False),  # mixed script: 'the' + '是' + '的'
])
def test_stop_words(text, fail):
    assert ("gopher_stop_words" in fails(text)) is fail


def test_stop_words_judge_only_languages_the_list_covers():
    french = "le chat de ma voisine dort"
    assert "gopher_stop_words" in fails(french, lang="en")
    assert "gopher_stop_words" not in fails(french, lang="fr")
