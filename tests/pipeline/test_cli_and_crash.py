"""The CLI surface, spark-submit entry, and a stage killed mid-write."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.registry import job_path

PY = sys.executable
SPARK_SUBMIT = str(Path(PY).parent / "spark-submit")


def _env(data_root):
    env = dict(os.environ)
    env["PIPELINE_CATALOG_URL"] = f"sqlite:///{data_root / 'catalog.sqlite'}"
    return env


def _cli(*args, env=None):
    return subprocess.run([PY, "-m", "pipeline", *args], capture_output=True, text=True, env=env, timeout=300)


def test_help_lists_stages_with_descriptions():
    out = _cli("--help")
    assert out.returncode == 0
    assert "ingest-jsonl" in out.stdout and "Normalise text" in out.stdout


@pytest.mark.parametrize("args, message", [
    (["no-such-stage", "--input", "x", "--output", "y"], "unknown stage 'no-such-stage'"),
    (["normalize", "--input", "/nonexistent/in", "--output", "/tmp/o"], "input not found: /nonexistent/in"),
    (["normalize", "--input", "x", "--output", "y", "--set", "oops"], "--set expects key=value"),
    (["catalog", "stages"], "needs --run"),
])
def test_user_errors_are_one_line_and_exit_2(args, message, data_root):
    out = _cli(*args, env=_env(data_root))
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip().splitlines() == [f"error: {message}"] or message in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_killed_stage_leaves_nothing_and_rerun_matches(tmp_path, data_root, run_stage_in, spark):
    src = tmp_path / "big.jsonl"
    with src.open("w") as f:
        for i in range(20_000):
            f.write(json.dumps({"text": f"document {i} " + "word " * 40, "url": f"http://h/{i}"}) + "\n")
    reference = data_root / "ref" / "ingest-jsonl"
    run_stage_in("ingest-jsonl", [src], reference)

    out = data_root / "crash" / "ingest-jsonl"
    proc = subprocess.Popen([PY, "-m", "pipeline", "ingest-jsonl", "--input", str(src), "--output", str(out)],
                            env=_env(data_root), start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while time.time() < deadline and not list(out.parent.glob("_tmp-ingest-jsonl-*")):
        assert proc.poll() is None, "stage finished before it could be killed"
        time.sleep(0.05)
    assert list(out.parent.glob("_tmp-ingest-jsonl-*")), "never saw the temporary output"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not out.exists(), "a killed stage must not leave a dataset at OUT"

    # Rerun under spark-submit (each job file is also a spark-submit application).
    rerun = subprocess.run([SPARK_SUBMIT, "--master", "local[2]", str(job_path("ingest-jsonl")),
                            "--input", str(src), "--output", str(out)],
                           env=_env(data_root), capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "[ingest-jsonl] succeeded" in rerun.stdout
    assert not list(out.parent.glob("_tmp-*")), "stale temporaries are cleaned on rerun"
    rows = lambda p: {tuple(r) for r in spark.read.parquet(str(p)).drop("fetched_at").collect()}  # noqa: E731
    assert rows(out) == rows(reference)


@pytest.mark.slow
def test_hostile_inputs_through_the_real_cli(tmp_path, data_root):
    """One process each, as a user runs them: set aside and exit 0, or one line and exit 2; never a traceback."""
    from tests.hostile import corpus

    hostile = corpus.jsonl_file(tmp_path / "in")
    out = _cli("ingest-jsonl", "--input", str(hostile), "--output", str(data_root / "r" / "ingest-jsonl"),
               "--set", "ingest-jsonl.max_line_bytes=250000", env=_env(data_root))
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr[-3000:]
    stats = json.loads((data_root / "r" / "ingest-jsonl" / "_stats.json").read_text())
    assert stats["rejected"] == {r: 1 for r in corpus.hostile_lines()}

    broken = corpus.success_only(tmp_path / "only-success")
    out = _cli("normalize", "--input", str(broken), "--output", str(data_root / "r" / "normalize"),
               env=_env(data_root))
    assert out.returncode == 2  # checked before Spark starts: nothing else on stderr
    assert out.stderr.strip().splitlines() == [
        f"error: input is not a Parquet dataset: {broken} holds no Parquet part files (only _SUCCESS)"]

    empty = corpus.empty_inputs(tmp_path / "empty")["empty_dir"]
    out = _cli("ingest-jsonl", "--input", str(empty), "--output", str(data_root / "r" / "empty"), env=_env(data_root))
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr[-3000:]
    # Known only once Spark has listed the input, so Spark's start-up notices may precede it.
    assert [line for line in out.stderr.splitlines() if line.startswith("error:")] == [
        f"error: ingest-jsonl: no records in {empty} (empty files or blank lines); "
        "set ingest-jsonl.allow_empty=true for an empty run"]
