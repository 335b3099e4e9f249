"""The demo's web sample: a generated news/blog site (HTML pages), a WARC of it, a local server.

    python -m pipeline.sample.web build --out DIR    # DIR/site/, DIR/warc/sample.warc.gz, DIR/manifest.jsonl
    python -m pipeline.sample.web serve DIR/site     # serve on 127.0.0.1, print the seed URL
"""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.sample.web.pages import Page, build_pages
from pipeline.sample.web.site import serve_directory, write_site
from pipeline.sample.web.warc import HOST, write_sample_warc

__all__ = ["HOST", "Page", "build_pages", "build_sample", "serve_directory", "write_sample_warc", "write_site"]

SEED = 20261127


def build_sample(out: str | Path, seed: int = SEED) -> dict:
    """Write site/, warc/sample.warc.gz and manifest.jsonl under `out`; returns counts."""
    out = Path(out)
    pages = build_pages(seed)
    write_site(pages, out / "site")
    counts = write_sample_warc(pages, out / "warc" / "sample.warc.gz")
    with open(out / "manifest.jsonl", "w", encoding="utf-8") as f:
        for p in pages:
            f.write(json.dumps({"url": f"{HOST}{p.path}", "path": p.path, "kind": p.kind, "lang": p.lang,
                                "topic": p.topic, "title": p.title, "charset": p.charset,
                                "duplicate_of": p.duplicate_of, "paragraphs": p.paragraphs},
                               ensure_ascii=False) + "\n")
    return {"pages": len(pages), **counts}
