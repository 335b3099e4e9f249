"""A Spark standalone cluster on 127.0.0.1 from pyspark's own `spark-class` (no Docker, no Spark download).

    python -m pipeline.cluster start [--workers 2 --cores 1 --memory 2g --port 7077 --webui-port 8090]
    python -m pipeline.cluster stop

`make cluster` / `make cluster-stop` call these. One master and N workers run as detached processes; their
PIDs go to `<state>/*.pid` (default build/spark-cluster/) and `stop` ends exactly those (SIGTERM to each
process group it started, SIGKILL after a grace period), never anything found by name. `start` returns once
the master's JSON endpoint lists every worker ALIVE. Point a stage at it with
`--set spark.master=spark://127.0.0.1:7077`, or the DAGs with spark_default's host.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

DEFAULT_STATE = Path("build/spark-cluster")


@dataclass
class ClusterConfig:
    workers: int = 2
    cores: int = 1  # per worker: two workers x one core use this machine's two cores
    memory: str = "2g"  # per worker, for its executors
    port: int = 7077  # the standalone master's default
    webui_port: int = 8090  # not 8080: airflow's api-server takes that (Makefile)
    state: Path = DEFAULT_STATE

    @property
    def url(self) -> str:
        return f"spark://127.0.0.1:{self.port}"


def spark_class() -> str:
    import pyspark

    return str(Path(pyspark.__file__).parent / "bin" / "spark-class")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    env.setdefault("PYSPARK_PYTHON", sys.executable)  # executors' Python workers need the venv (pandas)
    return env


def _spawn(cfg: ClusterConfig, name: str, args: list[str]) -> int:
    log = open(cfg.state / f"{name}.log", "ab")  # noqa: SIM115 (handed to the child)
    proc = subprocess.Popen([spark_class(), *args], stdout=log, stderr=subprocess.STDOUT, env=_env(),
                            start_new_session=True)  # its own process group: stop ends the JVM and its children
    (cfg.state / f"{name}.pid").write_text(str(proc.pid))
    return proc.pid


def master_state(cfg: ClusterConfig) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{cfg.webui_port}/json/", timeout=2) as r:
            return json.loads(r.read())
    except OSError:
        return None


def start(cfg: ClusterConfig, timeout: float = 120.0) -> str:
    cfg.state.mkdir(parents=True, exist_ok=True)
    if any(cfg.state.glob("*.pid")):
        raise RuntimeError(f"{cfg.state} holds PID files: a cluster may be running (stop it first)")
    _spawn(cfg, "master", ["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port",
                           str(cfg.port), "--webui-port", str(cfg.webui_port)])
    for i in range(cfg.workers):
        work = cfg.state / f"work-{i}"
        work.mkdir(exist_ok=True)
        _spawn(cfg, f"worker-{i}", ["org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                                    "--cores", str(cfg.cores), "--memory", cfg.memory, "--webui-port", "0",
                                    "--work-dir", str(work.resolve()), cfg.url])
    deadline = time.time() + timeout
    while time.time() < deadline:
        state = master_state(cfg)
        alive = [w for w in (state or {}).get("workers", []) if w.get("state") == "ALIVE"]
        if len(alive) >= cfg.workers:
            return cfg.url
        time.sleep(1)
    stop(cfg)
    raise RuntimeError(f"cluster did not come up within {timeout:.0f}s: see {cfg.state}/*.log")


def stop(cfg: ClusterConfig, grace: float = 15.0) -> list[int]:
    pids = {}
    for f in sorted(cfg.state.glob("*.pid")):
        pids[f] = int(f.read_text().strip())
    for pid in pids.values():
        _signal_group(pid, signal.SIGTERM)
    deadline = time.time() + grace
    while time.time() < deadline and any(_alive(p) for p in pids.values()):
        time.sleep(0.3)
    for pid in pids.values():
        if _alive(pid):
            _signal_group(pid, signal.SIGKILL)
    for f in pids:
        f.unlink(missing_ok=True)
    return list(pids.values())


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)  # the group we created with start_new_session (its leader is pid)


def _alive(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)  # reap it when it is our own child
        if waited == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m pipeline.cluster", description=__doc__.split("\n")[0])
    p.add_argument("action", choices=["start", "stop"])
    p.add_argument("--workers", type=int, default=ClusterConfig.workers)
    p.add_argument("--cores", type=int, default=ClusterConfig.cores)
    p.add_argument("--memory", default=ClusterConfig.memory)
    p.add_argument("--port", type=int, default=ClusterConfig.port)
    p.add_argument("--webui-port", type=int, default=ClusterConfig.webui_port)
    p.add_argument("--state", type=Path, default=DEFAULT_STATE)
    a = p.parse_args(argv)
    cfg = ClusterConfig(a.workers, a.cores, a.memory, a.port, a.webui_port, a.state)
    if a.action == "start":
        try:
            print(f"spark standalone master {start(cfg)} with {cfg.workers} workers "
                  f"(UI http://127.0.0.1:{cfg.webui_port}, logs {cfg.state}/)")
        except RuntimeError as e:
            print(f"cluster: {e}", file=sys.stderr)
            return 2
    else:
        print(f"stopped {len(stop(cfg))} processes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
