"""The stage contract: a stage reads inputs, returns documents and stats; the runner does the rest.

A stage subclass only says what it computes. Reading and validating inputs, the atomic write,
`_stats.json`, the catalog rows and the one-line summary are the runner's job (pipeline/runner.py),
so every stage keeps the same rules without repeating them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from pipeline.config import PipelineConfig
from pipeline.schema import validate_columns


@dataclass
class NoConfig:
    """For stages without settings of their own."""


@dataclass
class StageContext:
    spark: Any
    config: PipelineConfig
    settings: Any  # the stage's own typed config (its `config_class`)
    inputs: list[str]
    output: str
    run_id: str

    def read_documents(self):
        """All inputs as one DataFrame, validated against the document schema."""
        frames = []
        for path in self.inputs:
            df = self.spark.read.parquet(path)
            validate_columns([(f.name, f.dataType.simpleString()) for f in df.schema.fields], path)
            frames.append(df)
        out = frames[0]
        for df in frames[1:]:
            out = out.unionByName(df, allowMissingColumns=True)
        return out

    @property
    def seed(self) -> int:
        return self.config.run.seed


@dataclass
class StageResult:
    documents: Any = None  # DataFrame written as the stage output (None for file-writing stages)
    stats: dict[str, Any] = field(default_factory=dict)
    side_outputs: dict[str, Any] = field(default_factory=dict)  # name -> DataFrame, in OUT/_<name>/
    rows_in: int | None = None  # for stages whose inputs are not datasets (raw files)


class Stage:
    name: ClassVar[str]
    description: ClassVar[str] = ""
    config_class: ClassVar[type] = NoConfig
    # "documents": inputs are document datasets (must exist with _SUCCESS, validated);
    # "files": inputs are raw files/dirs/URLs the stage reads itself; "none": no input.
    input_kind: ClassVar[str] = "documents"
    # "documents": output is validated against the schema; "table": any parquet;
    # "files": the stage writes into `ctx.output` itself (a temporary directory) and returns None.
    output_kind: ClassVar[str] = "documents"

    def run(self, ctx: StageContext) -> StageResult:
        raise NotImplementedError
