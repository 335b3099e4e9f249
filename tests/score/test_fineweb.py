"""FineWeb quality rules at datatrove's defaults, English and Chinese."""

import pytest

from pipeline.score.fineweb import FineWebSettings, FineWebThresholds, fineweb_quality, thresholds
from pipeline.score.gopher import DocView
from pipeline.score.thresholds import failed
from tests.score.helpers import unique_words


def fails(text: str) -> list[str]:
    return failed(fineweb_quality(DocView(text), FineWebSettings()), thresholds(FineWebThresholds()))


def test_defaults_are_finewebs():
    t = FineWebThresholds()
    assert (t.min_line_punct_ratio, t.max_short_line_ratio, t.max_dup_line_char_ratio,
            t.max_newlines_per_word) == (0.12, 0.67, 0.01, 0.3)
    assert FineWebSettings().short_line_length == 30


@pytest.mark.parametrize(("ended", "fail"), [(3, False), (2, True)])
def test_line_punctuation_ratio(ended, fail):
    words = iter(unique_words(200))
    lines = [f"{next(words)} {next(words)} 的研究结果。" for _ in range(ended)]
    lines += [f"{next(words)} {next(words)} {next(words)} heading" for _ in range(25 - ended)]
    assert ("fineweb_line_punct_ratio" in fails("\n".join(lines))) is fail


@pytest.mark.parametrize(("short", "fail"), [(67, False), (68, True)])
def test_short_line_ratio(short, fail):
    words = iter(unique_words(1000))
    long_line = lambda: " ".join(next(words) for _ in range(8)) + "."  # noqa: E731  (39 characters)
    lines = [f"短行{next(words)}。" for _ in range(short)] + [long_line() for _ in range(100 - short)]
    assert ("fineweb_short_line_ratio" in fails("\n".join(lines))) is fail


@pytest.mark.parametrize(("unique_len", "fail"), [(980, False), (979, True)])
def test_duplicated_line_characters(unique_len, fail):
    text = "u" * unique_len + "\n" + "abcdefghij" + "\n" + "abcdefghij"  # 10 of 1000 (or 999) chars
    assert ("fineweb_dup_line_chars" in fails(text)) is fail


@pytest.mark.parametrize(("newlines", "fail"), [(3, False), (4, True)])
def test_newlines_per_word_chinese(newlines, fail):
    chars = list("天地玄黄宇宙洪荒日月")  # ten words
    text = "".join(chars[:-newlines]) + "\n" + "\n".join(chars[-newlines:])
    assert text.count("\n") == newlines
    assert ("fineweb_newlines_per_word" in fails(text)) is fail
