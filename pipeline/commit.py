"""The commit protocol of a dataset directory: temp dir, two renames, recovery, one writer at a time.

Commit = rename OUT aside (`_tmp-<name>-old-<attempt>`), rename the finished temp to OUT,
delete the aside copy. A kill between the two renames leaves no OUT but a complete aside copy:
the next attempt puts it back before anything else (never deletes it). Two attempts on one OUT
(an Airflow retry beside a zombie task) are kept apart by a lock file next to OUT
(`_lock-<name>`, `flock`: the kernel drops it when its holder dies, so a killed attempt never
leaves a stale lock); cleanup of stale temporaries only runs under that lock, so it never deletes
the temp of a live attempt. Hadoop URIs have no such lock: one writer per OUT is the scheduler's
job there, and recovery still never deletes the aside copy.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.errors import UsageError
from pipeline.storage import filesystem, is_local, local_path

SUCCESS = "_SUCCESS"
TMP_PREFIX = "_tmp-"
LOCK_PREFIX = "_lock-"
_ATTEMPT = r"\d+-[0-9a-f]{8}"  # <pid>-<random>: crawl's default_state_dir parses this shape


def split(path: str) -> tuple[str, str]:
    path = path.rstrip("/")
    parent, _, name = path.rpartition("/")
    return parent or ".", name


def new_attempt() -> str:
    return f"{os.getpid()}-{uuid.uuid4().hex[:8]}"


def tmp_path(out: str, attempt: str) -> str:
    parent, name = split(out)
    return f"{parent}/{TMP_PREFIX}{name}-{attempt}"


def aside_path(out: str, attempt: str) -> str:
    parent, name = split(out)
    return f"{parent}/{TMP_PREFIX}{name}-old-{attempt}"


def leftovers(fs, out: str) -> tuple[list[str], list[str]]:
    """(temps, aside copies) of earlier attempts on exactly this OUT (not a sibling sharing a prefix)."""
    parent, name = split(out)
    temp = re.compile(rf"{re.escape(TMP_PREFIX + name)}-{_ATTEMPT}")
    aside = re.compile(rf"{re.escape(TMP_PREFIX + name)}-old-{_ATTEMPT}")
    names = fs.list_names(parent)
    return ([f"{parent}/{n}" for n in names if temp.fullmatch(n)],
            [f"{parent}/{n}" for n in names if aside.fullmatch(n)])


def recover(fs, out: str) -> str | None:
    """Undo what a killed attempt left: put an aside copy back if OUT is gone, drop the rest.

    Returns the path restored, if any. Call only while holding OUT's lock.
    """
    temps, asides = leftovers(fs, out)
    restored = None
    if not fs.exists(out):
        complete = [a for a in asides if fs.exists(f"{a}/{SUCCESS}")]
        if complete:  # killed between the two renames: the last good dataset is this copy
            restored = complete[0]
            fs.rename(restored, out)
    for path in temps + [a for a in asides if a != restored]:
        fs.delete(path)
    return restored


_held: dict[str, tuple[int, int]] = {}  # lock path -> (fd, depth): reentrant within one process
_held_guard = threading.Lock()


def lock_path(out: str) -> str:
    parent, name = split(out)
    return f"{parent}/{LOCK_PREFIX}{name}"


@contextmanager
def output_lock(out: str) -> Iterator[None]:
    """Hold OUT's writer lock (local paths); a second live attempt gets a one-line UsageError."""
    if not is_local(out):
        yield
        return
    path = str(local_path(lock_path(out)))
    with _held_guard:
        if path in _held:
            fd, depth = _held[path]
            _held[path] = (fd, depth + 1)
            acquired = False
        else:
            acquired = True
    if acquired:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 512, 0).decode(errors="replace").strip()
            os.close(fd)
            raise UsageError(f"{out} is being written by another attempt ({holder or 'unknown holder'}); "
                             "wait for it or stop it") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                  "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}).encode(), 0)
        with _held_guard:
            _held[path] = (fd, 1)
    try:
        yield
    finally:
        with _held_guard:
            fd, depth = _held[path]
            if depth > 1:
                _held[path] = (fd, depth - 1)
            else:
                del _held[path]
                os.close(fd)  # closing the descriptor releases the flock


def is_locked(out: str) -> bool:
    """Whether a live attempt (any process) holds OUT's lock; False for Hadoop URIs (unknown)."""
    if not is_local(out):
        return False
    path = str(local_path(lock_path(out)))
    with _held_guard:
        if path in _held:
            return True
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


@contextmanager
def atomic_directory(out: str, spark=None) -> Iterator[str]:
    """Yield a temporary directory to fill; on success it becomes `out` with `_SUCCESS`.

    Under OUT's lock: leftovers of killed attempts are recovered or removed first; on any error
    the temporary is deleted and `out` keeps whatever complete dataset it held before.
    """
    fs = filesystem(out, spark)
    parent, _ = split(out)
    fs.mkdirs(parent)
    with output_lock(out):
        recover(fs, out)
        attempt = new_attempt()
        tmp = tmp_path(out, attempt)
        try:
            yield tmp
            if not fs.exists(tmp):
                fs.mkdirs(tmp)
            if not fs.exists(f"{tmp}/{SUCCESS}"):
                fs.write_text(f"{tmp}/{SUCCESS}", "")
            commit(fs, tmp, out, attempt)
        except BaseException:
            fs.delete(tmp)
            raise


def commit(fs, tmp: str, out: str, attempt: str) -> None:
    """Swap the finished directory into place; an older complete output is replaced, not merged."""
    if fs.exists(out):
        old = aside_path(out, attempt)
        fs.rename(out, old)
        fs.rename(tmp, out)  # a kill before this line is undone by `recover` on the next attempt
        fs.delete(old)
    else:
        fs.rename(tmp, out)
