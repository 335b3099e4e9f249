"""A real Airflow api-server on 127.0.0.1 for the MCP tests: its own AIRFLOW_HOME and SQLite DB,
this repo's DAGs serialized into it, the simple auth manager with a password made for the test.

No scheduler runs, so a triggered DAG run stays queued: enough to check what the REST API accepts.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.dags.test_local_executor_postgres import _free_port, _wait_http


@dataclass
class AirflowServer:
    url: str
    username: str
    password: str


@contextmanager
def airflow_api_server(home: Path) -> Iterator[AirflowServer]:
    home.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(16)
    passwords = home / "passwords.json"
    passwords.write_text(json.dumps({"admin": password}))
    passwords.chmod(0o600)
    port = _free_port()
    env = dict(os.environ, AIRFLOW_HOME=str(home),
               AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
               AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="admin:admin",
               AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(passwords),
               AIRFLOW__API_AUTH__JWT_SECRET=secrets.token_urlsafe(32), AIRFLOW__CORE__PARALLELISM="2")
    airflow = str(Path(sys.executable).parent / "airflow")
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True, timeout=600)
    subprocess.run([airflow, "dags", "reserialize"], env=env, check=True, capture_output=True, timeout=600)
    api = subprocess.Popen([airflow, "api-server", "--host", "127.0.0.1", "--port", str(port)], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_http(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=240)
        yield AirflowServer(f"http://127.0.0.1:{port}", "admin", password)
    finally:
        os.killpg(api.pid, signal.SIGTERM)
        api.wait(timeout=60)
