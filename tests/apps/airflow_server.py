"""A real Airflow api-server on 127.0.0.1 for the MCP tests: its own AIRFLOW_HOME and SQLite DB,
this repo's DAGs serialized into it, the simple auth manager with a password made for the test.

No scheduler runs, so a triggered DAG run stays queued: enough to check what the REST API accepts.
`launch` returns at once (migrate, reserialize and the server run in one background shell), so a
test module can build its other fixtures meanwhile; `ready` waits for the health endpoint.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.dags.test_local_executor_postgres import _free_port, _wait_http


@dataclass
class AirflowServer:
    url: str
    username: str
    password: str
    process: subprocess.Popen
    log: Path

    def ready(self, timeout: float = 600) -> AirflowServer:
        try:
            _wait_http(f"{self.url}/api/v2/monitor/health", timeout=timeout)
        except TimeoutError:
            raise RuntimeError(f"Airflow api-server not healthy; log:\n{self.log.read_text()[-3000:]}") from None
        return self

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=60)


def launch(home: Path) -> AirflowServer:
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
    airflow = shlex.quote(str(Path(sys.executable).parent / "airflow"))
    script = (f"{airflow} db migrate && {airflow} dags reserialize && "
              f"exec {airflow} api-server --host 127.0.0.1 --port {port}")
    log = home / "launch.log"
    with log.open("w") as out:
        proc = subprocess.Popen(["bash", "-c", script], env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    return AirflowServer(f"http://127.0.0.1:{port}", "admin", password, proc, log)
