"""One book file (plain text, .txt.gz, PG's .zip, or EPUB) -> a document row, or a counted reject.

Runs inside a Spark task; the RDF catalog is read on the driver (`catalog_records`) and joined
in Spark by ebook number.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

from pipeline.archive_safety import ArchiveLimits, ArchiveRefused, Refusals, gunzip, iter_archive, iter_zip
from pipeline.books.epub import read_epub
from pipeline.books.gutenberg import clean_book, decode_book
from pipeline.books.rdf import ebook_id_from_name, parse_rdf
from pipeline.schema import document_id

BOOK_SUFFIXES = (".txt", ".txt.gz", ".zip", ".epub")
ROW_SCHEMA = ("id string, url string, text string, ebook_id long, title string, authors string, "
              "language string, rights string, chapters string, boilerplate_removed boolean, "
              "front_matter_chars long, format string, source_file string, reject_kind string, "
              "reject_reason string, reject_count long")
ROW_COLUMNS = [c.split()[0] for c in ROW_SCHEMA.split(", ")]


def _reject(locator: str, kind: str, reason: str, n: int = 1) -> dict[str, Any]:
    return {"source_file": locator, "reject_kind": kind, "reject_reason": reason, "reject_count": n}


def _book_text(name: str, data: bytes, limits: ArchiveLimits, refusals: Refusals) -> tuple[str | None, dict, str]:
    """(raw text, metadata from the file itself, format) of one book file."""
    lower = name.lower()
    if lower.endswith(".epub"):
        got = read_epub(data, limits, refusals)
        return (got[0], got[1], "epub") if got else (None, {}, "epub")
    if lower.endswith(".zip"):
        texts = [m for m in iter_zip(io.BytesIO(data), len(data), limits, refusals) if m.name.endswith(".txt")]
        return (decode_book(texts[0].data), {}, "txt") if texts else (None, {}, "zip")
    if lower.endswith(".gz"):
        data = gunzip(data, limits)
    return decode_book(data), {}, "txt"


def book_rows(locator: str, content: bytes | None, limits: ArchiveLimits) -> list[dict[str, Any]]:
    name = locator.rstrip("/").rsplit("/", 1)[-1]
    refusals = Refusals()
    try:
        if content is None:
            if os.path.getsize(locator) > limits.max_member_bytes:
                return [_reject(locator, "refused", "member_too_large")]
            content = Path(locator).read_bytes()
        raw, file_meta, fmt = _book_text(name, content, limits, refusals)
    except ArchiveRefused as exc:
        refusals.add(exc.reason)
        raw, file_meta, fmt = None, {}, ""
    except OSError:
        return [_reject(locator, "rejected", "unreadable_file")]
    rows = [_reject(locator, "refused", r, n) for r, n in sorted(refusals.items())]
    if raw is None:
        return rows if refusals else [_reject(locator, "rejected", "no_text")]
    book = clean_book(raw)
    if not book.text.strip():
        return [*rows, _reject(locator, "rejected", "empty_text")]
    ebook_id = ebook_id_from_name(name)
    url = f"https://www.gutenberg.org/ebooks/{ebook_id}" if ebook_id is not None else locator
    authors = file_meta.get("authors") or ([book.header["author"]] if "author" in book.header else [])
    rows.append({
        "id": document_id("books", url), "url": url, "text": book.text, "ebook_id": ebook_id,
        "title": file_meta.get("title") or book.header.get("title"), "authors": json.dumps(authors),
        "language": file_meta.get("language") or book.header.get("language"), "rights": file_meta.get("rights"),
        "chapters": json.dumps(book.chapters), "boilerplate_removed": book.boilerplate_removed,
        "front_matter_chars": book.front_matter_chars, "format": fmt, "source_file": locator,
    })
    return rows


def rows_frame(rows: list[dict[str, Any]]):
    import pandas as pd

    out = pd.DataFrame(rows, columns=ROW_COLUMNS).astype(object)
    for col in ("ebook_id", "front_matter_chars"):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype("Int64")
    out["reject_count"] = pd.to_numeric(out["reject_count"], errors="coerce").fillna(0).astype("int64")
    out["boilerplate_removed"] = out["boilerplate_removed"].astype("boolean")
    return out


def is_catalog_file(name: str) -> bool:
    lower = name.lower()
    return lower.endswith(".rdf") or (("rdf" in lower) and lower.endswith((".tar", ".tar.bz2", ".tar.gz", ".zip")))


def catalog_records(paths: list[str], limits: ArchiveLimits, refusals: Refusals) -> list[dict[str, Any]]:
    """Parsed RDF records from `.rdf` files, folders of them, or a catalog archive (rdf-files.tar.bz2)."""
    records = []
    for item in paths:
        path = Path(item)
        files = sorted(path.rglob("*.rdf")) if path.is_dir() else [path]
        for f in files:
            data = f.read_bytes()
            if f.name.lower().endswith(".rdf"):
                blobs = [data]
            else:
                blobs = [m.data for m in iter_archive(data, limits, refusals) if m.name.endswith(".rdf")]
            records += [r for r in map(parse_rdf, blobs) if r is not None]
    return records
