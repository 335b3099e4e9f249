"""Extraction keeps the article and drops boilerplate on the sample; language ids are right."""

from __future__ import annotations

import time

import pytest

from pipeline.sample.web import build_pages
from pipeline.sample.web.banks_intl import EURO, ZH_CHROME
from pipeline.sample.web.pages import AD_EN, COOKIE_EN, NEWSLETTER_EN, en_footer
from pipeline.web.extraction import extract_page
from pipeline.web.langid import identify


@pytest.fixture(scope="module")
def sample():
    pages = build_pages()
    picked = ([p for p in pages if p.kind == "article" and p.lang == "en"][:14]
              + [p for p in pages if p.lang == "zh"][:6] + [p for p in pages if p.lang in EURO])
    return [(p, extract_page(p.html, "https://sample-media.example" + p.path)) for p in picked]


def test_article_text_kept_and_boilerplate_dropped(sample):
    for page, got in sample:
        assert got.extractor == "trafilatura", page.path
        first = page.paragraphs[0].split("。")[0].split(". ")[0]
        last = page.paragraphs[-1][-60:]
        assert first in got.text and last in got.text, page.path
        assert got.title == page.title
        chrome = [COOKIE_EN, AD_EN, NEWSLETTER_EN, en_footer(page.topic), "Subscribe", ZH_CHROME["cookie"],
                  ZH_CHROME["footer"]]
        if page.lang in EURO:
            chrome += [EURO[page.lang]["cookie"], EURO[page.lang]["footer"]]
        for boiler in chrome:
            assert boiler not in got.text, (page.path, boiler)


def test_metadata_comes_with_the_text(sample):
    page, got = sample[0]
    assert got.metadata["date"] == "2026-10-01"
    assert got.metadata["author"] and got.metadata["author"] in page.html


def test_language_ids_match_the_sample_languages(sample):
    langs = identify([got.text for _, got in sample])
    for (page, _), (lang, score) in zip(sample, langs, strict=True):
        assert lang == page.lang, page.path
        assert 0.5 < score <= 1.0
    assert identify(["", None]) == [(None, None), (None, None)]


def test_fallback_when_trafilatura_returns_nothing(monkeypatch):
    import trafilatura

    monkeypatch.setattr(trafilatura, "bare_extraction", lambda *a, **k: None)
    got = extract_page("<html><body><p>Only the baseline sees this paragraph.</p></body></html>", None)
    assert got.extractor == "baseline" and "baseline sees" in got.text
    assert extract_page("<html><body></body></html>", None, fallback=False).reject_reason == "no_text"
    assert extract_page("   ", None).reject_reason == "empty_html"


def test_slow_page_hits_the_time_limit(monkeypatch):
    import trafilatura

    monkeypatch.setattr(trafilatura, "bare_extraction", lambda *a, **k: time.sleep(5))
    assert extract_page("<html><body><p>x</p></body></html>", None, time_limit_s=0.2).reject_reason == \
        "extraction_timeout"
