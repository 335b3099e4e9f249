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
    # Input rows `read_documents` set aside (null required column, invalid UTF-8), with their reason.
    invalid_input: Any = None
    input_rejects_attached: bool = False  # set by account_input_rejects: `_rejected/` will hold them

    def read_documents(self):
        """All inputs as one DataFrame, validated against the document schema.

        Rows no stage can process (a null `id`/`text`/`source`, a string that is not UTF-8) are
        left out here and kept in `invalid_input`; the runner counts them under `rejected` in
        `_stats.json` and writes them to `OUT/_rejected/` (see `account_input_rejects`).
        """
        from pipeline.parquet_input import read_parquet_dataset

        frames = []
        for path in self.inputs:
            df = read_parquet_dataset(self.spark, path)
            validate_columns([(f.name, f.dataType.simpleString()) for f in df.schema.fields], path)
            frames.append(df)
        out = frames[0]
        for df in frames[1:]:
            out = out.unionByName(df, allowMissingColumns=True)
        self.invalid_input = None  # a second read of the same inputs must not count them twice
        return self.set_aside_invalid(out)

    def set_aside_invalid(self, docs):
        """`docs` without the rows no stage can process, which are kept for `account_input_rejects`.

        For a stage that reads its document inputs itself rather than through `read_documents`.
        """
        from pyspark.sql import functions as F

        from pipeline.rejects import RAW, RAW_LIMIT, REASON, invalid_document_reason, string_columns

        out = docs.withColumn(REASON, invalid_document_reason(string_columns(docs)))
        # Invalid UTF-8 would break Arrow in the excerpt too: keep the raw bytes' valid rendering.
        raw = F.substring(F.expr("make_valid_utf8(text)"), 1, RAW_LIMIT)
        invalid = out.filter(F.col(REASON).isNotNull()).select(
            F.expr("make_valid_utf8(id)").alias("id"), F.expr("make_valid_utf8(url)").alias("url"),
            F.expr("make_valid_utf8(source)").alias("source"), REASON, raw.alias(RAW))
        self.invalid_input = invalid if self.invalid_input is None else self.invalid_input.unionByName(invalid)
        return out.filter(F.col(REASON).isNull()).drop(REASON)

    def account_input_rejects(self, result: StageResult) -> StageResult:
        """Add the rows `read_documents` set aside to the stage's `_rejected` side output.

        They are counted once written (`count_input_rejects`): reading the small side output
        again is cheap, a separate pass over the input to count them was not (benchmarks/input_checks.py).
        """
        if self.invalid_input is None:
            return result
        self.input_rejects_attached = True
        previous = result.side_outputs.get("rejected")
        result.side_outputs["rejected"] = (self.invalid_input if previous is None else
                                           previous.unionByName(self.invalid_input, allowMissingColumns=True))
        return result

    def count_input_rejects(self, stats: dict, out_dir: str) -> dict:
        """Add the reasons of the input rows written to `out_dir/_rejected/` to `stats["rejected"]`."""
        from pyspark.sql import functions as F

        from pipeline.rejects import INPUT_REASONS, REASON, add_counts

        if self.invalid_input is None or not self.input_rejects_attached:  # e.g. a skipped stage's pass-through
            return stats
        written = self.spark.read.parquet(f"{out_dir}/_rejected")
        counts = {r[REASON]: int(r["count"]) for r in written.filter(F.col(REASON).isin(*INPUT_REASONS))
                  .groupBy(REASON).count().collect()}
        return add_counts(stats, "rejected", counts)

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

    def input_dataset(self, path: str) -> str:
        """The document dataset an input path holds (checked before Spark starts). A stage that also
        reads another stage's output folder (tokenize reads synth's) points into it."""
        return path

    def run(self, ctx: StageContext) -> StageResult:
        raise NotImplementedError
