"""Gopher repetition rules at their published thresholds (Rae et al. 2021, table A1)."""

import pytest

from pipeline.score.gopher import DocView
from pipeline.score.gopher_repetition import GopherRepetitionThresholds, gopher_repetition, thresholds
from pipeline.score.thresholds import failed
from tests.score.helpers import pad_to, unique_words


def metrics(text: str) -> dict:
    return gopher_repetition(DocView(text))


def fails(text: str) -> list[str]:
    return failed(metrics(text), thresholds(GopherRepetitionThresholds()))


def test_defaults_are_gophers():
    t = GopherRepetitionThresholds()
    assert (t.max_dup_line_frac, t.max_dup_para_frac, t.max_dup_line_char_frac, t.max_dup_para_char_frac) == (
        0.3, 0.3, 0.2, 0.2)
    assert (t.max_top_2gram_char_frac, t.max_top_3gram_char_frac, t.max_top_4gram_char_frac) == (0.2, 0.18, 0.16)
    assert [getattr(t, f"max_dup_{n}gram_char_frac") for n in range(5, 11)] == [0.15, 0.14, 0.13, 0.12, 0.11, 0.10]


def _lines(n_dup: int, n: int = 10) -> list[str]:
    uniq = [f"line number {w} of the text" for w in unique_words(n - n_dup)]
    return uniq + [uniq[0]] * n_dup


@pytest.mark.parametrize(("n_dup", "fail"), [(3, False), (4, True)])
def test_duplicate_line_fraction(n_dup, fail):
    assert ("gopher_rep_dup_line_frac" in fails("\n".join(_lines(n_dup)))) is fail


@pytest.mark.parametrize(("n_dup", "fail"), [(3, False), (4, True)])
def test_duplicate_paragraph_fraction(n_dup, fail):
    assert ("gopher_rep_dup_para_frac" in fails("\n\n".join(_lines(n_dup)))) is fail


@pytest.mark.parametrize(("filler", "fail"), [(58, False), (57, True)])
def test_duplicate_line_characters(filler, fail):
    dup = "d" * 20
    text = "u" * filler + "\n" + dup + "\n" + dup  # 20 duplicated chars of 100 (inside) or 99
    assert ("gopher_rep_dup_line_char_frac" in fails(text)) is fail


@pytest.mark.parametrize(("total", "fail"), [(100, False), (99, True)])
def test_top_2gram_character_fraction(total, fail):
    text = pad_to(["aa bb"] * 4, total)  # "aa bb" x4 = 20 characters
    assert metrics(text)["rule_rep_top_2gram_char_frac"] == pytest.approx(20 / total)
    assert ("gopher_rep_top_2gram" in fails(text)) is fail


@pytest.mark.parametrize(("total", "fail"), [(167, False), (166, True)])
def test_duplicate_5gram_character_fraction(total, fail):
    gram = ["alpha", "bravo", "charl", "delta", "echoo"]  # 25 characters repeated once
    text = pad_to([*gram, "zzzz", *gram], total)
    assert metrics(text)["rule_rep_dup_5gram_char_frac"] == pytest.approx(25 / total)
    assert ("gopher_rep_dup_5gram" in fails(text)) is fail


def test_chinese_repetition_is_seen_per_character():
    sentence = "我们的研究是关于大型语言模型的数据处理方法。"
    assert metrics(sentence * 4)["rule_rep_dup_10gram_char_frac"] > 0.5
    assert "gopher_rep_dup_10gram" in fails(sentence * 4)
    varied = ("天地玄黄宇宙洪荒日月盈昃辰宿列张寒来暑往秋收冬藏闰余成岁律吕调阳云腾致雨露结为霜"
              "金生丽水玉出昆冈剑号巨阙珠称夜光果珍李柰菜重芥姜海咸河淡鳞潜羽翔")
    assert fails(varied) == []


def test_top_ngram_counts_even_a_single_occurrence():
    # datatrove takes the most frequent n-gram whatever its count: in a short text one 4-gram
    # (7 characters joined by spaces) is already over 16% of 43 characters.
    short = "天地玄黄宇宙洪荒日月盈昃辰宿列张寒来暑往秋收冬藏闰余成岁律吕调阳云腾致雨露结为霜"
    assert metrics(short)["rule_rep_top_4gram_char_frac"] == pytest.approx(7 / len(short))
    assert fails(short) == ["gopher_rep_top_4gram"]


def test_empty_text_has_no_metric_and_fails_nothing():
    assert all(v is None for v in metrics("").values())
    assert fails("") == []


def _cut(chars: int, limit: float) -> int:
    """Smallest text length at which `chars` repeated characters are within `limit`."""
    total = 1
    while chars / total > limit:
        total += 1
    return total


@pytest.mark.parametrize("n", [2, 3, 4])
def test_every_top_ngram_threshold(n):
    limit = getattr(GopherRepetitionThresholds(), f"max_top_{n}gram_char_frac")
    gram = [f"q{chr(97 + i)}" for i in range(n)]  # n two-letter words
    seps = unique_words(4)
    parts = [w for k in range(4) for w in (*gram, seps[k])]
    chars = 4 * (3 * n - 1)  # four copies of "qa qb ..." (2n letters + n-1 spaces)
    inside = _cut(chars, limit)
    assert f"gopher_rep_top_{n}gram" not in fails(pad_to(parts, inside))
    assert f"gopher_rep_top_{n}gram" in fails(pad_to(parts, inside - 1))


@pytest.mark.parametrize("n", [5, 6, 7, 8, 9, 10])
def test_every_duplicate_ngram_threshold(n):
    limit = getattr(GopherRepetitionThresholds(), f"max_dup_{n}gram_char_frac")
    gram = [f"qq{chr(97 + i)}{chr(97 + i)}q" for i in range(n)]  # n five-letter words, once repeated
    inside = _cut(5 * n, limit)
    assert f"gopher_rep_dup_{n}gram" not in fails(pad_to([*gram, "zzzz", *gram], inside))
    assert f"gopher_rep_dup_{n}gram" in fails(pad_to([*gram, "zzzz", *gram], inside - 1))


@pytest.mark.parametrize(("filler", "fail"), [(56, False), (55, True)])
def test_duplicate_paragraph_characters(filler, fail):
    dup = "d" * 20
    text = "u" * filler + "\n\n" + dup + "\n\n" + dup  # 20 duplicated chars of 100 (inside) or 99
    assert ("gopher_rep_dup_para_char_frac" in fails(text)) is fail
