"""Gutenberg cleaning: boilerplate, front matter, chapters, wrapping, encodings."""

from pipeline.books.gutenberg import chapter_starts, clean_book, decode_book, paragraphs_of, strip_boilerplate
from pipeline.sample.books.build import plain_text_book


def test_boilerplate_gone_and_first_chapter_starts_the_text():
    book = clean_book(plain_text_book())
    assert book.text.startswith("CHAPTER I. The Keeper\n\nMara had kept the light")
    for gone in ("Project Gutenberg", "START OF", "END OF", "Produced by", "FULL LICENSE", "CONTENTS",
                 "Release date", "\ufeff"):
        assert gone not in book.text, gone
    assert book.text.rstrip().endswith("which she had never done before.")
    assert book.boilerplate_removed and book.front_matter_chars > 0


def test_chapters_found_and_table_of_contents_is_not_a_chapter():
    book = clean_book(plain_text_book())
    assert book.chapters == ["CHAPTER I. The Keeper", "CHAPTER II. The Ledger", "CHAPTER III. Morning"]
    toc_lines = "Chapter I\n\nChapter II\n\nChapter III\n\nChapter I\n\nIt began.\n\nChapter II\n\nIt went on."
    paragraphs = paragraphs_of(toc_lines)
    assert [paragraphs[i] for i in chapter_starts(paragraphs)] == ["Chapter I", "Chapter II"]
    assert chapter_starts(paragraphs) == [3, 5]


def test_wrapping_is_normalised_but_verse_keeps_lines():
    text = clean_book(plain_text_book()).text
    assert "and in all that time the lamp had never once gone dark." in text  # was wrapped at 70 chars
    assert "    Light on the water,\n    ledger on the shelf," in text


def test_header_fields_and_older_marker_styles():
    book = clean_book(plain_text_book())
    assert book.header["title"] == "The Lighthouse Ledger" and book.header["author"] == "Ada Sample"
    old = ("Legal small print here.\n*END*THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS*Ver.04.29.93*END*\n\n"
           "Chapter 1\n\nOnce upon a time.\n\nEnd of the Project Gutenberg EBook of Old Tale\n\nlicence text")
    body, header, found = strip_boilerplate(old)
    assert found and body == "Chapter 1\n\nOnce upon a time." and "small print" in header


def test_text_without_markers_is_kept_whole():
    book = clean_book("Chapter 1\n\nJust a story,\nwrapped.\n")
    assert book.text == "Chapter 1\n\nJust a story, wrapped." and not book.boilerplate_removed


def test_declared_latin1_encoding_is_used():
    raw = "Character set encoding: ISO-8859-1\n\nCaf\u00e9 na\u00efve".encode("latin-1")
    assert decode_book(raw).endswith("Caf\u00e9 na\u00efve")
    assert decode_book("caf\u00e9".encode()) == "caf\u00e9"
