"""Typed configuration: dataclass defaults, a YAML file, then `--set key=value` overrides.

The dataclasses are the one place for defaults. A YAML file and `--set` only override them:
    spark:   {master: "local[2]"}
    catalog: {url: "postgresql://127.0.0.1/test"}
    run:     {data_root: ./data, run_id: demo}
    stages:  {dedup-minhash: {threshold: 0.8}}
`--set spark.master=local[2]` and `--set dedup-minhash.threshold=0.8` address the same keys.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import UsageError

# Published by the data DAG; the training DAG is scheduled on it.
TOKENS_ASSET_NAME = "llm_pipeline_tokens"
CURATED_ASSET_NAME = "llm_pipeline_curated"


@dataclass
class SparkConfig:
    master: str = "local[*]"  # overridden by $SPARK_MASTER, or by spark-submit's --master
    app_name: str = "llm-pipeline"
    shuffle_partitions: int = 8  # Spark's 200 default is far too many for small runs
    driver_memory: str = "2g"
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class CatalogConfig:
    # Empty means `sqlite:///<data_root>/catalog.sqlite`; $PIPELINE_CATALOG_URL overrides.
    url: str = ""


@dataclass
class RunConfig:
    data_root: str = "data"
    run_id: str = ""  # empty: taken from the output path (<data_root>/<run_id>/<stage>)
    seed: int = 1234
    # Share of documents held out (by a hash of their id, pipeline/splits.py), decided once for the
    # whole run so synth and tokenize agree; 1% as in nanoGPT/llm.c's FineWeb val shard scale.
    val_fraction: float = 0.01


@dataclass
class PipelineConfig:
    spark: SparkConfig = field(default_factory=SparkConfig)
    catalog: CatalogConfig = field(default_factory=CatalogConfig)
    run: RunConfig = field(default_factory=RunConfig)
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)

    def catalog_url(self) -> str:
        url = os.environ.get("PIPELINE_CATALOG_URL") or self.catalog.url
        return url or f"sqlite:///{Path(self.run.data_root).resolve() / 'catalog.sqlite'}"

    def stage_config(self, stage: str, cls: type) -> Any:
        """The typed config of one stage: its dataclass defaults overridden by `stages.<stage>`."""
        return build(cls, self.stages.get(stage, {}), where=f"stages.{stage}")


SECTIONS = {"spark": SparkConfig, "catalog": CatalogConfig, "run": RunConfig}


def _check_type(value: Any, hint: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(hint):
            try:
                return _check_type(value, option, where)
            except UsageError:
                continue
        raise UsageError(f"{where}: {value!r} does not fit {hint}")
    if hint is type(None):
        if value is None:
            return None
        raise UsageError(f"{where}: expected null, got {value!r}")
    if origin in (list, tuple):
        if not isinstance(value, list | tuple):
            raise UsageError(f"{where}: expected a list, got {value!r}")
        (item,) = typing.get_args(hint)[:1] or (Any,)
        return [_check_type(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise UsageError(f"{where}: expected a mapping, got {value!r}")
        _, val_hint = typing.get_args(hint) or (Any, Any)
        return {str(k): _check_type(v, val_hint, f"{where}.{k}") for k, v in value.items()}
    if dataclasses.is_dataclass(hint):
        if isinstance(value, hint):
            return value
        if not isinstance(value, dict):
            raise UsageError(f"{where}: expected a mapping, got {value!r}")
        return build(hint, value, where)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is str and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(hint, type) and not isinstance(value, hint):
        raise UsageError(f"{where}: expected {hint.__name__}, got {value!r}")
    if hint is int and isinstance(value, bool):
        raise UsageError(f"{where}: expected int, got {value!r}")
    return value


def build(cls: type, values: dict[str, Any], where: str) -> Any:
    """Instantiate dataclass `cls` from a mapping, rejecting unknown keys and wrong types."""
    if not isinstance(values, dict):
        raise UsageError(f"{where}: expected a mapping, got {values!r}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise UsageError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}")
    kwargs = {k: _check_type(v, hints[k], f"{where}.{k}") for k, v in values.items()}
    return cls(**kwargs)


def parse_override(item: str) -> tuple[list[str], Any]:
    """`a.b=value` -> (['a', 'b'], value parsed as YAML so numbers, bools and lists keep their type)."""
    if "=" not in item:
        raise UsageError(f"--set expects key=value, got {item!r}")
    key, raw = item.split("=", 1)
    path = [p for p in key.strip().split(".") if p]
    if len(path) < 2:
        raise UsageError(f"--set key must be section.key (e.g. spark.master), got {key!r}")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return path, value


def _merge(base: dict, path: list[str], value: Any) -> None:
    node = base
    for part in path[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise UsageError(f"cannot set {'.'.join(path)}: {part} is not a mapping")
    node[path[-1]] = value


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> PipelineConfig:
    raw: dict[str, Any] = {}
    if path:
        p = Path(path)
        if not p.is_file():
            raise UsageError(f"config file not found: {p}")
        try:
            raw = yaml.safe_load(p.read_text()) or {}
        except yaml.YAMLError as e:
            raise UsageError(f"config file {p} is not valid YAML: {e}") from e
        if not isinstance(raw, dict):
            raise UsageError(f"config file {p} must hold a mapping at top level")
    for item in overrides or []:
        keys, value = parse_override(item)
        if keys[0] not in SECTIONS and keys[0] != "stages":
            keys = ["stages", *keys]  # `dedup-minhash.threshold=0.8` means stages.dedup-minhash...
        _merge(raw, keys, value)
    unknown = sorted(set(raw) - set(SECTIONS) - {"stages"})
    if unknown:
        raise UsageError(f"config: unknown section(s) {', '.join(unknown)}")
    cfg = build(PipelineConfig, raw, "config")
    if os.environ.get("SPARK_MASTER") and not _has(raw, "spark", "master"):
        cfg.spark.master = os.environ["SPARK_MASTER"]
    return cfg


def _has(raw: dict, section: str, key: str) -> bool:
    return isinstance(raw.get(section), dict) and key in raw[section]


def to_dict(cfg: Any) -> dict[str, Any]:
    return dataclasses.asdict(cfg)
