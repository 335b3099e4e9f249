"""Gutenberg RDF records and EPUB reading, including hostile inputs."""

import io
import zipfile

from pipeline.archive_safety import ArchiveLimits, Refusals
from pipeline.books.epub import read_epub
from pipeline.books.rdf import ebook_id_from_name, parse_rdf
from pipeline.books.rows import book_rows
from pipeline.sample.books.build import epub_book, rdf_record


def test_parse_rdf_record():
    record = parse_rdf(rdf_record(90001, "The Lighthouse Ledger", "Sample, Ada").encode())
    assert record == {"ebook_id": 90001, "title": "The Lighthouse Ledger", "authors": ["Sample, Ada"],
                      "language": "en", "rights": "Public domain in the USA.", "subjects": ["Short stories"],
                      "issued": "2026-01-01"}
    assert parse_rdf(b"<not-rdf/>") is None and parse_rdf(b"<broken") is None


def test_entity_expansion_bomb_is_refused():
    # Billion laughs inside a well-formed record: expat (>= 2.4) stops the expansion.
    entities = "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
    record = rdf_record(1, "&i;", "x").replace('<?xml version="1.0" encoding="utf-8"?>',
                                               f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">{entities}]>')
    assert parse_rdf(record.encode()) is None


def test_ebook_ids_from_mirror_file_names():
    assert [ebook_id_from_name(n) for n in ("pg1342.txt", "1342-0.txt", "pg1342-images.epub", "1342-8.zip",
                                             "cache/epub/1342/pg1342.rdf", "readme.txt")] == [
        1342, 1342, 1342, 1342, 1342, None]


def test_epub_reading_order_and_opf_metadata():
    text, meta = read_epub(epub_book(), ArchiveLimits(), Refusals())
    assert text.index("Chapter 1") < text.index("clockmaker's daughter") < text.index("Chapter 2")
    assert meta == {"title": "The Slow Clocks", "authors": ["Bea Example"], "language": "en",
                    "rights": "Public domain in the USA."}


def test_epub_boilerplate_stripped_in_book_rows(tmp_path):
    path = tmp_path / "pg90002.epub"
    path.write_bytes(epub_book())
    (row,) = book_rows(str(path), None, ArchiveLimits())
    assert row["text"].startswith("Chapter 1\n\nThe clockmaker's daughter")
    assert "Project Gutenberg" not in row["text"] and "LICENSE" not in row["text"]


def test_hostile_epub_members_refused_and_counted(tmp_path):
    buf = io.BytesIO(epub_book())
    with zipfile.ZipFile(buf, "a") as zf:
        zf.writestr("../../escape.xhtml", "<p>evil</p>")
        zf.writestr("/etc/cron.d/evil", "evil")
    path = tmp_path / "pg90003.epub"
    path.write_bytes(buf.getvalue())
    rows = book_rows(str(path), None, ArchiveLimits())
    refused = {r["reject_reason"]: r["reject_count"] for r in rows if r.get("reject_kind") == "refused"}
    assert refused == {"path_traversal": 1, "absolute_path": 1}
    assert any(r.get("text", "").startswith("Chapter 1") for r in rows if r.get("text"))
    assert not (tmp_path.parent / "escape.xhtml").exists()


def test_not_a_book_is_a_reject_not_a_crash(tmp_path):
    path = tmp_path / "pg5.zip"
    path.write_bytes(b"PK\x03\x04 this is not a zip")
    rows = book_rows(str(path), None, ArchiveLimits())
    assert [(r["reject_kind"], r["reject_reason"]) for r in rows] == [("refused", "corrupt_archive")]


def test_gzip_bomb_book_is_refused(tmp_path):
    import gzip

    path = tmp_path / "pg7.txt.gz"
    path.write_bytes(gzip.compress(bytes(8 << 20), mtime=0))  # 8 MiB of zeros in ~8 KB
    rows = book_rows(str(path), None, ArchiveLimits())
    assert [(r["reject_kind"], r["reject_reason"]) for r in rows] == [("refused", "compression_ratio")]
