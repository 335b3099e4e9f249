"""Fault-tolerant WARC reading: damaged members are counted, every good record is still read."""

from __future__ import annotations

import io
from collections import Counter

from pipeline.web.records import parse_record
from pipeline.web.warc_read import iter_raw_records
from pipeline.web.warc_write import reconcile
from tests.web.warc_fixtures import GOOD, LATIN1_TEXT, LATIN1_URL, damaged_warc, pair, wet_file


def read_all(data: bytes):
    rows, reasons = [], Counter()
    for raw in iter_raw_records(io.BytesIO(data)):
        for row, reason, _ in parse_record(raw, "f"):
            if row:
                rows.append(row)
            else:
                reasons[reason] += 1
    return rows, reasons


def test_damaged_gzip_warc_keeps_every_good_record(tmp_path):
    rows, reasons = read_all(damaged_warc(tmp_path / "d.warc.gz").read_bytes())
    urls = {r["url"] for r in rows}
    assert urls == {u for u, _ in GOOD} | {LATIN1_URL}
    latin = next(r for r in rows if r["url"] == LATIN1_URL)
    assert LATIN1_TEXT in latin["html"] and latin["charset_source"] == "declared"
    assert reasons["corrupt_gzip_member"] == 1  # the member cut in the middle
    assert reasons["truncated_gzip_member"] == 1  # the member cut at the end of the file
    assert reasons["http_status_4xx"] == 1 and reasons["non_html_content_type"] == 1
    # 9 whole pairs + the intact request members of the two cut pairs
    assert reasons["not_a_response:request"] == 11 and reasons["not_a_response:warcinfo"] == 1


def test_plain_warc_resyncs_after_garbage():
    from warcio.warcwriter import WARCWriter

    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=False)
    for url, html in GOOD[:3]:
        from warcio.statusandheaders import StatusAndHeaders

        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.0")
        writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(html.encode()),
                                                      http_headers=http))
        if url.endswith("page0.html"):
            buf.write(b"this is not a warc record\r\n\r\n")
    rows, reasons = read_all(buf.getvalue())
    assert [r["url"] for r in rows] == [u for u, _ in GOOD[:3]]
    assert reasons == {"corrupt_record": 1}


def test_wet_conversion_records_are_read_as_text(tmp_path):
    texts = {"http://a.test/": "Plain extracted text one.", "http://b.test/": "Zweiter Text."}
    for gz in (False, True):
        rows, reasons = read_all(wet_file(tmp_path / f"x{gz}.wet", texts, gzip=gz).read_bytes())
        assert {r["url"]: r["text"] for r in rows} == texts and not reasons


def test_reconcile_cuts_a_partial_tail_and_counts_responses(tmp_path):
    d = tmp_path / "warc"
    d.mkdir()
    good = pair("http://s.test/a", b"<html>a</html>") + pair("http://s.test/b", b"<html>b</html>")
    partial = pair("http://s.test/c", b"<html>c</html>")
    (d / "crawl-00000.warc.gz").write_bytes(good + partial[: len(partial) - 30])
    assert reconcile(d) == {"http://s.test/a": 1, "http://s.test/b": 1}
    assert (d / "crawl-00000.warc.gz").stat().st_size == len(good)
