"""Getting a repository's files: shallow `git clone` with a timeout and size cap, a local
checkout, or a tar/zip archive (read through pipeline.archive_safety).

Symlinks in a checkout are never followed, `.git` is never read, and a clone that grows past
the size cap or the time limit is killed and its directory removed.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline.archive_safety import ArchiveLimits, Refusals, iter_archive

ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip")
# Only these transports: `ext::` and friends would let a URL run a command.
_GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_ALLOW_PROTOCOL": "file:http:https:ssh:git",
            "GIT_LFS_SKIP_SMUDGE": "1", "GIT_CONFIG_NOSYSTEM": "1"}


class CloneError(Exception):
    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass
class RepoFile:
    path: str  # relative POSIX path inside the repository
    size: int
    data: bytes | None  # None when not read (over the per-file cap)


def is_remote(locator: str) -> bool:
    return bool(re.match(r"^(https?|git|ssh|file)://", locator)) or bool(re.match(r"^[\w.-]+@[\w.-]+:", locator))


def repo_name(locator: str) -> str:
    """`https://github.com/o/r.git` -> `github.com/o/r`; a path or archive -> its base name."""
    if is_remote(locator) and not locator.startswith("file://"):
        name = re.sub(r"^[a-z+]+://([^@/]+@)?", "", locator)
        name = re.sub(r"^[\w.-]+@([\w.-]+):", r"\1/", name)
        return re.sub(r"\.git$", "", name.rstrip("/"))
    base = posixpath.basename(locator.rstrip("/"))
    for suffix in ARCHIVE_SUFFIXES:
        if base.endswith(suffix):
            return base[: -len(suffix)]
    return re.sub(r"\.git$", "", base)


def _tree_bytes(root: Path) -> int:
    total = 0
    for dirpath, _, files in os.walk(root):
        for f in files:
            with contextlib.suppress(OSError):  # a file removed mid-walk
                total += os.lstat(os.path.join(dirpath, f)).st_size
    return total


def clone(url: str, dest: Path, timeout_s: float, max_repo_bytes: int, poll_s: float = 0.2) -> None:
    """Shallow, single-branch clone; raises CloneError(clone_failed|clone_timeout|repo_too_large)."""
    cmd = ["git", "-c", "core.hooksPath=/dev/null", "-c", "protocol.file.allow=always", "clone",
           "--depth", "1", "--single-branch", "--no-tags", "--quiet", url, str(dest)]
    env = {**os.environ, **_GIT_ENV}
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    started = time.monotonic()
    reason = None
    while proc.poll() is None:
        if time.monotonic() - started > timeout_s:
            reason = "clone_timeout"
        elif dest.exists() and _tree_bytes(dest) > max_repo_bytes:
            reason = "repo_too_large"
        if reason:
            proc.kill()
            proc.wait()
            shutil.rmtree(dest, ignore_errors=True)
            raise CloneError(reason, url)
        time.sleep(poll_s)
    stderr = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    if proc.returncode != 0:
        shutil.rmtree(dest, ignore_errors=True)
        raise CloneError("clone_failed", stderr.strip()[:500])
    if _tree_bytes(dest) > max_repo_bytes:
        shutil.rmtree(dest, ignore_errors=True)
        raise CloneError("repo_too_large", url)


def head_commit(root: Path) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=30, env={**os.environ, **_GIT_ENV})
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def walk_tree(root: Path, max_file_bytes: int) -> Iterator[RepoFile]:
    """Regular files under `root` in sorted order; links and `.git` are skipped, big files not read."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d != ".git" and not os.path.islink(os.path.join(dirpath, d)))
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            if not os.path.isfile(full) or os.path.islink(full):
                continue
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            if st.st_size > max_file_bytes:
                yield RepoFile(rel, st.st_size, None)
                continue
            with open(full, "rb") as f:
                yield RepoFile(rel, st.st_size, f.read(max_file_bytes + 1))


def archive_files(data: bytes, limits: ArchiveLimits, refusals: Refusals) -> list[RepoFile]:
    """Files of a repository archive; GitHub's single top-level `<repo>-<ref>/` folder is removed."""
    members = [m for m in iter_archive(data, limits, refusals) if m.name]
    tops = {m.name.split("/", 1)[0] for m in members}
    strip = len(tops) == 1 and all("/" in m.name for m in members)
    return [RepoFile(m.name.split("/", 1)[1] if strip else m.name, len(m.data), m.data) for m in members]
