"""Fault-tolerant WARC/WET reading: split a file into records, survive corrupt or truncated ones.

warcio's ArchiveIterator stops at the first bad gzip member, losing the rest of the file. Here
a `.warc.gz` is split into gzip members first (Common Crawl writes one record per member), each
member parsed on its own; a corrupt member is reported and reading resumes at the next gzip
header. Plain `.warc`/`.wet` files are split on `WARC/1.x` header lines the same way.

Bounded by construction (issue 17): decompression streams with `max_length`, so a gzip bomb
never holds more than `max_bytes` (+ one chunk) of output; a record header longer than
`max_header_bytes` is set aside; every input byte is scanned a bounded number of times (the
header search resumes where it stopped, buffers are bytearrays compacted in place).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

GZIP_MAGIC = b"\x1f\x8b\x08"
PLAIN_MAGIC = b"WARC/1."
CHUNK = 1 << 20
FEED = 64 << 10  # compressed bytes per decompress call: keeps `unconsumed_tail` copies small
# A single record larger than this is counted and skipped (Common Crawl caps payloads at 1 MiB).
MAX_RECORD_BYTES = 64 << 20
# A corrupt member is rescanned for the next gzip header from its start when it is at most this
# long (zlib notices a cut within a few KiB); a longer one is rescanned from where it failed.
RESYNC_KEEP = 1 << 20
# WARC headers are a few hundred bytes (long URLs: a few KiB); 1 MiB is generous and bounded.
MAX_HEADER_BYTES = 1 << 20


@dataclass
class RawRecord:
    offset: int  # file offset of the gzip member / record start
    end: int | None  # offset just past it (None when cut short)
    data: bytes | None  # the uncompressed record bytes; None when unreadable
    error: str | None = None  # skip reason when `data` is None


class _Window:
    """A forward-only view of a stream: look ahead, consume, know the file offset; linear time."""

    def __init__(self, stream: BinaryIO, head: bytes = b""):
        self.stream = stream
        self.buf = bytearray(head)
        self.pos = 0  # index in `buf` of the next unconsumed byte
        self.offset = 0  # file offset of buf[pos]
        self.scanned = 0  # bytes examined by `find` (tests check it stays linear)

    def available(self) -> int:
        return len(self.buf) - self.pos

    def fill(self) -> bool:
        more = self.stream.read(CHUNK)
        if not more:
            return False
        if self.pos > len(self.buf) // 2:  # compact in place: amortised O(1) per byte
            del self.buf[:self.pos]
            self.pos = 0
        self.buf += more
        return True

    def ensure(self, n: int) -> bool:
        while self.available() < n:
            if not self.fill():
                return False
        return True

    def startswith(self, marker: bytes) -> bool:
        self.ensure(len(marker))
        return self.buf.startswith(marker, self.pos)

    def find(self, marker: bytes, limit: int) -> int | None:
        """Offset (from pos) of `marker` starting within `limit` bytes; -1 past the limit; None at EOF."""
        start = 0
        while True:
            end = min(len(self.buf), self.pos + limit + len(marker))
            idx = self.buf.find(marker, self.pos + start, end)
            self.scanned += max(end - self.pos - start, 0)
            if idx >= 0:
                return idx - self.pos
            # resume the next scan where this one stopped (minus a possibly split marker)
            start = max(start, end - self.pos - len(marker) + 1)
            if self.available() >= limit + len(marker):
                return -1
            if not self.fill():
                return None

    def take(self, n: int) -> bytes:
        out = bytes(self.buf[self.pos:self.pos + n])
        self.consume(len(out))
        return out

    def consume(self, n: int) -> None:
        self.pos += n
        self.offset += n

    def skip(self, n: int) -> bool:
        """Discard `n` bytes without holding them; False if the stream ends first."""
        while n > 0:
            if not self.available() and not self.fill():
                return False
            step = min(n, self.available())
            self.consume(step)
            n -= step
        return True

    def skip_newlines(self) -> None:
        while True:
            while self.available() and self.buf[self.pos] in b"\r\n":
                self.consume(1)
            if self.available() or not self.fill():
                return

    def resync(self, marker: bytes, past: int = 0, skip_first: bool = True) -> None:
        """Drop bytes up to the next `marker` after the current byte (plus `past` of its bytes)."""
        if skip_first:
            self.consume(min(1, self.available()))
        keep = len(marker) - 1
        while True:
            idx = self.buf.find(marker, self.pos)
            if idx >= 0:
                self.consume(idx - self.pos + past)
                return
            self.consume(max(self.available() - keep, 0))
            if not self.fill():
                self.consume(self.available())
                return


def iter_gzip_members(stream: BinaryIO, max_bytes: int = MAX_RECORD_BYTES,
                      head: bytes = b"") -> Iterator[RawRecord]:
    w = _Window(stream, head)
    while w.available() or w.fill():
        member = _Member(w, max_bytes)
        try:
            for piece in member.pieces():
                member.add(piece)
        except zlib.error:
            yield RawRecord(member.start, None, None, "corrupt_gzip_member")
            w = member.rescan_window()
            continue
        except EOFError:
            yield RawRecord(member.start, None, None, "truncated_gzip_member")
            return
        if member.size > max_bytes:
            yield RawRecord(member.start, w.offset, None, "oversize_record")
        else:
            yield RawRecord(member.start, w.offset, b"".join(member.out))


class _Member:
    """One gzip member inflated in bounded steps: output held only while it fits `max_bytes`."""

    def __init__(self, w: _Window, max_bytes: int):
        self.w, self.max_bytes, self.start = w, max_bytes, w.offset
        self.out: list[bytes] = []
        self.size = 0
        # The member's first compressed bytes, kept only to resync after corruption from its start.
        self.kept: bytearray | None = bytearray()

    def pieces(self) -> Iterator[bytes]:
        """Decompressed pieces; raises zlib.error when corrupt, EOFError when cut short."""
        d, w = zlib.decompressobj(31), self.w
        while True:
            # Output is capped per call: never more than max_bytes + 1 held, then CHUNK while discarding.
            limit = CHUNK if self.size > self.max_bytes else min(CHUNK, self.max_bytes + 1 - self.size)
            feed = bytes(w.buf[w.pos:w.pos + FEED]) if w.available() or w.fill() else b""
            piece = d.decompress(feed, limit)  # b"" input still flushes output held inside zlib
            consumed = len(feed) - len(d.unused_data if d.eof else d.unconsumed_tail)
            if self.kept is not None:
                self.kept += feed[:consumed]
                if len(self.kept) > RESYNC_KEEP:
                    self.kept = None
            w.consume(consumed)
            if piece:
                yield piece
            if d.eof:
                return
            if not feed and not piece:
                raise EOFError

    def add(self, piece: bytes) -> None:
        self.size += len(piece)
        if self.size <= self.max_bytes:
            self.out.append(piece)
        else:
            self.out.clear()

    def rescan_window(self) -> _Window:
        """A window at the next gzip header after this member's first byte."""
        if not self.kept:  # nothing consumed yet, or too long to keep: search on from here
            self.w.resync(GZIP_MAGIC)
            return self.w
        w = _Window(_Chain(bytes(self.kept[1:]), self.w))
        w.offset = self.start + 1
        w.resync(GZIP_MAGIC, skip_first=False)
        return w


class _Chain:
    """`head` bytes, then whatever `window` still holds and its stream (resync after corruption)."""

    def __init__(self, head: bytes, window: _Window):
        self.head: bytes | None = head
        self.window = window

    def read(self, n: int) -> bytes:
        if self.head is not None:
            out, self.head = self.head, None
            if out:
                return out
        w = self.window
        if w.available():
            out = w.take(w.available())
            return out
        return w.stream.read(n)


def iter_plain_records(stream: BinaryIO, max_bytes: int = MAX_RECORD_BYTES, head: bytes = b"",
                       max_header_bytes: int = MAX_HEADER_BYTES) -> Iterator[RawRecord]:
    """Records of an uncompressed WARC/WET: header block, Content-Length bytes, CRLF CRLF."""
    w = _Window(stream, head)
    while True:
        w.skip_newlines()
        if not w.available():
            return
        start = w.offset
        if not w.startswith(PLAIN_MAGIC):
            yield RawRecord(start, None, None, "corrupt_record")
            w.resync(b"\n" + PLAIN_MAGIC, past=1)
            continue
        head_end = w.find(b"\r\n\r\n", max_header_bytes)
        if head_end is None:
            yield RawRecord(start, None, None, "truncated_record")
            return
        if head_end < 0:
            yield RawRecord(start, None, None, "oversize_header")
            w.resync(b"\n" + PLAIN_MAGIC, past=1)
            continue
        length = _content_length(bytes(w.buf[w.pos:w.pos + head_end]))
        if length is None:
            yield RawRecord(start, None, None, "corrupt_record")
            w.resync(b"\n" + PLAIN_MAGIC, past=1)
            continue
        total = head_end + 4 + length
        if length > max_bytes:  # skip exactly this record: its payload may itself contain "WARC/1."
            yield RawRecord(start, start + total if w.skip(total) else None, None, "oversize_record")
            continue
        if not w.ensure(total):
            yield RawRecord(start, None, None, "truncated_record")
            return
        yield RawRecord(start, start + total, w.take(total) + b"\r\n\r\n")


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


def iter_raw_records(stream: BinaryIO, max_bytes: int = MAX_RECORD_BYTES,
                     max_header_bytes: int = MAX_HEADER_BYTES) -> Iterator[RawRecord]:
    """Gzip members or plain records, chosen by the file's first bytes (not its name)."""
    head = stream.read(3)
    if head == GZIP_MAGIC:
        yield from iter_gzip_members(stream, max_bytes, head)
    else:
        yield from iter_plain_records(stream, max_bytes, head, max_header_bytes)
