"""Typed configuration: dataclass defaults, then a YAML file, then `--set key=value` overrides.

The one loader of pipeline/ and trainer/ (both import it; it imports nothing of ours). A dataclass
holds the defaults; YAML and `--set` only override them. An unknown key, or a value of the wrong
type, is a `ConfigError` naming the key and the valid names, which a command line prints as one
line before exiting with status 2.

    cfg = load(TrainConfig, "run.yaml", ["lr=3e-4", "model.n_layers=4"])
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from pathlib import Path
from typing import Any

import yaml


class ConfigError(ValueError):
    """A config file or override the user can fix: one line, exit status 2."""


def unknown_names(where: str, what: str, unknown: list[str], known: list[str]) -> ConfigError:
    """`where: unknown key(s) a (did you mean b?); known: ...` in one line."""
    guesses = [g for name in unknown for g in difflib.get_close_matches(name, known, n=1, cutoff=0.75)]
    hint = f" (did you mean {', '.join(guesses)}?)" if guesses else ""
    return ConfigError(f"{where}: unknown {what}(s) {', '.join(unknown)}{hint}; known: {', '.join(known)}")


def coerce(value: Any, hint: Any, where: str) -> Any:
    """`value` checked against (and, where lossless, converted to) the type `hint`."""
    origin = typing.get_origin(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(hint):
            try:
                return coerce(value, option, where)
            except ConfigError:
                continue
        raise ConfigError(f"{where}: {value!r} does not fit {hint}")
    if hint is type(None):
        if value is None:
            return None
        raise ConfigError(f"{where}: expected null, got {value!r}")
    if origin in (list, tuple):
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        (item,) = typing.get_args(hint)[:1] or (Any,)
        return [coerce(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        _, val_hint = typing.get_args(hint) or (Any, Any)
        return {str(k): coerce(v, val_hint, f"{where}.{k}") for k, v in value.items()}
    if dataclasses.is_dataclass(hint):
        return value if isinstance(value, hint) else build(hint, value, where)
    if hint is float and isinstance(value, str):
        try:  # YAML 1.1 reads "3e-4" (no dot) as a string
            return float(value)
        except ValueError as e:
            raise ConfigError(f"{where}: expected a number, got {value!r}") from e
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is str and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if hint is int and isinstance(value, bool):
        raise ConfigError(f"{where}: expected int, got {value!r}")
    if isinstance(hint, type) and not isinstance(value, hint):
        raise ConfigError(f"{where}: expected {hint.__name__}, got {value!r}")
    return value


def coerce_fields(cls: type, values: dict[str, Any], where: str) -> dict[str, Any]:
    """`values` checked against the fields of dataclass `cls`, refusing unknown keys."""
    if not isinstance(values, dict):
        raise ConfigError(f"{where}: expected a mapping, got {values!r}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise unknown_names(where, "key", unknown, names)
    return {k: coerce(v, hints[k], f"{where}.{k}") for k, v in values.items()}


def build(cls: type, values: dict[str, Any], where: str) -> Any:
    """Instantiate dataclass `cls` from a mapping, rejecting unknown keys and wrong types."""
    return cls(**coerce_fields(cls, values, where))


def parse_override(item: str) -> tuple[list[str], Any]:
    """`a.b=value` -> (['a', 'b'], value parsed as YAML so numbers, bools and lists keep their type)."""
    if "=" not in item:
        raise ConfigError(f"--set expects key=value, got {item!r}")
    key, raw = item.split("=", 1)
    path = [p for p in key.strip().split(".") if p]
    if not path:
        raise ConfigError(f"--set has an empty key: {item!r}")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return path, value


def set_path(raw: dict, path: list[str], value: Any) -> None:
    """raw[a][b]... = value, creating the mappings on the way."""
    node = raw
    for part in path[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"cannot set {'.'.join(path)}: {part} is not a mapping")
    node[path[-1]] = value


def read_yaml(path: str | Path) -> dict[str, Any]:
    """A YAML file holding a mapping; a missing file or invalid YAML is a one-line ConfigError."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file not found: {p}")
    try:
        raw = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(e, "problem", None) or type(e).__name__
        raise ConfigError(f"config file {p} is not valid YAML: {problem}{where}") from e
    if not isinstance(raw, dict):
        raise ConfigError(f"config file {p} must hold a mapping at top level")
    return raw


def layered(path: str | Path | None = None, overrides: list[str] | None = None) -> dict[str, Any]:
    """The YAML file's mapping (or {}) with the `--set` overrides merged in, not yet typed."""
    raw = read_yaml(path) if path else {}
    for item in overrides or []:
        set_path(raw, *parse_override(item))
    return raw


def load(cls: type, path: str | Path | None = None, overrides: list[str] | None = None) -> Any:
    """`cls` from its defaults, then the YAML file, then `--set` overrides."""
    return build(cls, layered(path, overrides), "config")


def to_dict(cfg: Any) -> dict[str, Any]:
    return dataclasses.asdict(cfg)
