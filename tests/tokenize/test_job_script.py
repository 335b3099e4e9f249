"""`python pipeline/jobs/<stage>.py` (how spark-submit runs a stage) puts pipeline/jobs/ on sys.path,
where jobs/tokenize.py shares its name with the stdlib module linecache/inspect import."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_job_files_run_as_scripts_despite_the_stdlib_name():
    for job in ("tokenize", "mix"):
        done = subprocess.run([sys.executable, f"pipeline/jobs/{job}.py", "--help"], cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        assert "--output" in done.stdout
    done = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, 'pipeline/jobs'); "
                           "import tokenize; assert hasattr(tokenize, 'generate_tokens'), tokenize.__file__"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
