"""Input files of a line-oriented ingest stage, and a check that a gzip file is complete.

Hadoop's gzip codec fails the whole Spark job on a truncated `.gz` (java.io.EOFException:
Unexpected end of ZLIB input stream). A truncated file is common at web scale (an interrupted
download or copy), so each local `.gz` input is checked first, in parallel, and a bad one is
counted and set aside instead of read.
"""

from __future__ import annotations

import zlib
from pathlib import Path

from pipeline.storage import is_local, local_path

_CHUNK = 1 << 20
_MAX_OUT = 1 << 20  # decompressed bytes held at once: a gzip bomb costs time, never memory


def local_input_files(paths: list[str]) -> list[str]:
    """Local inputs as files, the way Spark's text reader sees a folder (its files, `_*`/`.*` skipped)."""
    files = []
    for item in paths:
        p = local_path(item)
        if p.is_dir():
            files += sorted(str(f) for f in p.iterdir() if f.is_file() and not f.name.startswith(("_", ".")))
        else:
            files.append(str(p))
    return files


def split_local(paths: list[str]) -> tuple[list[str], list[str]]:
    """(local files, remote paths)."""
    return local_input_files([p for p in paths if is_local(p)]), [p for p in paths if not is_local(p)]


def gzip_problem(path: str) -> str | None:
    """"truncated_gzip" or "corrupt_gzip" when a (multi-member) gzip file does not decode to its end."""
    decomp = zlib.decompressobj(wbits=31)
    pending, started = b"", False
    try:
        with Path(path).open("rb") as f:
            while pending or (pending := f.read(_CHUNK)):
                if decomp.eof:  # bytes after a member: the next member (`cat a.gz b.gz`), as gzip -d reads
                    decomp = zlib.decompressobj(wbits=31)
                started = True
                decomp.decompress(pending, _MAX_OUT)
                pending = decomp.unused_data if decomp.eof else decomp.unconsumed_tail
    except zlib.error:
        return "corrupt_gzip"
    except OSError:
        return "unreadable_file"
    if started and not decomp.eof:
        return "truncated_gzip"
    return None
