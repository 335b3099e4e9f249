"""arXiv source as distributed: bulk tars of per-paper `.gz` files, each a gzipped tar or `.tex`.

arXiv's bulk source (s3://arxiv/src/arXiv_src_YYMM_NNN.tar) holds one `<id>.gz` per paper; the
e-print endpoint serves the same payload. A payload is a gzipped tar of the sources, a single
gzipped `.tex`, or (for PDF-only submissions) no LaTeX at all. Every layer is read through
`pipeline.archive_safety`, so hostile members are refused and counted, never written anywhere.
"""

from __future__ import annotations

import io
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass

from pipeline.archive_safety import (
    ArchiveLimits,
    ArchiveRefused,
    Member,
    Refusals,
    gunzip,
    is_tar,
    iter_tar,
)
from pipeline.arxiv.latex import TEX_SUFFIXES, paper_text

_NEW_ID = re.compile(r"^(\d{4}\.\d{4,5})(v\d+)?$")
_OLD_ID = re.compile(r"^([a-z][a-z\-]*(?:\.[A-Z]{2})?)/?(\d{7})(v\d+)?$")
PAPER_SUFFIXES = (".gz", ".tgz", ".tar", ".tex")


@dataclass
class ParsedPaper:
    arxiv_id: str
    version: str | None
    text: str
    title: str | None
    main_file: str
    missing_inputs: list[str]


def split_arxiv_id(name: str) -> tuple[str, str | None] | None:
    """`2301.00001v2.gz` -> ('2301.00001', 'v2'); `hep-th9901001.gz` -> ('hep-th/9901001', None)."""
    base = posixpath.basename(name)
    for suffix in (".tar.gz", ".gz", ".tgz", ".tar", ".tex"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    if m := _NEW_ID.match(base):
        return m.group(1), m.group(2)
    if m := _OLD_ID.match(base):
        return f"{m.group(1)}/{m.group(2)}", m.group(3)
    return None


def decode_tex(data: bytes) -> str:
    """LaTeX before 2018 is often Latin-1; UTF-8 first, then Latin-1 (which never fails)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def source_files(payload: bytes, limits: ArchiveLimits, refusals: Refusals) -> dict[str, str]:
    """The LaTeX files of one paper payload (name -> text); raises ArchiveRefused on a bomb."""
    data = gunzip(payload, limits) if payload[:2] == b"\x1f\x8b" else payload
    if is_tar(data):
        members = iter_tar(io.BytesIO(data), len(payload), limits, refusals)
        return {m.name: decode_tex(m.data) for m in members if m.name.lower().endswith(TEX_SUFFIXES)}
    if data[:5] == b"%PDF-":
        return {}
    return {"main.tex": decode_tex(data)}


def parse_paper(name: str, payload: bytes, limits: ArchiveLimits,
                refusals: Refusals) -> tuple[ParsedPaper | None, str]:
    """One paper payload -> (paper, "") or (None, reject reason). Unsafe members land in `refusals`."""
    ident = split_arxiv_id(name)
    if ident is None:
        return None, "unrecognised_arxiv_id"
    try:
        files = source_files(payload, limits, refusals)
    except ArchiveRefused as exc:
        refusals.add(exc.reason)
        return None, exc.reason
    if not files:
        return None, "no_latex_source"
    paper = paper_text(files)
    if paper is None:
        return None, "no_main_file"
    if not paper.text.strip():
        return None, "empty_text"
    return ParsedPaper(ident[0], ident[1], paper.text, paper.title, paper.main_file,
                       paper.missing_inputs), ""


def iter_bundle(raw, compressed_bytes: int, limits: ArchiveLimits, refusals: Refusals) -> Iterator[Member]:
    """Per-paper members of a bulk tar (anything else in it, like the manifest, is skipped)."""
    for member in iter_tar(raw, compressed_bytes, limits, refusals):
        if member.name.endswith(PAPER_SUFFIXES) and split_arxiv_id(member.name) is not None:
            yield member


def is_bundle(name: str, head: bytes) -> bool:
    """A bulk tar: an uncompressed tar whose name does not itself look like one paper."""
    return is_tar(head) and split_arxiv_id(name) is None
