"""Project Gutenberg catalog records (RDF/XML, one `pg<N>.rdf` per book) -> book metadata.

The layout is the one of gutenberg.org's `rdf-files.tar.bz2` (pgterms/dcterms vocabularies).
Parsed with the standard library's expat-backed ElementTree, which refuses entity-expansion
bombs since expat 2.4 (billion laughs protection).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "pgterms": "http://www.gutenberg.org/2009/pgterms/",
    "dcterms": "http://purl.org/dc/terms/",
}
_EBOOK_FILE = re.compile(r"^(?:pg)?(\d+)(?:-[\w]+)?\.(?:txt|txt\.gz|epub|zip|html?|rdf)$", re.I)


def ebook_id_from_name(name: str) -> int | None:
    """`pg1342.txt`, `1342-0.txt`, `pg1342-images.epub`, `1342-8.zip` -> 1342."""
    m = _EBOOK_FILE.match(name.rsplit("/", 1)[-1])
    return int(m.group(1)) if m else None


def parse_rdf(xml: bytes) -> dict[str, Any] | None:
    """One catalog record -> {ebook_id, title, authors, language, rights, subjects, issued}; None if not one."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return None
    ebook = root.find("pgterms:ebook", NS)
    if ebook is None:
        return None
    about = ebook.get(f"{{{NS['rdf']}}}about", "")
    m = re.search(r"(\d+)$", about)
    if not m:
        return None
    title = ebook.findtext("dcterms:title", default="", namespaces=NS)
    authors = [a.text.strip() for a in ebook.findall("dcterms:creator/pgterms:agent/pgterms:name", NS) if a.text]
    languages = [v.text.strip() for v in ebook.findall("dcterms:language/rdf:Description/rdf:value", NS) if v.text]
    subjects = [v.text.strip() for v in ebook.findall("dcterms:subject/rdf:Description/rdf:value", NS) if v.text]
    return {
        "ebook_id": int(m.group(1)),
        "title": re.sub(r"\s+", " ", title).strip() or None,
        "authors": authors,
        "language": languages[0] if languages else None,
        "rights": (ebook.findtext("dcterms:rights", default="", namespaces=NS) or "").strip() or None,
        "subjects": subjects,
        "issued": (ebook.findtext("dcterms:issued", default="", namespaces=NS) or "").strip() or None,
    }
