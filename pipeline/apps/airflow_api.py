"""Airflow 3's REST API, as the MCP server uses it: a JWT from `/auth/token`, then `/api/v2`.

Credentials are the user's, read from the environment at each call (AIRFLOW_USERNAME /
AIRFLOW_PASSWORD by default) and never written anywhere; with the simple auth manager they are the
generated password of `make up`. Every failure (Airflow down, a refused login, Params the DAG
rejects) is an `AirflowError` with one line a person or an agent can act on.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any


class AirflowError(RuntimeError):
    pass


@dataclass
class AirflowConfig:
    url: str = "http://127.0.0.1:8080"  # `make up`'s api-server
    username_env: str = "AIRFLOW_USERNAME"
    password_env: str = "AIRFLOW_PASSWORD"
    timeout_s: float = 30.0

    @classmethod
    def from_env(cls) -> AirflowConfig:
        return cls(url=os.environ.get("AIRFLOW_API_URL", cls.url))


class AirflowClient:
    def __init__(self, cfg: AirflowConfig):
        self.cfg = cfg

    def _request(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.cfg.url.rstrip("/") + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=self.cfg.timeout_s) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as e:
            raise AirflowError(f"Airflow refused {method} {path}: HTTP {e.code}: {_detail(e.read())}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise AirflowError(f"Airflow API unreachable at {self.cfg.url}: {reason}") from None
        try:
            return json.loads(raw) if raw else {}
        except ValueError:
            raise AirflowError(f"Airflow at {self.cfg.url} answered {path} with a body that is not JSON") from None

    def token(self) -> str:
        user, password = os.environ.get(self.cfg.username_env), os.environ.get(self.cfg.password_env)
        if not user or not password:
            raise AirflowError(f"set {self.cfg.username_env} and {self.cfg.password_env} to the Airflow login "
                               "(with `make up`: admin and the password in .airflow/"
                               "simple_auth_manager_passwords.json.generated)")
        out = self._request("POST", "/auth/token", {"username": user, "password": password})
        if not isinstance(out, dict) or not out.get("access_token"):
            raise AirflowError(f"Airflow at {self.cfg.url} returned no access token")
        return str(out["access_token"])

    def trigger(self, dag_id: str, conf: dict[str, Any]) -> dict[str, Any]:
        """Create a DAG run now with `conf` as its Params; Airflow validates them against the DAG."""
        token = self.token()
        # logical_date must be given, as null, for a run "now" (422 without it: docs/facts)
        body = {"logical_date": None, "conf": conf}
        run = self._request("POST", f"/api/v2/dags/{_quote(dag_id)}/dagRuns", body, token)
        return {k: run.get(k) for k in ("dag_id", "dag_run_id", "state", "run_type", "queued_at", "conf")}

    def dag_run(self, dag_id: str, dag_run_id: str) -> dict[str, Any]:
        token = self.token()
        run = self._request("GET", f"/api/v2/dags/{_quote(dag_id)}/dagRuns/{_quote(dag_run_id)}", token=token)
        return {k: run.get(k) for k in ("dag_id", "dag_run_id", "state", "start_date", "end_date", "conf")}


def _quote(part: str) -> str:
    return urllib.parse.quote(part, safe="")


def _detail(raw: bytes) -> str:
    """FastAPI's `detail` (a string, or a list of validation errors), else the body's start."""
    try:
        detail = json.loads(raw).get("detail")
    except (ValueError, AttributeError):
        return raw[:300].decode(errors="replace")
    if isinstance(detail, list):
        return "; ".join(f"{'.'.join(map(str, d.get('loc', [])))}: {d.get('msg')}" for d in detail
                         if isinstance(d, dict))
    return str(detail)[:500]
