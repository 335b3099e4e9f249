"""The WARC reader is bounded: gzip bombs, long members and endless headers cost bounded memory and
linear scanning (issue 17, item 4). Inputs are small generated files; memory is measured with
tracemalloc (the reader's own allocations), scanning by counting bytes examined, never by time."""

from __future__ import annotations

import io
import os
import tracemalloc
import zlib

import pytest

from pipeline.web import warc_read
from pipeline.web.warc_read import CHUNK, iter_raw_records
from tests.web.warc_fixtures import pair

MIB = 1 << 20


def gzip_member(chunks) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    return b"".join(c.compress(x) for x in chunks) + c.flush()


def read_with_peak(data: bytes, **kw) -> tuple[list, int]:
    stream = io.BytesIO(data)
    tracemalloc.start()
    try:
        got = [(r.error, None if r.data is None else len(r.data)) for r in iter_raw_records(stream, **kw)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return got, peak


def test_gzip_bomb_is_set_aside_with_bounded_memory():
    # 64 MiB of zeros in one ~64 KiB member: the unbounded reader inflated it in one call.
    bomb = gzip_member(bytes(MIB) for _ in range(64))
    assert len(bomb) < MIB
    good = pair("http://s.test/after", b"<html>still read</html>")
    got, peak = read_with_peak(bomb + good, max_bytes=MIB)
    assert got[0] == ("oversize_record", None)
    assert [e for e, _ in got[1:]] == [None, None]  # the request and response after the bomb
    assert peak < MIB + 4 * CHUNK, f"reader held {peak / MIB:.1f} MiB for a 1 MiB limit"


def test_long_gzip_member_is_not_accumulated():
    # 16 MiB of incompressible bytes in one member: over the limit, so nothing but a bounded
    # window of it may be held (the old reader grew `raw += more` to the whole member).
    member = gzip_member(os.urandom(MIB) for _ in range(16))
    got, peak = read_with_peak(member + pair("http://s.test/b", b"<html>b</html>"), max_bytes=MIB)
    assert [e for e, _ in got] == ["oversize_record", None, None]
    assert peak < 2 * MIB + 4 * CHUNK, f"reader held {peak / MIB:.1f} MiB for a 1 MiB limit"


def test_each_compressed_byte_is_fed_once(monkeypatch):
    fed, real = [], zlib.decompressobj

    class Counting:
        def __init__(self, wbits):
            self.d = real(wbits)

        def decompress(self, data, max_length=0):
            fed.append(len(data))
            return self.d.decompress(data, max_length)

        def __getattr__(self, name):
            return getattr(self.d, name)

    monkeypatch.setattr(warc_read.zlib, "decompressobj", Counting)
    member = gzip_member(os.urandom(MIB) for _ in range(6))
    got = [r.error for r in iter_raw_records(io.BytesIO(member), max_bytes=64 * MIB)]
    assert got == [None]
    # Each call's unconsumed tail is fed again; FEED-sized slices keep that re-feeding small.
    assert sum(fed) < 1.1 * len(member) + warc_read.FEED * 8


@pytest.fixture
def windows(monkeypatch):
    made = []

    class Recorded(warc_read._Window):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            made.append(self)

    monkeypatch.setattr(warc_read, "_Window", Recorded)
    return made


def test_unterminated_plain_header_is_scanned_once(windows):
    data = b"WARC/1.0\r\nWARC-Type: response\r\n" + b"x" * (8 * MIB)
    got = [r.error for r in iter_raw_records(io.BytesIO(data), max_header_bytes=64 * MIB)]
    assert got == ["truncated_record"]
    scanned = sum(w.scanned for w in windows)
    # The old reader rescanned the growing buffer after every 1 MiB read (~36 MiB here).
    assert scanned < 1.1 * len(data), f"scanned {scanned / MIB:.1f} MiB of an {len(data) / MIB:.0f} MiB header"


def test_oversize_header_is_set_aside_and_reading_goes_on(windows):
    huge = b"WARC/1.0\r\nX-Junk: " + b"a" * (3 * MIB) + b"\r\n\r\n"
    data = huge + plain_record(b"http://s.test/ok", b"<html>ok</html>")
    got = [(r.error, r.offset) for r in iter_raw_records(io.BytesIO(data), max_header_bytes=64 * 1024)]
    assert got == [("oversize_header", 0), (None, len(huge))]
    assert max(len(w.buf) for w in windows) < 4 * CHUNK


def test_oversize_plain_record_is_skipped_by_its_length():
    # Its payload holds a line that looks like a record start: skipping by Content-Length,
    # not by searching for "WARC/1.", keeps that fake record out.
    fake = b"\nWARC/1.0\r\nContent-Length: 2\r\n\r\nhi\r\n\r\n"
    big = plain_record(b"http://s.test/big", fake + b"z" * 5000)
    small = plain_record(b"http://s.test/ok", b"<html>ok</html>")
    got = [(r.error, r.offset) for r in iter_raw_records(io.BytesIO(big + small), max_bytes=1000)]
    assert got == [("oversize_record", 0), (None, len(big))]


def plain_record(url: bytes, payload: bytes) -> bytes:
    head = (b"WARC/1.0\r\nWARC-Type: resource\r\nWARC-Target-URI: " + url
            + b"\r\nContent-Length: " + str(len(payload)).encode() + b"\r\n\r\n")
    return head + payload + b"\r\n\r\n"
