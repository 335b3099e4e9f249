"""trainer/orchestration.py: where the tokens come from, and the commands the training DAG runs."""

import shlex
import sys
from collections import namedtuple
from types import SimpleNamespace

import pytest

from trainer.cli import parser_for
from trainer.orchestration import (
    dag_export_command,
    dag_pretrain_command,
    default_out_dir,
    pretrain_command,
    resolve_tokens_dir,
)

ASSET = "llm_pipeline_tokens"
PARAMS = {"tokens_dir": "", "data_root": "/data", "data_run_id": "", "out_dir": "", "preset": "tiny", "steps": 50,
          "zero_stage": 2, "micro_batch_size": 8, "grad_accum": 1, "lr": 0.0, "num_procs": 1, "hostfile": "",
          "config_file": ""}


AssetKey = namedtuple("AssetKey", "name uri")  # hashable, with .name, like Airflow's Asset keys


def events(*extras, name=ASSET):
    return {AssetKey(name, name): [SimpleNamespace(extra=e) for e in extras]}


def test_tokens_dir_precedence():
    assert resolve_tokens_dir("/x/tokens", events({"tokens_dir": "/y"}), ASSET, "/data", "r1") == "/x/tokens"
    assert resolve_tokens_dir("", events({"tokens_dir": "/old"}, {"tokens_dir": "/new"}), ASSET, "/d", "") == "/new"
    assert resolve_tokens_dir("", events({"tokens_dir": "/y"}, name="other_asset"), ASSET, "/d", "r1") == "/d/r1/tokens"
    assert resolve_tokens_dir("", {}, ASSET, "/data", "r1") == "/data/r1/tokens"
    with pytest.raises(ValueError, match="tokens_dir"):
        resolve_tokens_dir("", None, ASSET, "/data", "")


def test_default_out_dir_sits_beside_the_tokens():
    assert default_out_dir("/data/r1/tokens", "manual__2026-01-01T00:00:00+00:00") == \
        "/data/r1/pretrain/manual__2026-01-01T00_00_00_00_00"


@pytest.mark.parametrize("num_procs, hostfile, launcher", [
    (1, "", ["python", "-m", "trainer", "train"]),
    (4, "", ["deepspeed", "--num_gpus", "4", "--module", "trainer", "train"]),
    (4, "/etc/hosts.ds", ["deepspeed", "--hostfile", "/etc/hosts.ds", "--module", "trainer", "train"]),
])
def test_pretrain_command_is_what_a_user_types(num_procs, hostfile, launcher):
    cmd = pretrain_command(tokens_dir="/d/r/tokens", out_dir="/d/r/pretrain/x", preset="tiny", steps=10,
                           zero_stage=3, micro_batch_size=4, grad_accum=2, lr=1e-3, num_procs=num_procs,
                           hostfile=hostfile)
    argv = shlex.split(cmd)
    assert argv[:len(launcher)] == launcher
    # what follows the launcher parses with the trainer's own CLI
    args = parser_for("train").parse_args(argv[len(launcher):])
    assert (args.data, args.out, args.preset, args.steps, args.resume) == ("/d/r/tokens", "/d/r/pretrain/x", "tiny",
                                                                           10, True)
    assert args.set == ["zero_stage=3", "micro_batch_size=4", "grad_accum=2", "lr=0.001"]


def test_dag_macros_agree_on_the_run_dir():
    params = {**PARAMS, "data_run_id": "r9", "out_dir": ""}
    pre = shlex.split(dag_pretrain_command(params, None, "manual__1", ASSET))
    exp = shlex.split(dag_export_command(params, None, "manual__1", ASSET))
    out = pre[pre.index("--out") + 1]
    assert out == "/data/r9/pretrain/manual__1"
    assert exp == ["python", "-m", "trainer", "export", "--checkpoint", out, "--out", f"{out}/hf"]


def test_orchestration_imports_nothing_heavy():
    """The DAG imports trainer.orchestration at parse time: no torch, no deepspeed."""
    import subprocess

    code = "import sys, trainer.orchestration; print(sorted(m for m in ('torch', 'deepspeed') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
