"""EPUB (a zip of XHTML + an OPF package file) -> plain text in reading order, plus OPF metadata.

Follows the EPUB 3 container layout: `META-INF/container.xml` names the OPF; its spine gives the
reading order of manifest items. The zip is read through pipeline.archive_safety.
"""

from __future__ import annotations

import io
import posixpath
import re
import xml.etree.ElementTree as ET
from typing import Any

from pipeline.archive_safety import ArchiveLimits, Refusals, iter_zip

_CONTAINER_NS = {"c": "urn:oasis:names:tc:opendocument:xmlns:container"}
_OPF_NS = {"opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/"}
_BLOCKS = ("p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "tr", "section")
_XHTML_TYPES = ("application/xhtml+xml", "text/html")


def xhtml_text(data: bytes) -> str:
    """Block elements become paragraphs (blank-line separated); `<br>` a line break."""
    import lxml.html

    try:
        doc = lxml.html.fromstring(data)
    except (ValueError, lxml.etree.ParserError):
        return ""
    for bad in doc.xpath("//script|//style|//head"):
        bad.drop_tree()
    for br in doc.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for el in doc.iter(*_BLOCKS):
        el.text = "\n\n" + (el.text or "")
        el.tail = "\n\n" + (el.tail or "")
    text = doc.text_content()
    text = re.sub(r"[ \t]+", " ", text)
    return re.sub(r"\n\s*\n(\s*\n)*", "\n\n", text).strip()


def _opf_metadata(opf: ET.Element) -> dict[str, Any]:
    meta = opf.find("opf:metadata", _OPF_NS)

    def first(tag: str) -> str | None:
        value = meta.findtext(f"dc:{tag}", default="", namespaces=_OPF_NS) if meta is not None else ""
        return value.strip() or None

    authors = [a.text.strip() for a in meta.findall("dc:creator", _OPF_NS) if a.text] if meta is not None else []
    return {"title": first("title"), "authors": authors, "language": first("language"),
            "rights": first("rights")}


def read_epub(data: bytes, limits: ArchiveLimits, refusals: Refusals) -> tuple[str, dict[str, Any]] | None:
    """(text, metadata) of an EPUB, or None when it has no readable package document."""
    files = {m.name: m.data for m in iter_zip(io.BytesIO(data), len(data), limits, refusals)}
    try:
        container = ET.fromstring(files["META-INF/container.xml"])
        rootfile = container.find(".//c:rootfile", _CONTAINER_NS)
        opf_path = rootfile.get("full-path") if rootfile is not None else None
        opf = ET.fromstring(files[opf_path]) if opf_path else None
    except (KeyError, ET.ParseError):
        return None
    if opf is None:
        return None
    base = posixpath.dirname(opf_path)
    manifest = {item.get("id"): item for item in opf.iterfind("opf:manifest/opf:item", _OPF_NS)}
    parts = []
    for ref in opf.iterfind("opf:spine/opf:itemref", _OPF_NS):
        item = manifest.get(ref.get("idref"))
        if item is None or item.get("media-type") not in _XHTML_TYPES:
            continue
        href = posixpath.normpath(posixpath.join(base, item.get("href", "").split("#")[0]))
        if href in files:
            parts.append(xhtml_text(files[href]))
    return "\n\n".join(p for p in parts if p), _opf_metadata(opf)
