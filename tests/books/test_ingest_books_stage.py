"""The ingest-books stage end to end: a mirror folder with RDF records, a URL, a hostile zip."""

import io
import json
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pipeline.dataset import read_stats
from pipeline.errors import UsageError
from pipeline.sample.books.build import build, plain_text_book


@pytest.fixture
def book_server():
    body = plain_text_book().replace("Lighthouse Ledger", "Harbour Ledger").encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            ok = self.path == "/files/90005/90005-0.txt"
            data = body if ok else b"missing"
            self.send_response(200 if ok else 404)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.mark.slow
def test_mirror_url_and_hostile_zip(spark, run_stage_in, data_root, tmp_path, book_server):
    mirror = build(tmp_path)
    hostile = io.BytesIO()
    with zipfile.ZipFile(hostile, "w") as zf:
        zf.writestr("../../../escape.txt", "evil")
        zf.writestr("90004-0.txt", "Chapter 1\n\nA short tale\nwrapped twice.\n")
    (mirror / "90004-0.zip").write_bytes(hostile.getvalue())
    out = data_root / "r1" / "ingest-books"
    summary = run_stage_in("ingest-books", [mirror], out, [
        f"ingest-books.urls=[{book_server}/files/90005/90005-0.txt, {book_server}/files/missing.txt]",
        "ingest-books.request_delay_s=0.01"])
    docs = {r["url"]: r.asDict() for r in spark.read.parquet(str(out)).collect()}
    assert sorted(docs) == [f"https://www.gutenberg.org/ebooks/{n}" for n in (90001, 90002, 90004, 90005)]
    ledger = docs["https://www.gutenberg.org/ebooks/90001"]
    assert ledger["source"] == "books" and ledger["title"] == "The Lighthouse Ledger"
    assert ledger["text"].startswith("CHAPTER I. The Keeper")
    assert "Project Gutenberg" not in ledger["text"] and "CONTENTS" not in ledger["text"]
    meta = json.loads(ledger["metadata"])
    assert meta["authors"] == ["Sample, Ada"]  # the catalog wins over the header's "Ada Sample"
    assert meta["language"] == "en" and meta["rights"] == "Public domain in the USA."
    assert meta["chapters"] == ["CHAPTER I. The Keeper", "CHAPTER II. The Ledger", "CHAPTER III. Morning"]
    assert meta["subjects"] == ["Short stories"] and meta["ebook_id"] == 90001
    assert json.loads(docs["https://www.gutenberg.org/ebooks/90002"]["metadata"])["format"] == "epub"
    assert docs["https://www.gutenberg.org/ebooks/90004"]["text"] == "Chapter 1\n\nA short tale wrapped twice."
    fetched = docs["https://www.gutenberg.org/ebooks/90005"]
    assert fetched["title"] == "The Harbour Ledger" and json.loads(fetched["metadata"])["language"] == "English"
    stats = read_stats(str(out))
    assert stats["refused"] == {"path_traversal": 1} and stats["fetch_failed"] == {"http_error": 1}
    assert stats["catalog_records"] == 2 and summary.rows_out == 4
    assert not (tmp_path / "escape.txt").exists() and not (data_root / "escape.txt").exists()


@pytest.mark.slow
def test_empty_mirror_is_a_user_error_unless_allowed(spark, run_stage_in, data_root, tmp_path):
    (tmp_path / "mirror").mkdir()
    out = data_root / "r2" / "ingest-books"
    with pytest.raises(UsageError, match="no book files"):
        run_stage_in("ingest-books", [tmp_path / "mirror"], out)
    assert not out.exists()
    summary = run_stage_in("ingest-books", [tmp_path / "mirror"], out, ["stages.ingest-books.allow_empty=true"])
    assert summary.rows_out == 0 and summary.rows_in == 0
    assert read_stats(str(out))["books"] == 0
