"""The sample site's pages: deterministic from a seed, prose from the sentence banks.

Every page is wrapped in realistic boilerplate (cookie banner, header navigation, related
links, an ad, a footer) around its main article, so extraction can be tested on what it must
keep and what it must drop. The mix (per `build_pages`): topical English articles, ~15% Chinese,
a few French/German/Spanish pages, near-duplicates, exact duplicates under other URLs, spam,
very short pages, menu-only pages, lorem ipsum, robots-disallowed pages.
"""

from __future__ import annotations

import html as html_lib
import random
import string
from dataclasses import dataclass, field

from pipeline.sample.web import banks_en as en
from pipeline.sample.web import banks_intl as intl

COOKIE_EN = ("We use cookies to personalise content and ads and to analyse our traffic. "
             "By clicking Accept all you agree to the storing of cookies on your device.")
AD_EN = "Advertisement: upgrade your home office with thirty percent off ergonomic chairs this week only."
NEWSLETTER_EN = "Sign up for our weekly newsletter and never miss a story from our reporters."
NAV_EN = [("Home", "/"), *[(t.capitalize(), f"/{t}/") for t in en.TOPICS], ("Subscribe", "/subscribe.html")]
AUTHORS = ["Maria Lopez", "James Okafor", "Chen Wei", "Anna Schmidt", "Priya Raman", "Tom Becker",
           "Sofia Rossi", "David Kim", "Lea Martin", "Omar Haddad"]


@dataclass
class Page:
    path: str
    kind: str  # article | near_duplicate | exact_duplicate | spam | short | menu | lorem | index | private
    lang: str
    topic: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    html: str = ""
    charset: str = "utf-8"  # the bytes' encoding; `body()` encodes with it
    links: list[str] = field(default_factory=list)
    duplicate_of: str | None = None

    def body(self) -> bytes:
        return self.html.encode(self.charset)


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def _fill(rng: random.Random, template: str, slots: dict[str, list[str]]) -> str:
    values = {k: rng.choice(v) for k, v in slots.items()}
    values.update({_cap(k): _cap(v) for k, v in values.items()})
    return template.format(**values)


class _Deck:
    """Slot values drawn without replacement within one article (reshuffled only when exhausted),
    so no subject, finding or method phrase recurs until every alternative has been used."""

    def __init__(self, rng: random.Random, slots: dict[str, list[str]]):
        self.rng, self.slots, self.left = rng, slots, {}

    def draw(self, name: str) -> str:
        if not self.left.get(name):
            values = list(self.slots[name])
            self.rng.shuffle(values)
            self.left[name] = values
        return self.left[name].pop()

    def fill(self, template: str) -> str:
        names = sorted({f for _, f, _, _ in string.Formatter().parse(template) if f})
        values: dict[str, str] = {}
        for name in names:
            base = name.lower()
            if base not in values:
                values[base] = self.draw(base)
        return template.format(**{n: _cap(values[n.lower()]) if n[0].isupper() else values[n.lower()]
                                  for n in names})


def _article(rng: random.Random, templates: list[str], slots: dict[str, list[str]], n_sentences: int,
             per_para: tuple[int, int], joiner: str) -> list[str]:
    """Paragraphs from `n_sentences` distinct templates (never one frame twice in an article)."""
    deck = _Deck(rng, slots)
    sentences = [deck.fill(t) for t in rng.sample(templates, min(n_sentences, len(templates)))]
    paras = []
    while sentences:
        k = rng.randint(*per_para)
        if len(sentences) - k == 1:  # no one-sentence tail paragraph
            k += 1
        paras.append(joiner.join(sentences[:k]))
        sentences = sentences[k:]
    return paras


def en_paragraphs(rng: random.Random, topic: str, n: int) -> list[str]:
    """About n paragraphs (3-4 sentences each) of one English article."""
    return _article(rng, en.TEMPLATES, en.SLOTS[topic], n * rng.randint(3, 4), (3, 4), " ")


def zh_paragraphs(rng: random.Random, topic: str, n: int) -> list[str]:
    return _article(rng, intl.ZH_TEMPLATES, intl.ZH_SLOTS[topic], n * rng.randint(2, 3), (2, 4), "")


def render(page: Page, site: str, nav: list[tuple[str, str]], cookie: str, footer: str,
           related: list[tuple[str, str]], extra_chrome: bool = True, date: str = "2026-10-01") -> str:
    e = html_lib.escape
    author = AUTHORS[sum(map(ord, page.path)) % len(AUTHORS)]
    nav_html = "".join(f'<li><a href="{e(href)}">{e(label)}</a></li>' for label, href in nav)
    rel_html = "".join(f'<li><a href="{e(href)}">{e(label)}</a></li>' for label, href in related)
    body = "".join(f"<p>{e(p)}</p>\n" for p in page.paragraphs)
    description = e(page.paragraphs[0][:150]) if page.paragraphs else ""
    chrome = (f'<aside class="related"><h2>Related</h2><ul>{rel_html}</ul></aside>\n'
              f'<div class="ad-slot">{e(AD_EN)}</div>\n') if extra_chrome else ""
    charset = {"utf-8": "utf-8", "gb18030": "gbk", "cp1252": "windows-1252"}.get(page.charset, page.charset)
    return (
        f'<!DOCTYPE html>\n<html lang="{page.lang}">\n<head>\n<meta charset="{charset}">\n'
        f"<title>{e(page.title)} | {e(site)}</title>\n"
        f'<meta name="description" content="{description}">\n<meta name="author" content="{e(author)}">\n'
        f'<meta property="article:published_time" content="{date}">\n</head>\n<body>\n'
        f'<div id="cookie-banner" class="cookie-consent"><p>{e(cookie)}</p><button>OK</button></div>\n'
        f'<header class="site-header"><a class="logo" href="/">{e(site)}</a>\n'
        f'<nav class="main-nav"><ul>{nav_html}</ul></nav></header>\n'
        f'<main>\n<article>\n<h1>{e(page.title)}</h1>\n'
        f'<p class="byline">By {e(author)}, {date}</p>\n{body}</article>\n{chrome}</main>\n'
        f'<footer class="site-footer"><p>{e(footer)}</p><p>{e(NEWSLETTER_EN)}</p></footer>\n'
        f"</body>\n</html>\n")


def en_footer(topic: str) -> str:
    return f"© 2026 {en.SITE_NAMES.get(topic, 'Sample Media Group')}. All rights reserved. Privacy policy | Terms of use"


def build_pages(seed: int = 20261127, n_en: int = 130, n_zh: int = 30) -> list[Page]:
    rng = random.Random(seed)
    pages: list[Page] = []
    by_topic: dict[str, list[Page]] = {t: [] for t in en.TOPICS}
    for i in range(n_en):
        topic = en.TOPICS[i % len(en.TOPICS)]
        slots = en.SLOTS[topic]
        title = _cap(_fill(rng, rng.choice(en.TITLES), slots))
        page = Page(f"/{topic}/article-{i:03d}.html", "article", "en", topic, title,
                    en_paragraphs(rng, topic, rng.randint(3, 5)))
        pages.append(page)
        by_topic[topic].append(page)
    for i in range(n_zh):
        topic = en.TOPICS[i % len(en.TOPICS)]
        slots = intl.ZH_SLOTS[topic]
        title = _fill(rng, rng.choice(intl.ZH_TITLES), slots)
        # One page in GBK (declared in <meta>) so charset handling is exercised.
        pages.append(Page(f"/zh/{topic}-{i:03d}.html", "article", "zh", topic, title,
                          zh_paragraphs(rng, topic, rng.randint(3, 6)), charset="gb18030" if i == 0 else "utf-8"))
    for lang, bank in intl.EURO.items():
        for i, title in enumerate(bank["title"]):
            sents = list(bank["sentences"])
            rng.shuffle(sents)
            paras = [" ".join(sents[j:j + 3]) for j in range(0, len(sents), 3)]
            pages.append(Page(f"/{lang}/page-{i}.html", "article", lang, "news", title, paras,
                              charset="cp1252" if (lang == "fr" and i == 0) else "utf-8"))
    articles = [p for p in pages if p.kind == "article" and p.lang == "en"]
    for i, src in enumerate(rng.sample(articles, 8)):  # near-duplicates: same story, small edits
        paras = list(src.paragraphs)
        k = rng.randrange(len(paras))
        paras[k] = paras[k] + " " + _fill(rng, rng.choice(en.TEMPLATES), en.SLOTS[src.topic])
        pages.append(Page(f"/{src.topic}/updated-{i:02d}.html", "near_duplicate", "en", src.topic,
                          src.title + " (updated)", paras, duplicate_of=src.path))
    for i, src in enumerate(rng.sample(articles, 5)):  # exact duplicates: identical page, other URL
        pages.append(Page(f"/amp/{src.topic}-{i:02d}.html", "exact_duplicate", "en", src.topic, src.title,
                          list(src.paragraphs), duplicate_of=src.path))
    for i in range(8):
        kws = rng.sample(intl.SPAM_KEYWORDS, 4)
        stuffed = " ".join(rng.choice(kws) for _ in range(60))
        paras = [f"{_cap(kws[0])} {kws[1]} {kws[2]}!!! {stuffed}", f"Click here for {kws[0]} {kws[3]} {stuffed}"]
        pages.append(Page(f"/deals/offer-{i}.html", "spam", "en", "spam", f"{_cap(kws[0])} {kws[1]} BEST DEAL", paras))
    for i in range(5):
        topic = rng.choice(en.TOPICS)
        pages.append(Page(f"/{topic}/brief-{i}.html", "short", "en", topic, "In brief",
                          [_fill(rng, rng.choice(en.TEMPLATES), en.SLOTS[topic])]))
    for i in range(5):
        pages.append(Page(f"/sitemap-{i}.html", "menu", "en", "menu", f"Site map part {i + 1}", []))
    for i in range(3):
        pages.append(Page(f"/drafts/lorem-{i}.html", "lorem", "la", "lorem", "Lorem ipsum", [intl.LOREM] * (i + 2)))
    for i in range(3):
        topic = en.TOPICS[i]
        pages.append(Page(f"/private/internal-{i}.html", "private", "en", topic, "Internal memo",
                          en_paragraphs(rng, topic, 2)))
    _render_all(rng, pages, by_topic)
    return pages


def _render_all(rng: random.Random, pages: list[Page], by_topic: dict[str, list[Page]]) -> None:
    originals = {p.path: p for p in pages}
    for p in pages:
        if p.kind == "exact_duplicate":
            continue
        if p.lang == "zh":
            nav = [(label, "/") for label in intl.ZH_CHROME["nav"]]
            p.html = render(p, intl.ZH_SITE, nav, intl.ZH_CHROME["cookie"], intl.ZH_CHROME["footer"], [])
        elif p.lang in intl.EURO:
            b = intl.EURO[p.lang]
            nav = [(label, "/") for label in b["nav"]]
            p.html = render(p, b["site"], nav, b["cookie"], b["footer"], [])
        elif p.kind == "menu":
            sample = rng.sample([q for q in pages if q.kind == "article" and q.lang == "en"], 25)
            p.paragraphs = []
            p.html = render(p, "Sample Media Group", NAV_EN + [(q.title, q.path) for q in sample],
                            COOKIE_EN, en_footer("menu"), [], extra_chrome=False)
        else:
            peers = by_topic.get(p.topic) or by_topic["news"]
            related = [(q.title, q.path) for q in rng.sample(peers, min(3, len(peers))) if q.path != p.path]
            if p.kind == "article" and p.path.endswith("article-000.html"):
                related.append(("Quarterly data (CSV)", "/files/report.csv"))
            site = en.SITE_NAMES.get(p.topic, "Sample Media Group")
            p.html = render(p, site, NAV_EN, COOKIE_EN, en_footer(p.topic), related)
        p.links = [href for href in _hrefs(p.html)]
    for p in pages:
        if p.kind == "exact_duplicate":
            p.html, p.links = originals[p.duplicate_of].html, originals[p.duplicate_of].links


def _hrefs(html: str) -> list[str]:
    import re

    return re.findall(r'href="([^"]+)"', html)
