"""What every `python -m trainer <command>` shares: its options, its config, its user errors.

A command is a module with `add_arguments(parser)` and `run_cli(args) -> int` (trainer/cli.py lists
them). `run_cli` raises `ConfigError` (or an error its module names in `USER_ERRORS`) for anything the
user can fix; trainer/cli.py prints it as one line and exits with status 2. A command that trains
runs inside `trainer.train.distributed.run_in_group`, which tears the process group down.
"""

from __future__ import annotations

import argparse
from typing import Any

from trainer.config import ConfigError, load_config

__all__ = ["ConfigError", "add_config_options", "add_launcher_options", "config_from_args", "description"]


def description(doc: str | None) -> str:
    """A command's one-line description: the first paragraph of its module docstring."""
    return (doc or "").strip().split("\n\n")[0]


def add_config_options(parser: argparse.ArgumentParser, fields: str, example: str) -> None:
    """`--config FILE`, `--set KEY=VALUE` (repeatable) and the `--steps N` shorthand."""
    parser.add_argument("--config", help=f"YAML file of {fields} fields")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help=f"override a config key, e.g. {example}")
    parser.add_argument("--steps", type=int, help="shorthand for --set steps=N")


def add_launcher_options(parser: argparse.ArgumentParser, resume: bool = True) -> None:
    """`--resume` where a command can continue a run, and the `--local_rank=N` the deepspeed
    launcher appends (LOCAL_RANK in the environment says the same; trainer/cli.py also drops it
    when the launcher puts it before the command's name)."""
    if resume:
        parser.add_argument("--resume", action="store_true", help="continue from <out>/checkpoints/latest if any")
    parser.add_argument("--local_rank", "--local-rank", type=int, default=None, help=argparse.SUPPRESS)


def overrides(args: argparse.Namespace, **shorthands: Any) -> list[str]:
    """`--set` items, then the shorthand options that were given (`--steps 5` is `--set steps=5`)."""
    items = list(args.set)
    if getattr(args, "steps", None) is not None:
        items.append(f"steps={args.steps}")
    items += [f"{key}={value}" for key, value in shorthands.items() if value is not None]
    return items


def config_from_args(args: argparse.Namespace, cls: type, paths: dict[str, str | None], **shorthands: Any) -> Any:
    """`cls` from its defaults, `--config`, `--set` and shorthands; then the path options
    (`paths`: field -> option value) where given."""
    cfg = load_config(args.config, overrides(args, **shorthands), cls=cls)
    for name, value in paths.items():
        if value:
            setattr(cfg, name, value)
    return cfg
