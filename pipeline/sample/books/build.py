"""Build the books demo sample: a Gutenberg-style mirror with a plain-text book, an EPUB and RDF records.

Both stories were written for this project (licence: CC0-1.0); the header, footer and RDF only
imitate Project Gutenberg's layout, and the ebook numbers (90001, 90002) are fictional. Run
`python -m pipeline.sample.books.build` to rewrite `mirror/` next to this file.
"""

from __future__ import annotations

import io
import sys
import textwrap
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

HEADER = """\ufeffThe Project Gutenberg eBook of {title}

This ebook is for the use of anyone anywhere in the United States and
most other parts of the world at no cost and with almost no restrictions
whatsoever. You may copy it, give it away or re-use it under the terms
of the Project Gutenberg License included with this ebook.

Title: {title}

Author: {author}

Release date: January 1, 2026 [eBook #{number}]

Language: English

Character set encoding: UTF-8

*** START OF THE PROJECT GUTENBERG EBOOK {upper} ***

Produced by the Pipeline Sample Volunteers.

"""

FOOTER = """

*** END OF THE PROJECT GUTENBERG EBOOK {upper} ***

Updated editions will replace the previous one--the old editions will
be renamed.

START: FULL LICENSE

THE FULL PROJECT GUTENBERG LICENSE
PLEASE READ THIS BEFORE YOU DISTRIBUTE OR USE THIS WORK
"""

LIGHTHOUSE_CHAPTERS = [
    ("CHAPTER I.\nThe Keeper", [
        "Mara had kept the light on Gull Rock for eleven winters, and in all that time the lamp had "
        "never once gone dark. She trimmed the wick at dusk, wound the clockwork at midnight, and "
        "wrote the weather in a ledger whose pages had gone soft as cloth.",
        "On the first night of the twelfth winter a boat came in without lights, and the man at its "
        "oars asked her, very politely, whether the lamp might be put out for an hour.",
    ]),
    ("CHAPTER II.\nThe Ledger", [
        "She did not put out the lamp. Instead she showed him the ledger, and the column where every "
        "ship that had passed the rock was written down by name, and the column beside it, which was "
        "empty, where the wrecks would have been.",
        "    Light on the water,\n    ledger on the shelf,\n    the rock keeps no one\n    but the keeper herself.",
    ]),
    ("CHAPTER III.\nMorning", [
        "By morning the boat was gone. Mara wrote one line in the ledger, under the weather: a small "
        "boat, no lights, turned back. Then she slept until noon, which she had never done before.",
    ]),
]

CONTENTS = "CONTENTS\n\n CHAPTER I.     The Keeper\n\n CHAPTER II.    The Ledger\n\n CHAPTER III.   Morning"

CLOCK_CHAPTERS = [
    ("Chapter 1", ["The clockmaker's daughter could hear a clock lose a second from across the street. "
                   "She had been hired by the town to find out why every clock in it ran slow."]),
    ("Chapter 2", ["It was the bell tower, of course: its great pendulum had been swinging a hair too long "
                   "for a hundred years, and every clock in town had been set by it."]),
]


def wrap(paragraph: str) -> str:
    if paragraph.startswith("    "):
        return paragraph  # verse keeps its lines
    return textwrap.fill(paragraph, width=70)


def plain_text_book() -> str:
    title, author, number = "The Lighthouse Ledger", "Ada Sample", 90001
    parts = [f"{title.upper()}\n\nby {author}", CONTENTS]
    for heading, paragraphs in LIGHTHOUSE_CHAPTERS:
        parts.append(heading)
        parts += [wrap(p) for p in paragraphs]
    upper = title.upper()
    return (HEADER.format(title=title, author=author, number=number, upper=upper) + "\n\n".join(parts)
            + FOOTER.format(upper=upper))


def rdf_record(number: int, title: str, author: str, language: str = "en") -> str:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:pgterms="http://www.gutenberg.org/2009/pgterms/"
         xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcam="http://purl.org/dc/dcam/">
  <pgterms:ebook rdf:about="ebooks/{number}">
    <dcterms:title>{title}</dcterms:title>
    <dcterms:creator>
      <pgterms:agent rdf:about="2009/agents/{number}">
        <pgterms:name>{author}</pgterms:name>
      </pgterms:agent>
    </dcterms:creator>
    <dcterms:language>
      <rdf:Description rdf:nodeID="lang{number}">
        <rdf:value rdf:datatype="http://purl.org/dc/terms/RFC4646">{language}</rdf:value>
      </rdf:Description>
    </dcterms:language>
    <dcterms:rights>Public domain in the USA.</dcterms:rights>
    <dcterms:subject>
      <rdf:Description rdf:nodeID="subj{number}">
        <dcam:memberOf rdf:resource="http://purl.org/dc/terms/LCSH"/>
        <rdf:value>Short stories</rdf:value>
      </rdf:Description>
    </dcterms:subject>
    <dcterms:issued rdf:datatype="http://www.w3.org/2001/XMLSchema#date">2026-01-01</dcterms:issued>
  </pgterms:ebook>
</rdf:RDF>
"""


def _zip_entry(zf: zipfile.ZipFile, name: str, data: str, stored: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    zf.writestr(info, data)


def epub_book() -> bytes:
    """A minimal EPUB 3: container, OPF with Dublin Core metadata and spine, one XHTML per chapter."""
    buf = io.BytesIO()
    items, spine = [], []
    with zipfile.ZipFile(buf, "w") as zf:
        _zip_entry(zf, "mimetype", "application/epub+zip", stored=True)
        _zip_entry(zf, "META-INF/container.xml", """<?xml version="1.0"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles>
</container>""")
        pages = [("pg-header", "<p>The Project Gutenberg eBook of The Slow Clocks</p>"
                  "<p>*** START OF THE PROJECT GUTENBERG EBOOK THE SLOW CLOCKS ***</p>")]
        for i, (heading, paragraphs) in enumerate(CLOCK_CHAPTERS, start=1):
            body = "".join(f"<p>{p}</p>" for p in paragraphs)
            pages.append((f"chapter{i}", f"<h2>{heading}</h2>{body}"))
        pages.append(("pg-footer", "<p>*** END OF THE PROJECT GUTENBERG EBOOK THE SLOW CLOCKS ***</p>"
                      "<p>THE FULL PROJECT GUTENBERG LICENSE</p>"))
        for ident, html in pages:
            _zip_entry(zf, f"OEBPS/{ident}.xhtml", f'<?xml version="1.0" encoding="utf-8"?>\n<html '
                       f'xmlns="http://www.w3.org/1999/xhtml"><head><title>x</title></head><body>{html}'
                       f"</body></html>")
            items.append(f'<item id="{ident}" href="{ident}.xhtml" media-type="application/xhtml+xml"/>')
            spine.append(f'<itemref idref="{ident}"/>')
        _zip_entry(zf, "OEBPS/content.opf", f"""<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
    <dc:identifier id="id">http://www.gutenberg.org/90002</dc:identifier>
    <dc:title>The Slow Clocks</dc:title><dc:creator>Bea Example</dc:creator>
    <dc:language>en</dc:language><dc:rights>Public domain in the USA.</dc:rights>
  </metadata>
  <manifest>{''.join(items)}</manifest>
  <spine>{''.join(spine)}</spine>
</package>""")
    return buf.getvalue()


def build(out_dir: Path = HERE) -> Path:
    mirror = out_dir / "mirror"
    (mirror / "cache" / "epub" / "90001").mkdir(parents=True, exist_ok=True)
    (mirror / "cache" / "epub" / "90002").mkdir(parents=True, exist_ok=True)
    (mirror / "pg90001.txt").write_text(plain_text_book(), encoding="utf-8")
    (mirror / "pg90002.epub").write_bytes(epub_book())
    (mirror / "cache/epub/90001/pg90001.rdf").write_text(rdf_record(90001, "The Lighthouse Ledger", "Sample, Ada"))
    (mirror / "cache/epub/90002/pg90002.rdf").write_text(rdf_record(90002, "The Slow Clocks", "Example, Bea"))
    return mirror


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE))
