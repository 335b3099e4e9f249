"""Getting repositories: shallow clones of local git repos, caps, links, archives."""

import os
import subprocess

import pytest

from pipeline.archive_safety import ArchiveLimits, Refusals
from pipeline.github.repos import CloneError, archive_files, clone, head_commit, repo_name, walk_tree
from pipeline.github.rows import RepoPolicy, repo_rows
from pipeline.sample.github.build import TOKENIZER_REPO, archive_bytes


def test_shallow_clone_over_file_url_records_commit(mit_repo, tmp_path):
    dest = tmp_path / "clone"
    clone(f"file://{mit_repo}", dest, timeout_s=60, max_repo_bytes=10 << 20)
    expected = subprocess.run(["git", "-C", str(mit_repo), "rev-parse", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    assert head_commit(dest) == expected
    shallow = subprocess.run(["git", "-C", str(dest), "rev-parse", "--is-shallow-repository"],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert shallow == "true"
    assert {f.path for f in walk_tree(dest, 1 << 20)} == set(TOKENIZER_REPO)  # .git is never walked


def test_clone_failures_are_reasons(tmp_path):
    with pytest.raises(CloneError) as err:
        clone(f"file://{tmp_path}/missing", tmp_path / "a", timeout_s=60, max_repo_bytes=1 << 20)
    assert err.value.reason == "clone_failed"
    with pytest.raises(CloneError) as err:
        clone("ext::sh -c touch% /tmp/pwned", tmp_path / "b", timeout_s=60, max_repo_bytes=1 << 20)
    assert err.value.reason == "clone_failed" and not (tmp_path / "b").exists()


def test_clone_size_cap(mit_repo, tmp_path):
    with pytest.raises(CloneError) as err:
        clone(f"file://{mit_repo}", tmp_path / "c", timeout_s=60, max_repo_bytes=1000)
    assert err.value.reason == "repo_too_large" and not (tmp_path / "c").exists()


def test_walk_never_follows_links_out(tmp_path):
    outside = tmp_path / "secret.py"
    outside.write_text("SECRET = 1\n")
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "src" / "ok.py").write_text("x = 1\n")
    os.symlink(outside, root / "src" / "leak.py")
    os.symlink(tmp_path, root / "up")
    assert [f.path for f in walk_tree(root, 1 << 20)] == ["src/ok.py"]


def test_big_file_is_listed_but_not_read(tmp_path):
    (tmp_path / "big.py").write_bytes(b"x" * 5000)
    (files,) = list(walk_tree(tmp_path, 1000))
    assert files.size == 5000 and files.data is None


def test_archive_top_folder_is_stripped_and_names():
    files = archive_files(archive_bytes("tiny-tokenizer-main", TOKENIZER_REPO), ArchiveLimits(), Refusals())
    assert {f.path for f in files} == set(TOKENIZER_REPO)
    assert repo_name("https://github.com/owner/repo.git") == "github.com/owner/repo"
    assert repo_name("git@github.com:owner/repo.git") == "github.com/owner/repo"
    assert repo_name("/data/repos/tiny-tokenizer-main.tar.gz") == "tiny-tokenizer-main"


def test_gpl_repo_is_skipped_unless_allowed(gpl_repo):
    assert repo_rows(str(gpl_repo), RepoPolicy())[0]["reject_reason"] == "license_not_allowed"
    rows = repo_rows(str(gpl_repo), RepoPolicy(allowed_licenses=("GPL-3.0",)))
    assert [r["path"] for r in rows if r.get("text")] == ["tool.py"]


def test_hostile_repo_archive_is_counted_and_safe_files_kept(tmp_path):
    import io
    import tarfile

    from pipeline.sample.github.build import MIT, TOKENIZER_PY

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, text in (("r-main/LICENSE", MIT), ("r-main/src/ok.py", TOKENIZER_PY),
                           ("../evil.py", "x = 1\n"), ("/abs/evil.py", "x = 1\n")):
            info = tarfile.TarInfo(name)
            info.size = len(text.encode())
            tar.addfile(info, io.BytesIO(text.encode()))
        link = tarfile.TarInfo("r-main/src/leak.py")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    path = tmp_path / "r.tar.gz"
    path.write_bytes(buf.getvalue())
    rows = repo_rows(str(path), RepoPolicy())
    refused = {r["reject_reason"]: r["reject_count"] for r in rows if r.get("reject_kind") == "refused"}
    assert refused == {"path_traversal": 1, "absolute_path": 1, "link_escape": 1}
    # With unsafe members refused, the single top folder is still recognised and stripped.
    assert [r["path"] for r in rows if r.get("text")] == ["src/ok.py"]
