"""Secret files are owner-only and the embedded Airflow listens on 127.0.0.1 only (issue 17, item 9).

`make compose-env` runs for real in a temporary copy of the Makefile; `make up` is checked by its
dry run (`make -n`), which prints the exact commands it would run."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_compose_env_writes_an_owner_only_file(tmp_path):
    shutil.copy(REPO / "Makefile", tmp_path / "Makefile")
    out = subprocess.run(["make", "compose-env", f"PY={sys.executable}"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60, preexec_fn=lambda: os.umask(0o022))  # a typical login umask
    assert out.returncode == 0, out.stderr
    env = tmp_path / ".env"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert "POSTGRES_PASSWORD=" in env.read_text()


def test_make_up_binds_loopback_and_keeps_the_password_file_private(tmp_path):
    out = subprocess.run(["make", "-n", "up", f"AIRFLOW_HOME={tmp_path}"], cwd=REPO, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    script = out.stdout
    assert "airflow standalone" not in script  # it starts log servers bound to every interface
    lines = [line.strip() for line in script.splitlines()]
    scheduler = next(x for x in lines if "airflow scheduler" in x)
    triggerer = next(x for x in lines if "airflow triggerer" in x)
    api = next(x for x in lines if "airflow api-server" in x)
    assert "--skip-serve-logs" in scheduler and "--skip-serve-logs" in triggerer
    assert "--host 127.0.0.1" in api
    passwords = tmp_path / "simple_auth_manager_passwords.json.generated"
    assert f"chmod 600 {passwords}" in script
    # every component starts under umask 077 (files it creates are owner-only)
    assert script.index("umask 077") < script.index("airflow scheduler")
