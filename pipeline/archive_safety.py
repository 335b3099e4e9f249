"""Reading hostile archives safely: tar (plain, gz, bz2, xz), zip/EPUB and single gzip files.

Members are read into memory (or written under one destination directory by `extract_to`) and
never follow the archive's own idea of where they belong: absolute names, `..` components and
links are refused, and every decompressed byte counts against a budget so a decompression bomb
stops early instead of filling memory or disk. Each refusal is counted by reason in a `Refusals`
counter and the rest of the archive (and of the run) carries on.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import posixpath
import stat
import tarfile
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

REFUSAL_REASONS = (
    "absolute_path", "path_traversal", "link", "link_escape", "special_file", "too_many_members",
    "member_too_large", "total_too_large", "compression_ratio", "corrupt_archive", "duplicate_member",
    "truncated_archive",
)
_CHUNK = 1 << 16


@dataclass(frozen=True)
class ArchiveLimits:
    # arXiv caps a submission's source at 50 MB; 64 MiB per member leaves room for that.
    max_member_bytes: int = 64 << 20
    # Per archive (an arXiv bulk tar is ~500 MB compressed; its members are checked one by one).
    max_total_bytes: int = 1 << 30
    max_members: int = 100_000
    # Deflate cannot exceed ~1032:1 (Fifield, "A better zip bomb", WOOT 2019); LaTeX and code
    # compress 3-10:1, so 200:1 sustained past `ratio_floor_bytes` is a bomb, not a corpus.
    max_ratio: float = 200.0
    ratio_floor_bytes: int = 1 << 20  # tar padding makes tiny archives look highly compressible


class ArchiveRefused(Exception):
    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


class Refusals(Counter):
    """Counts of refused members/archives by reason (a plain Counter, JSON-ready via dict())."""

    def add(self, reason: str) -> None:
        self[reason] += 1


@dataclass
class Member:
    name: str  # normalised relative POSIX path inside the archive
    data: bytes


class _Budget:
    """Every decompressed byte of one archive; refuses on total size or compression ratio."""

    def __init__(self, limits: ArchiveLimits, compressed_bytes: int):
        self.limits = limits
        self.compressed = max(compressed_bytes, 1)
        self.total = 0

    def take(self, n: int) -> None:
        self.total += n
        if self.total > self.limits.max_total_bytes:
            raise ArchiveRefused("total_too_large", f"over {self.limits.max_total_bytes} bytes")
        if (self.total > self.limits.ratio_floor_bytes
                and self.total / self.compressed > self.limits.max_ratio):
            raise ArchiveRefused("compression_ratio", f"{self.total}/{self.compressed} bytes")


class _BudgetedStream(io.RawIOBase):
    """A read-only stream that charges everything read (skipped tar data included) to a budget."""

    def __init__(self, inner: BinaryIO, budget: _Budget):
        self.inner, self.budget = inner, budget

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        data = self.inner.read(min(len(buf), _CHUNK))
        self.budget.take(len(data))
        buf[: len(data)] = data
        return len(data)


def member_name_problem(name: str) -> str | None:
    """Why a member name may not be used as a relative path, or None when it is safe."""
    unified = name.replace("\\", "/")
    if unified.startswith("/") or (len(unified) > 1 and unified[1] == ":"):
        return "absolute_path"
    if ".." in unified.split("/"):
        return "path_traversal"
    return None


def normalise_name(name: str) -> str:
    norm = posixpath.normpath(name.replace("\\", "/"))
    return "" if norm == "." else norm


def link_problem(member_name: str, target: str) -> str:
    """A link is never materialised; it is counted as escaping when it points out of the archive."""
    unified = target.replace("\\", "/")
    if unified.startswith("/") or (len(unified) > 1 and unified[1] == ":"):
        return "link_escape"
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(member_name), unified))
    return "link_escape" if resolved == ".." or resolved.startswith("../") else "link"


def _decompressing(raw: BinaryIO) -> BinaryIO:
    head = raw.peek(6)[:6] if hasattr(raw, "peek") else b""
    if head.startswith(b"\x1f\x8b"):
        return gzip.GzipFile(fileobj=raw)
    if head.startswith(b"BZh"):
        return bz2.BZ2File(raw)
    if head.startswith(b"\xfd7zXZ\x00"):
        return lzma.LZMAFile(raw)
    return raw


def _read_member(fileobj: BinaryIO, limits: ArchiveLimits, budget: _Budget | None) -> bytes:
    out = bytearray()
    while chunk := fileobj.read(_CHUNK):
        out += chunk
        if budget is not None:
            budget.take(len(chunk))
        if len(out) > limits.max_member_bytes:
            raise ArchiveRefused("member_too_large", f"over {limits.max_member_bytes} bytes")
    return bytes(out)


def iter_tar(raw: BinaryIO, compressed_bytes: int, limits: ArchiveLimits,
             refusals: Refusals) -> Iterator[Member]:
    """Regular-file members of a (possibly compressed) tar stream, read sequentially."""
    budget = _Budget(limits, compressed_bytes)
    stream = io.BufferedReader(_BudgetedStream(_decompressing(io.BufferedReader(raw)), budget))
    try:
        with tarfile.open(fileobj=stream, mode="r|", bufsize=tarfile.RECORDSIZE) as tar:
            for count, info in enumerate(tar, start=1):
                if count > limits.max_members:
                    refusals.add("too_many_members")
                    return
                problem = member_name_problem(info.name)
                if problem is None and (info.issym() or info.islnk()):
                    problem = link_problem(normalise_name(info.name), info.linkname)
                elif problem is None and not (info.isfile() or info.isdir()):
                    problem = "special_file"
                if problem:
                    refusals.add(problem)
                    continue
                if info.isdir():
                    continue
                if info.size > limits.max_member_bytes:
                    refusals.add("member_too_large")
                    continue
                fileobj = tar.extractfile(info)
                # Bytes read here were already charged to the budget by the budgeted stream.
                data = _read_member(fileobj, limits, None) if fileobj else b""
                yield Member(normalise_name(info.name), data)
    except ArchiveRefused as exc:
        refusals.add(exc.reason)
    except (tarfile.TarError, OSError, EOFError, zlib.error, lzma.LZMAError, ValueError):
        refusals.add("corrupt_archive")


def iter_zip(raw: BinaryIO, compressed_bytes: int, limits: ArchiveLimits,
             refusals: Refusals) -> Iterator[Member]:
    """Regular-file members of a zip (EPUB, GitHub's zipball); sizes in headers are not trusted."""
    budget = _Budget(limits, compressed_bytes)
    try:
        with zipfile.ZipFile(raw) as zf:
            for count, info in enumerate(zf.infolist(), start=1):
                if count > limits.max_members:
                    refusals.add("too_many_members")
                    return
                problem = member_name_problem(info.filename)
                mode = info.external_attr >> 16
                if problem is None and stat.S_ISLNK(mode):
                    with zf.open(info) as f:
                        problem = link_problem(normalise_name(info.filename), f.read(4096).decode(
                            "utf-8", "replace"))
                if problem:
                    refusals.add(problem)
                    continue
                if info.is_dir():
                    continue
                if info.file_size > limits.max_member_bytes:
                    refusals.add("member_too_large")
                    continue
                with zf.open(info) as f:
                    data = _read_member(f, limits, budget)
                yield Member(normalise_name(info.filename), data)
    except ArchiveRefused as exc:
        refusals.add(exc.reason)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError, ValueError):
        refusals.add("corrupt_archive")


def gunzip(data: bytes, limits: ArchiveLimits) -> bytes:
    """One gzip (or zlib) payload, decompressed under the budget; raises ArchiveRefused."""
    budget = _Budget(limits, len(data))
    decomp = zlib.decompressobj(wbits=47)  # 32 + 15: accept gzip or zlib headers
    out = bytearray()
    pending = data
    try:
        while pending and not decomp.eof:
            chunk = decomp.decompress(pending, _CHUNK)
            pending = decomp.unconsumed_tail
            budget.take(len(chunk))
            out += chunk
            if len(out) > limits.max_member_bytes:
                raise ArchiveRefused("member_too_large", f"over {limits.max_member_bytes} bytes")
            if not chunk and not pending:
                break
    except zlib.error as exc:
        raise ArchiveRefused("corrupt_archive", str(exc)) from exc
    if not decomp.eof:  # an interrupted download: part of a paper or book is not a document
        raise ArchiveRefused("truncated_archive", f"gzip stream ends after {len(data)} bytes")
    return bytes(out)


def is_zip(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


def is_tar(data: bytes) -> bool:
    """A decompressed payload is a tar when its first header has the ustar/gnu magic."""
    return len(data) >= 512 and data[257:262] == b"ustar"


def iter_archive(data: bytes, limits: ArchiveLimits, refusals: Refusals) -> Iterator[Member]:
    """Members of an in-memory zip or (compressed) tar, whichever it is."""
    if is_zip(data):
        yield from iter_zip(io.BytesIO(data), len(data), limits, refusals)
    else:
        yield from iter_tar(io.BytesIO(data), len(data), limits, refusals)


def extract_to(members: Iterator[Member], dest: str | Path, refusals: Refusals) -> list[Path]:
    """Write members under `dest` only; a second check on the resolved path guards the first."""
    root = Path(dest).resolve()
    written = []
    for member in members:
        target = (root / member.name).resolve()
        if not member.name or not target.is_relative_to(root) or target == root:
            refusals.add("path_traversal")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL + O_NOFOLLOW: never overwrite, never write through a link planted on disk.
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        except FileExistsError:
            refusals.add("duplicate_member")
            continue
        with os.fdopen(fd, "wb") as f:
            f.write(member.data)
        written.append(target)
    return written
