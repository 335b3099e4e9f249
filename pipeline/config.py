"""Typed configuration: dataclass defaults, a YAML file, then `--set key=value` overrides.

The dataclasses are the one place for defaults. A YAML file and `--set` only override them:
    spark:   {master: "local[2]"}
    catalog: {url: "postgresql://127.0.0.1/test"}
    run:     {data_root: ./data, run_id: demo}
    stages:  {dedup-minhash: {threshold: 0.8}}
`--set spark.master=local[2]` and `--set dedup-minhash.threshold=0.8` address the same keys.
The loader is typed_config's (shared with trainer/); a section that names no stage, an unknown
key or a wrong type is a UsageError naming the valid names (one line, exit status 2).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typed_config
from pipeline.errors import UsageError
from typed_config import ConfigError, to_dict

__all__ = ["PipelineConfig", "build", "load_config", "parse_override", "to_dict"]

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


@contextlib.contextmanager
def _usage_errors() -> Iterator[None]:
    """typed_config's ConfigError as pipeline's UsageError (what the pipeline CLI reports)."""
    try:
        yield
    except ConfigError as e:
        raise UsageError(str(e)) from e


def build(cls: type, values: dict[str, Any], where: str) -> Any:
    """Instantiate dataclass `cls` from a mapping, rejecting unknown keys and wrong types."""
    with _usage_errors():
        return typed_config.build(cls, values, where)


def parse_override(item: str) -> tuple[list[str], Any]:
    """`a.b=value` -> (['a', 'b'], value parsed as YAML so numbers, bools and lists keep their type)."""
    with _usage_errors():
        path, value = typed_config.parse_override(item)
    if len(path) < 2:
        raise UsageError(f"--set key must be section.key (e.g. spark.master), got {item.split('=', 1)[0]!r}")
    return path, value


def _check_sections(raw: dict[str, Any]) -> None:
    """Top-level sections, and `stages:` sections, must name a section or a stage: a misspelt stage
    (`dedup_minhash`) would otherwise run silently with its defaults."""
    from pipeline.registry import stage_names

    unknown = sorted(set(raw) - set(SECTIONS) - {"stages"})
    if unknown:
        raise typed_config.unknown_names("config", "section", unknown, [*SECTIONS, "stages"])
    stages = raw.get("stages") or {}
    if not isinstance(stages, dict):
        raise ConfigError(f"config.stages: expected a mapping of stage names, got {stages!r}")
    unknown = sorted(set(stages) - set(stage_names()))
    if unknown:
        raise typed_config.unknown_names("config.stages", "stage", unknown, stage_names())


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> PipelineConfig:
    with _usage_errors():
        raw = typed_config.read_yaml(path) if path else {}
        for item in overrides or []:
            keys, value = parse_override(item)
            if keys[0] not in SECTIONS and keys[0] != "stages":
                keys = ["stages", *keys]  # `dedup-minhash.threshold=0.8` means stages.dedup-minhash...
            typed_config.set_path(raw, keys, value)
        _check_sections(raw)
        cfg = typed_config.build(PipelineConfig, raw, "config")
    if os.environ.get("SPARK_MASTER") and not _has(raw, "spark", "master"):
        cfg.spark.master = os.environ["SPARK_MASTER"]
    return cfg


def _has(raw: dict, section: str, key: str) -> bool:
    return isinstance(raw.get(section), dict) and key in raw[section]
