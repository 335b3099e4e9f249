"""Fault-tolerant WARC/WET reading: split a file into records, survive corrupt or truncated ones.

warcio's ArchiveIterator stops at the first bad gzip member, losing the rest of the file. Here
a `.warc.gz` is split into gzip members first (Common Crawl writes one record per member), each
member parsed on its own; a corrupt member is reported and reading resumes at the next gzip
header. Plain `.warc`/`.wet` files are split on `WARC/1.x` header lines the same way.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

GZIP_MAGIC = b"\x1f\x8b\x08"
CHUNK = 1 << 20
# A single record larger than this is counted and skipped (Common Crawl caps payloads at 1 MiB).
MAX_RECORD_BYTES = 64 << 20


@dataclass
class RawRecord:
    offset: int  # file offset of the gzip member / record start
    end: int | None  # offset just past it (None when cut short)
    data: bytes | None  # the uncompressed record bytes; None when unreadable
    error: str | None = None  # skip reason when `data` is None


def iter_gzip_members(stream: BinaryIO, max_bytes: int = MAX_RECORD_BYTES) -> Iterator[RawRecord]:
    raw, base = stream.read(CHUNK), 0
    while raw:
        d, fed, out, size, oversize = zlib.decompressobj(31), 0, [], 0, False
        while True:
            try:
                piece = d.decompress(raw[fed:])
            except zlib.error:
                yield RawRecord(base, None, None, "corrupt_gzip_member")
                raw, base = _resync(stream, raw, base, GZIP_MAGIC)
                break
            fed = len(raw)
            size += len(piece)
            oversize = oversize or size > max_bytes
            if not oversize:
                out.append(piece)
            if d.eof:
                length = len(raw) - len(d.unused_data)
                if oversize:
                    yield RawRecord(base, base + length, None, "oversize_record")
                else:
                    yield RawRecord(base, base + length, b"".join(out))
                raw, base = d.unused_data, base + length
                if not raw:
                    raw = stream.read(CHUNK)
                break
            more = stream.read(CHUNK)
            if not more:
                yield RawRecord(base, None, None, "truncated_gzip_member")
                return
            raw += more


def _resync(stream: BinaryIO, raw: bytes, base: int, marker: bytes) -> tuple[bytes, int]:
    """Drop bytes up to the next `marker` after position 0; returns (buffer, its file offset)."""
    start = 1
    while True:
        idx = raw.find(marker, start)
        if idx >= 0:
            return raw[idx:], base + idx
        more = stream.read(CHUNK)
        keep = len(marker) - 1
        if not more:
            return b"", base + len(raw)
        base, raw, start = base + len(raw) - keep, raw[-keep:] + more, 0


def iter_plain_records(stream: BinaryIO, max_bytes: int = MAX_RECORD_BYTES) -> Iterator[RawRecord]:
    """Records of an uncompressed WARC/WET: header block, Content-Length bytes, CRLF CRLF."""
    raw, base = stream.read(CHUNK), 0
    while raw:
        if not raw.startswith(b"WARC/1."):
            if not raw.strip(b"\r\n"):
                raw, base = _refill(stream, b"", base + len(raw))
                continue
            yield RawRecord(base, None, None, "corrupt_record")
            raw, base = _resync(stream, raw, base, b"\nWARC/1.")
            raw, base = raw[1:], base + 1
            continue
        while (head_end := raw.find(b"\r\n\r\n")) < 0:
            more = stream.read(CHUNK)
            if not more:
                yield RawRecord(base, None, None, "truncated_record")
                return
            raw += more
        length = _content_length(raw[:head_end])
        if length is None:
            yield RawRecord(base, None, None, "corrupt_record")
            raw, base = _resync(stream, raw, base, b"\nWARC/1.")
            raw, base = raw[1:], base + 1
            continue
        total = head_end + 4 + length
        while len(raw) < total and length <= max_bytes:
            more = stream.read(CHUNK)
            if not more:
                yield RawRecord(base, None, None, "truncated_record")
                return
            raw += more
        if length > max_bytes:
            yield RawRecord(base, None, None, "oversize_record")
            raw, base = _resync(stream, raw, base, b"\nWARC/1.")
            raw, base = raw[1:], base + 1
            continue
        yield RawRecord(base, base + total, raw[:total] + b"\r\n\r\n")
        raw, base = raw[total:], base + total
        stripped = raw.lstrip(b"\r\n")
        raw, base = stripped, base + len(raw) - len(stripped)
        if not raw:
            raw = stream.read(CHUNK)


def _refill(stream: BinaryIO, raw: bytes, base: int) -> tuple[bytes, int]:
    return raw + stream.read(CHUNK), base


def _content_length(header: bytes) -> int | None:
    for line in header.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            try:
                n = int(value.strip())
            except ValueError:
                return None
            return n if n >= 0 else None
    return None


def iter_raw_records(stream: BinaryIO, max_bytes: int = MAX_RECORD_BYTES) -> Iterator[RawRecord]:
    """Gzip members or plain records, chosen by the file's first bytes (not its name)."""
    head = stream.read(3)
    rest = _Prepend(head, stream)
    split = iter_gzip_members if head == GZIP_MAGIC else iter_plain_records
    yield from split(rest, max_bytes)


class _Prepend(io.RawIOBase):
    def __init__(self, head: bytes, stream: BinaryIO):
        self.head, self.stream = head, stream

    def read(self, n: int = -1) -> bytes:
        if self.head:
            out, self.head = self.head, b""
            return out + (self.stream.read(n - len(out)) if n > len(out) else b"")
        return self.stream.read(n)

    def readable(self) -> bool:
        return True
