"""GitHub fixtures: local git repositories made with `git init` in a temporary folder."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pipeline.sample.github.build import COPYLEFT_REPO, TOKENIZER_REPO, write_tree


def git_repo(root: Path, files: dict[str, str]) -> Path:
    write_tree(root, files)
    git = ["git", "-c", "user.name=Fixture", "-c", "user.email=fixture@example.invalid", "-C", str(root)]
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "fixture"], check=True)
    return root


@pytest.fixture
def mit_repo(tmp_path) -> Path:
    return git_repo(tmp_path / "tiny-tokenizer", TOKENIZER_REPO)


@pytest.fixture
def gpl_repo(tmp_path) -> Path:
    return git_repo(tmp_path / "copyleft-tool", COPYLEFT_REPO)
