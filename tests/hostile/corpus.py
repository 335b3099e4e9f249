"""A small generated corpus of hostile inputs, one builder per shape, for every stage to be run against.

Each builder writes files under a folder it is given and returns the path to pass as `--input`.
The shapes are the ones seen to crash stages (issue 17): bytes that are not UTF-8, a JSON lone
surrogate, metadata nested 100k levels, a truncated gzip, schema-valid Parquet with null required
columns or invalid UTF-8 strings, a part file that is not Parquet, a dataset holding only
`_SUCCESS`, empty files and directories, and one line longer than a stage's configured bound.
A new stage reuses these; tests/hostile/test_every_stage.py runs every stage against them.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

GOOD_TEXT = ("The committee met on Tuesday to review the budget for the coming year. Members agreed "
             "that the library needs new shelves, and the treasurer will report on costs next month.")
DEEP = 100_000  # nesting levels: far past CPython's recursion limit (1,000)
LONG_LINE_CHARS = 300_000  # tests set max_line_bytes below this


def good_lines(n: int = 3) -> list[bytes]:
    return [json.dumps({"text": f"{GOOD_TEXT} Item {i}.", "url": f"https://example.org/{i}"}).encode()
            for i in range(n)]


def hostile_lines() -> dict[str, bytes]:
    """reason the stage should give -> one JSONL line (bytes)."""
    return {
        "invalid_utf8": b'{"text": "caf\xe9 \xff\xfe bytes that are not UTF-8"}',
        "lone_surrogate": b'{"text": "\\ud800"}',
        "too_deeply_nested": b'{"text": "deep", "metadata": ' + b"[" * DEEP + b"]" * DEEP + b"}",
        "invalid_json": b'{"text": "unterminated',
        "line_too_long": json.dumps({"text": "x" * LONG_LINE_CHARS}).encode(),
    }


def jsonl_file(folder: Path) -> Path:
    """Good lines interleaved with every hostile line (and blank lines, which are not records)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "hostile.jsonl"
    lines = good_lines()
    for bad in hostile_lines().values():
        lines += [bad, b"   "]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def truncated_gzip(data: bytes) -> bytes:
    """A gzip stream cut short, as an interrupted download leaves it."""
    whole = gzip.compress(data)
    return whole[: len(whole) * 2 // 3]


def truncated_jsonl_gz(folder: Path) -> Path:
    """A folder with one complete .jsonl.gz and one truncated one."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "good.jsonl.gz").write_bytes(gzip.compress(b"\n".join(good_lines()) + b"\n"))
    big = b"\n".join(json.dumps({"text": f"{GOOD_TEXT} {i}"}).encode() for i in range(2000)) + b"\n"
    (folder / "cut.jsonl.gz").write_bytes(truncated_gzip(big))
    return folder


def empty_inputs(folder: Path) -> dict[str, Path]:
    """name -> an input holding no records at all."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {"empty_dir": folder / "empty_dir", "empty_file": folder / "empty.jsonl",
           "blank_lines": folder / "blank.jsonl", "empty_warc_gz": folder / "empty.warc.gz",
           "zero_byte_warc_gz": folder / "zero.warc.gz"}
    out["empty_dir"].mkdir(exist_ok=True)
    out["empty_file"].write_bytes(b"")
    out["blank_lines"].write_bytes(b"\n\n   \n\n")
    out["empty_warc_gz"].write_bytes(gzip.compress(b""))
    out["zero_byte_warc_gz"].write_bytes(b"")
    return out


def _string_array(values: list[bytes | None]) -> pa.Array:
    """A string column holding arbitrary bytes: pyarrow does not validate UTF-8 on a view."""
    return pa.array(values, pa.binary()).view(pa.string())


def _write_dataset(folder: Path, table: pa.Table) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, folder / "part-00000.parquet")
    (folder / "_SUCCESS").write_text("")
    return folder


def documents_with_bad_rows(folder: Path, good: int = 4) -> Path:
    """Schema-valid documents (nullable fields, as another tool writes them) with rows no stage can use.

    Rows beyond `good`: a null `id`, a null `text`, and a `text` that is not UTF-8.
    """
    texts: list[bytes | None] = [f"{GOOD_TEXT} Document {i} has its own words: {'alpha beta gamma ' * i}".encode()
                                 for i in range(good)]
    ids: list[bytes | None] = [f"doc{i:04d}".encode() for i in range(good)]
    texts += [b"a document without an id", None, b"caf\xe9 not utf-8 \xff"]
    ids += [None, b"doc-null-text", b"doc-bad-utf8"]
    n = len(texts)
    table = pa.table({
        "id": _string_array(ids), "text": _string_array(texts), "source": pa.array(["web"] * n),
        "url": pa.array([f"https://example.org/d{i}" for i in range(n)]), "title": pa.array([None] * n, pa.string()),
        "lang": pa.array(["en"] * n), "lang_score": pa.array([0.99] * n),
        "fetched_at": pa.array(["2026-01-01T00:00:00+00:00"] * n), "metadata": pa.array(["{}"] * n),
    })
    return _write_dataset(folder, table)


BAD_DOCUMENT_REASONS = {"null_id": 1, "null_text": 1, "invalid_utf8": 1}


def success_only(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "_SUCCESS").write_text("")
    return folder


def non_parquet_part(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "part-00000.parquet").write_text('{"text": "this is JSON, not Parquet"}\n')
    (folder / "_SUCCESS").write_text("")
    return folder


def warc_table_with_bad_rows(folder: Path) -> Path:
    """An ingest-warc table (extract's input) with null and non-UTF-8 html beside one good page."""
    html = [f"<html><head><title>t</title></head><body><p>{GOOD_TEXT}</p></body></html>".encode(), None,
            b"<html><body><p>caf\xe9 \xff</p></body></html>"]
    n = len(html)
    table = pa.table({
        "url": pa.array([f"https://example.org/p{i}" for i in range(n)]), "html": _string_array(html),
        "text": pa.array([None] * n, pa.string()), "charset": pa.array(["utf-8"] * n),
        "charset_source": pa.array(["header"] * n), "content_type": pa.array(["text/html"] * n),
        "fetched_at": pa.array(["2026-01-01T00:00:00Z"] * n), "record_type": pa.array(["response"] * n),
        "warc_record_id": pa.array([f"<urn:uuid:{i}>" for i in range(n)]), "warc_file": pa.array(["x.warc.gz"] * n),
        "offset": pa.array(list(range(n)), pa.int64()), "truncated": pa.array([None] * n, pa.string()),
    })
    return _write_dataset(folder, table)


def truncated_arxiv(folder: Path) -> Path:
    """A folder of arXiv payloads: one whole gzipped .tex, one gzipped tar cut short, one .tex.gz cut short."""
    folder.mkdir(parents=True, exist_ok=True)
    tex = (r"\documentclass{article}\title{A Paper}\begin{document}\section{Intro}" + GOOD_TEXT * 20
           + r"\end{document}").encode()
    (folder / "2301.00001v1.gz").write_bytes(gzip.compress(tex))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in (("main.tex", tex), ("appendix.tex", tex * 50)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    (folder / "2301.00002v1.gz").write_bytes(truncated_gzip(buf.getvalue()))
    (folder / "2301.00003v1.gz").write_bytes(truncated_gzip(tex * 40))
    return folder


def truncated_books(folder: Path) -> Path:
    """One whole Gutenberg .txt.gz and one cut short."""
    folder.mkdir(parents=True, exist_ok=True)
    body = ("*** START OF THE PROJECT GUTENBERG EBOOK A BOOK ***\n" + (GOOD_TEXT + "\n") * 400
            + "*** END OF THE PROJECT GUTENBERG EBOOK A BOOK ***\n").encode()
    (folder / "pg11.txt.gz").write_bytes(gzip.compress(body))
    (folder / "pg12.txt.gz").write_bytes(truncated_gzip(body))
    return folder


def seeds_file(folder: Path) -> Path:
    """Crawl seeds: a line that is not UTF-8, a line that is not a URL, and loopback (refused by the SSRF guard)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "seeds.txt"
    path.write_bytes(b"http://caf\xe9.example/\nnot a url\nhttp://127.0.0.1:9/private\n")
    return path


def github_inputs(folder: Path) -> Path:
    """A folder of repository archives: one whole (MIT, a file that is not UTF-8), one truncated."""
    folder.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    files = {"repo/LICENSE": b"MIT License\n\nPermission is hereby granted, free of charge, to any person "
                             b"obtaining a copy of this software",
             "repo/main.py": b"def main():\n    return 42\n", "repo/latin1.py": b"# caf\xe9\nx = 1\n"}
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    whole = buf.getvalue()
    (folder / "good.tar.gz").write_bytes(whole)
    (folder / "cut.tar.gz").write_bytes(whole[: len(whole) // 2])
    return folder
