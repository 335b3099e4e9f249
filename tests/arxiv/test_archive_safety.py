"""Hostile archives: traversal, absolute paths, links, bombs and caps are refused and counted."""

import io
import os
import tarfile
import zipfile

from pipeline.archive_safety import (
    ArchiveLimits,
    ArchiveRefused,
    Refusals,
    extract_to,
    gunzip,
    iter_archive,
    iter_tar,
)
from pipeline.sample.arxiv.build import add_file, gzip_bytes, tar_bytes
from tests.arxiv.conftest import bomb_payload, hostile_bundle


def test_hostile_bundle_yields_only_the_safe_member_and_counts_the_rest():
    refusals = Refusals()
    data = hostile_bundle()
    names = [m.name for m in iter_tar(io.BytesIO(data), len(data), ArchiveLimits(), refusals)]
    # The bomb is a safe *name* in the outer tar; its payload is refused one layer down.
    assert names == ["2301/2301.00001v2.gz", "2301/2301.00007v1.gz"]
    assert refusals == {"path_traversal": 1, "absolute_path": 1, "link_escape": 1}


def test_bomb_payload_is_refused_by_ratio_before_full_decompression():
    payload = bomb_payload()
    try:
        gunzip(payload, ArchiveLimits())
        raise AssertionError("bomb was decompressed")
    except ArchiveRefused as exc:
        assert exc.reason == "compression_ratio"


def test_bomb_tar_gz_stream_refused_even_when_members_are_skipped():
    refusals = Refusals()
    payload = bomb_payload()
    limits = ArchiveLimits(max_member_bytes=1024)  # the member is skipped, not read
    assert list(iter_tar(io.BytesIO(payload), len(payload), limits, refusals)) == []
    assert refusals["compression_ratio"] == 1


def test_total_size_and_member_count_caps():
    data = tar_bytes({f"f{i}.tex": b"x" * 2000 for i in range(10)})  # ~26 KB of tar
    refusals = Refusals()
    limits = ArchiveLimits(max_total_bytes=20_000, ratio_floor_bytes=1 << 30)
    got = list(iter_archive(data, limits, refusals))
    assert 0 < len(got) < 10 and refusals == {"total_too_large": 1}
    refusals = Refusals()
    got = list(iter_archive(data, ArchiveLimits(max_members=3), refusals))
    assert len(got) == 3 and refusals == {"too_many_members": 1}


def test_internal_link_is_not_followed_but_not_an_escape():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        add_file(tar, "a/real.tex", b"real")
        link = tarfile.TarInfo("a/alias.tex")
        link.type, link.linkname = tarfile.SYMTYPE, "real.tex"
        tar.addfile(link)
        hard = tarfile.TarInfo("a/hard.tex")
        hard.type, hard.linkname = tarfile.LNKTYPE, "/etc/shadow"
        tar.addfile(hard)
    refusals = Refusals()
    members = list(iter_archive(buf.getvalue(), ArchiveLimits(), refusals))
    assert [m.name for m in members] == ["a/real.tex"]
    assert refusals == {"link": 1, "link_escape": 1}


def test_zip_traversal_symlink_and_corrupt_input():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("ok/file.txt", "fine")
        zf.writestr("../../evil.txt", "evil")
        zf.writestr("C:/windows/evil.txt", "evil")
        link = zipfile.ZipInfo("ok/link")
        link.external_attr = 0o120777 << 16
        zf.writestr(link, "../../../etc/passwd")
    refusals = Refusals()
    members = list(iter_archive(buf.getvalue(), ArchiveLimits(), refusals))
    assert [m.name for m in members] == ["ok/file.txt"]
    assert refusals == {"path_traversal": 1, "absolute_path": 1, "link_escape": 1}
    refusals = Refusals()
    assert list(iter_archive(b"PK\x03\x04garbage", ArchiveLimits(), refusals)) == []
    assert refusals == {"corrupt_archive": 1}


def test_extract_to_writes_nothing_outside_dest(tmp_path):
    dest = tmp_path / "run" / "extract"
    dest.mkdir(parents=True)
    data = gzip_bytes(hostile_bundle())
    refusals = Refusals()
    written = extract_to(iter_archive(data, ArchiveLimits(), refusals), dest, refusals)
    assert sorted(p.relative_to(dest).as_posix() for p in written) == [
        "2301/2301.00001v2.gz", "2301/2301.00007v1.gz"]
    everything = [os.path.join(d, f) for d, _, files in os.walk(tmp_path) for f in files]
    assert all(path.startswith(str(dest)) for path in everything)
    assert not (tmp_path / "run" / "escape.gz").exists() and not (tmp_path / "escape.gz").exists()
    assert refusals == {"path_traversal": 1, "absolute_path": 1, "link_escape": 1}
