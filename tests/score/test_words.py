from pipeline.score.words import cjk_fraction, is_punctuation_token, tokens, words


def test_chinese_is_one_word_per_character_not_one_word():
    assert words("我们的研究是关于语言模型") == list("我们的研究是关于语言模型")


def test_mixed_script_keeps_latin_words_whole():
    assert words("我爱Python编程, and NumPy 2.0!") == ["我", "爱", "Python", "编", "程", "and", "NumPy", "2.0!"]


def test_chinese_punctuation_is_a_token_but_not_a_word():
    assert tokens("你好。再见！") == ["你", "好", "。", "再", "见", "！"]
    assert words("你好。再见！") == ["你", "好", "再", "见"]


def test_japanese_kana_split_and_korean_kept_by_spaces():
    assert words("これはペン") == list("これはペン")
    assert words("안녕하세요 세계") == ["안녕하세요", "세계"]


def test_punctuation_tokens():
    assert is_punctuation_token("#") and is_punctuation_token("...") and is_punctuation_token("—")
    assert not is_punctuation_token("a.")
    assert words("- * # hello") == ["hello"]


def test_cjk_fraction():
    assert cjk_fraction("") == 0.0
    assert cjk_fraction("ab 中文") == 0.5
