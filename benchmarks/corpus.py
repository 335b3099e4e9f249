"""A real-text benchmark corpus built offline from what this Debian machine holds, and a replicator.

    .venv/bin/python benchmarks/corpus.py --out /tmp/corpus [--max-docs 3000] [--factors 1 4 16 64]

Sources (nothing downloaded, nothing committed): pydoc HTML of the standard library (rendered here by
`pydoc.HTMLDoc`), Debian package documentation under /usr/share/doc (plain texts, gzipped texts, HTML),
and man pages under /usr/share/man in every language present (roff markup stripped). Writes

    OUT/base.warc.gz            the HTML pages as WARC response records (the web path's input)
    OUT/<k>x/docs.parquet       k copies of every document, one pyarrow file with pyarrow's default row
                                groups (the shape that broke Spark's vectorized reader, issue 21)

Copy 0 is the original; copy j > 0 gets word-level edits (substitute, delete, insert at a per-copy
rate drawn from [0, 0.2]), so some copies are near-duplicates above Jaccard 0.8 and some are not.
"""

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]  # benchmarks/tokenize.py
sys.path.insert(0, os.path.dirname(_HERE))

import argparse  # noqa: E402
import gzip  # noqa: E402
import hashlib  # noqa: E402
import io  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from html.parser import HTMLParser  # noqa: E402
from pathlib import Path  # noqa: E402

MIN_CHARS = 400  # shorter texts are mostly stubs (a one-line README)
MAX_CHARS = 200_000


@dataclass
class Doc:
    id: str
    text: str
    url: str
    title: str
    lang: str
    html: str = ""


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in ("p", "br", "div", "tr", "li", "h1", "h2", "h3", "dt", "dd", "pre"):
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def html_text(page: str) -> str:
    p = _Text()
    p.feed(page)
    return re.sub(r"[ \t\xa0]+", " ", re.sub(r"\n\s*\n+", "\n\n", "".join(p.parts))).strip()


_ROFF_ESC = re.compile(r"\\f(\[[^\]]*\]|\(..|.)|\\s[-+]?\d|\\\(..|\\\[[^\]]*\]|\\[&|^%:,/~ ]|\\-|\\e")


def roff_text(src: str) -> str:
    out = []
    for line in src.splitlines():
        if line.startswith((".\\\"", "'\\\"", '.\\"')):
            continue
        if line.startswith((".", "'")):
            macro, _, rest = line[1:].partition(" ")
            if macro in ("SH", "SS", "B", "I", "BR", "IR", "RB", "BI", "IB", "TP", "IP", "Nm", "Sh", "Ss", "Nd"):
                line = rest.replace('"', "")
            else:
                continue
        out.append(_ROFF_ESC.sub(lambda m: "-" if m.group(0) == "\\-" else "", line))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()


def _id(kind: str, locator: str) -> str:
    return hashlib.sha1(f"{kind}\x00{locator}".encode()).hexdigest()[:16]


def pydoc_pages(limit: int) -> Iterator[Doc]:
    import importlib
    import pydoc
    import warnings

    skip = {"antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo", "__main__"}
    n = 0
    for name in sorted(sys.stdlib_module_names):
        if n >= limit or name in skip or name.startswith("_"):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                mod = importlib.import_module(name)
            page = pydoc.html.page(pydoc.describe(mod), pydoc.html.document(mod, name))
        except Exception:  # noqa: BLE001 (platform-only modules, import side effects)
            continue
        text = html_text(page)
        if MIN_CHARS <= len(text) <= MAX_CHARS:
            n += 1
            yield Doc(_id("pydoc", name), text, f"https://docs.python.org/3/library/{name}.html", name, "en", page)


def debian_docs(limit: int) -> Iterator[Doc]:
    n = 0
    for root, _, files in sorted(os.walk("/usr/share/doc")):
        for f in sorted(files):
            if n >= limit:
                return
            path = Path(root) / f
            try:
                if path.is_symlink() or path.stat().st_size > 2_000_000:
                    continue
                raw = path.read_bytes()
                if f.endswith(".gz"):
                    raw = gzip.decompress(raw)
                text = raw.decode("utf-8")
            except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile):
                continue
            page = ""
            if f.endswith((".html", ".htm", ".html.gz")):
                page, text = text, html_text(text)
            elif "\x00" in text:
                continue
            if MIN_CHARS <= len(text) <= MAX_CHARS:
                n += 1
                yield Doc(_id("debian-doc", str(path)), text, f"file://{path}", f, "en", page)


def man_pages(limit: int) -> Iterator[Doc]:
    base = Path("/usr/share/man")
    n = 0
    for lang_dir in sorted(base.iterdir()):
        lang = "en" if lang_dir.name.startswith("man") else lang_dir.name.split("_")[0].split(".")[0]
        per_lang = 0
        for path in sorted(lang_dir.rglob("*.gz")):
            if n >= limit or per_lang >= max(limit // 8, 50):
                break
            try:
                text = roff_text(gzip.decompress(path.read_bytes()).decode("utf-8"))
            except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile):
                continue
            if MIN_CHARS <= len(text) <= MAX_CHARS:
                n += 1
                per_lang += 1
                yield Doc(_id("man", str(path)), text, f"file://{path}", path.name, lang)


def edit_words(text: str, rate: float, rng: random.Random) -> str:
    """Word-level edits: each word is kept, substituted, deleted or followed by an insertion."""
    words = text.split(" ")
    vocab = words[:: max(1, len(words) // 200)] or ["the"]
    out = []
    for w in words:
        r = rng.random()
        if r >= rate:
            out.append(w)
        elif r < rate / 3:
            out.append(rng.choice(vocab))
        elif r < 2 * rate / 3:
            continue
        else:
            out.extend((w, rng.choice(vocab)))
    return " ".join(out)


def replicate(docs: list[Doc], factor: int, seed: int = 0) -> dict[str, list]:
    cols: dict[str, list] = {k: [] for k in ("id", "text", "source", "url", "title", "lang", "lang_score",
                                              "fetched_at", "metadata")}
    rng = random.Random(seed)
    for d in docs:
        for j in range(factor):
            text = d.text if j == 0 else edit_words(d.text, rng.uniform(0.0, 0.2), rng)
            for k, v in (("id", d.id if j == 0 else f"{d.id}-r{j}"), ("text", text), ("source", "web"),
                         ("url", d.url if j == 0 else f"{d.url}#r{j}"), ("title", d.title), ("lang", d.lang),
                         ("lang_score", None), ("fetched_at", None), ("metadata", None)):
                cols[k].append(v)
    return cols


def write_warc(docs: list[Doc], path: Path) -> int:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    n = 0
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for d in docs:
            if not d.html:
                continue
            body = d.html.encode("utf-8")
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                                  ("Content-Length", str(len(body)))], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(d.url, "response", payload=io.BytesIO(body),
                                                          http_headers=headers))
            n += 1
    return n


def build(out: Path, max_docs: int, factors: list[int]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipeline.schema import DOCUMENT_SCHEMA

    out.mkdir(parents=True, exist_ok=True)
    docs: list[Doc] = []
    seen: set[str] = set()
    for gen in (pydoc_pages(max_docs // 4), man_pages(max_docs // 3), debian_docs(max_docs)):
        for d in gen:
            if len(docs) >= max_docs:
                break
            digest = hashlib.sha1(d.text.encode()).hexdigest()
            if digest not in seen:  # Debian ships many identical copyright files: the base is exact-dedup'd
                seen.add(digest)
                docs.append(d)
    n_warc = write_warc(docs, out / "base.warc.gz")
    langs: dict[str, int] = {}
    for d in docs:
        langs[d.lang] = langs.get(d.lang, 0) + 1
    mb = sum(len(d.text.encode()) for d in docs) / 1e6
    print(f"base: {len(docs)} documents, {mb:.1f} MB of text, {n_warc} HTML pages in base.warc.gz; "
          f"languages {dict(sorted(langs.items(), key=lambda kv: -kv[1]))}")
    for k in factors:
        (out / f"{k}x").mkdir(exist_ok=True)
        table = pa.table(replicate(docs, k), schema=DOCUMENT_SCHEMA)
        pq.write_table(table, out / f"{k}x" / "docs.parquet")  # pyarrow's default row groups
        (out / f"{k}x" / "_SUCCESS").touch()
        print(f"{k}x: {table.num_rows} documents, {mb * k:.0f} MB -> {out / f'{k}x' / 'docs.parquet'}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="/tmp/corpus")
    ap.add_argument("--max-docs", type=int, default=3000)
    ap.add_argument("--factors", type=int, nargs="+", default=[1, 4, 16])
    a = ap.parse_args(argv)
    build(Path(a.out), a.max_docs, a.factors)
    return 0


if __name__ == "__main__":
    sys.exit(main())
