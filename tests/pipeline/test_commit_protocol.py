"""The commit protocol under kills and concurrent attempts, and the catalog after a kill
(issue 17, items 7 and 9). Local directories only: no Spark needed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.catalog import Catalog
from pipeline.dataset import atomic_directory
from pipeline.errors import UsageError
from pipeline.storage import LocalFS

PY = sys.executable
REPO = Path(__file__).resolve().parents[2]


def complete(path: Path, text: str) -> None:
    path.mkdir(parents=True)
    (path / "part-0").write_text(text)
    (path / "_SUCCESS").write_text("")


def test_a_kill_between_the_two_renames_keeps_the_last_good_dataset(tmp_path, monkeypatch):
    out = tmp_path / "run" / "stage"
    complete(out, "v1")
    renames = []
    real_rename = LocalFS.rename

    def killed_at_second_rename(self, src, dst):
        renames.append((src, dst))
        if len(renames) == 2:
            raise KeyboardInterrupt("killed between the renames")  # nothing after this line runs
        real_rename(self, src, dst)

    monkeypatch.setattr(LocalFS, "rename", killed_at_second_rename)
    with pytest.raises(KeyboardInterrupt), atomic_directory(str(out)) as tmp:
        complete(Path(tmp), "v2")
    monkeypatch.setattr(LocalFS, "rename", real_rename)
    assert not out.exists()  # the state a kill leaves: OUT renamed aside, the new one not in place

    # The next attempt fails too (before committing): the last good dataset must survive it.
    with pytest.raises(RuntimeError), atomic_directory(str(out)):
        raise RuntimeError("this attempt fails as well")
    assert (out / "part-0").read_text() == "v1" and (out / "_SUCCESS").exists()
    assert sorted(p.name for p in out.parent.iterdir() if p.name.startswith("_tmp-")) == []


def test_an_aside_copy_left_after_the_second_rename_is_dropped(tmp_path):
    out = tmp_path / "run" / "stage"
    complete(out, "v2")
    complete(tmp_path / "run" / "_tmp-stage-old-123-abcdef01", "v1")
    with atomic_directory(str(out)) as tmp:
        complete(Path(tmp), "v3")
    assert (out / "part-0").read_text() == "v3"
    assert [p.name for p in out.parent.iterdir() if p.name.startswith("_tmp-")] == []


def test_cleanup_leaves_a_sibling_output_sharing_the_name_prefix_alone(tmp_path):
    sibling_tmp = tmp_path / "run" / "_tmp-dedup-exact-123-abcdef01"
    complete(sibling_tmp, "the other stage's attempt")
    with atomic_directory(str(tmp_path / "run" / "dedup")) as tmp:
        complete(Path(tmp), "x")
    assert sibling_tmp.exists()


SECOND_ATTEMPT = """
import sys
from pipeline.dataset import atomic_directory
from pipeline.errors import UsageError
try:
    with atomic_directory(sys.argv[1]) as tmp:
        pass
except UsageError as e:
    print(f"error: {e}")
    sys.exit(2)
"""


def test_a_second_attempt_on_one_out_neither_deletes_nor_commits(tmp_path):
    out = tmp_path / "run" / "stage"
    complete(out, "v1")
    with atomic_directory(str(out)) as tmp:
        complete(Path(tmp), "first attempt")
        second = subprocess.run([PY, "-c", SECOND_ATTEMPT, str(out)], capture_output=True, text=True,
                                cwd=REPO, timeout=120)
        assert second.returncode == 2, second.stdout + second.stderr
        assert "being written by another attempt" in second.stdout and f"pid {os.getpid()}" in \
            second.stdout.replace('"pid": ', "pid ")
        assert Path(tmp).exists()  # the live attempt's temp survived the other's start
    assert (out / "part-0").read_text() == "first attempt"


HOLD_LOCK = """
import sys, time
from pipeline.commit import output_lock
with output_lock(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.read()
"""


def test_killed_attempts_are_marked_in_the_catalog_on_the_next_start(tmp_path):
    from pipeline.runner import attempt_is_gone

    catalog = Catalog(f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    catalog.init()
    dead, live = str(tmp_path / "run" / "dead"), str(tmp_path / "run" / "live")
    catalog.start_run("run", str(tmp_path), "{}")
    catalog.start_stage("run", "dead-stage", dead)
    catalog.start_stage("run", "live-stage", live)
    catalog.start_stage("run", "remote-stage", "s3a://bucket/run/remote")
    holder = subprocess.Popen([PY, "-c", HOLD_LOCK, live], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, cwd=REPO)
    try:
        assert holder.stdout.readline().strip() == "held"
        marked = catalog.mark_killed(attempt_is_gone)
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    assert marked == [("run", "dead-stage")]
    _, rows = catalog.query("SELECT stage, status FROM stage_outputs ORDER BY stage")
    # A remote output's liveness is unknown: it is left alone rather than marked wrongly.
    assert rows == [("dead-stage", "killed"), ("live-stage", "running"), ("remote-stage", "running")]


def test_an_unreachable_postgres_catalog_is_one_line():
    catalog = Catalog("postgresql://user:s3cret@127.0.0.1:1/catalog")  # nothing listens on port 1
    with pytest.raises(UsageError) as err:
        catalog.init()
    message = str(err.value)
    assert message.startswith("catalog unreachable at postgresql://user:***@127.0.0.1:1/catalog: ")
    assert "s3cret" not in message and "\n" not in message


def test_the_cli_says_so_in_one_line_and_exits_2(tmp_path):
    env = {**os.environ, "PIPELINE_CATALOG_URL": "postgresql://user:s3cret@127.0.0.1:1/catalog"}
    out = subprocess.run([PY, "-m", "pipeline", "catalog", "runs"], capture_output=True, text=True,
                         env=env, cwd=REPO, timeout=120)
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1 and "catalog unreachable" in out.stderr
