"""`python -m trainer`: one entry point lists and runs every command; user errors exit 2 in one line."""

import importlib
import subprocess
import sys

import pytest

from trainer.cli import COMMANDS, main, parser_for, without_local_rank


def test_help_lists_every_command(capsys):
    assert main(["--help"]) == 0
    listed = capsys.readouterr().out
    for command in COMMANDS:
        assert f"  {command.name} " in listed


@pytest.mark.parametrize("command", [c for c in COMMANDS if c.name != "lm-eval"], ids=lambda c: c.name)
def test_every_command_has_a_parser_and_a_runner(command):
    module = importlib.import_module(command.module)
    assert callable(module.run_cli)
    assert parser_for(command.name).prog == f"python -m trainer {command.name}"


def test_unknown_command_is_one_line_and_status_2(capsys):
    assert main(["trian"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "train" in err


def test_the_deepspeed_launchers_local_rank_is_dropped_before_the_command():
    """`deepspeed --module trainer train ...` runs `python -m trainer --local_rank=0 train ...`."""
    assert without_local_rank(["--local_rank=1", "train", "--steps", "3"]) == ["train", "--steps", "3"]
    assert without_local_rank(["--local-rank", "0", "sft", "--out", "o"]) == ["sft", "--out", "o"]



def test_a_config_error_is_one_line_and_status_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("steps: [unclosed\n")
    proc = subprocess.run([sys.executable, "-m", "trainer", "train", "--config", str(bad), "--data", "d", "--out", "o"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "not valid YAML" in proc.stderr and "Traceback" not in proc.stderr
