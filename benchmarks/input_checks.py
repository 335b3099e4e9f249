"""Cost of the per-row input checks every document stage now runs (issue 17), one run, same data.

    .venv/bin/python benchmarks/input_checks.py [--docs 200000] [--chars 2000] [--repeat 3]

Data: `--docs` generated documents of `--chars` characters (plain ASCII words, all valid), one
Parquet dataset. Baseline: `spark.read.parquet` + a JVM-only pass over `text` (sha2, count), the
shape of dedup-exact. Checked: the same pass over `StageContext.read_documents()` (null required
columns and `is_valid_utf8` on every string column), plus writing the rows set aside to
`_rejected/` and counting their reasons there, as the runner does. Prints best-of-`--repeat`
seconds and the ratio checked / baseline.
"""

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]  # benchmarks/tokenize.py
sys.path.insert(0, os.path.dirname(_HERE))

import argparse  # noqa: E402
import random  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=200_000)
    ap.add_argument("--chars", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    from pyspark.sql import functions as F

    from pipeline.config import PipelineConfig, SparkConfig
    from pipeline.spark import get_spark
    from pipeline.stage import NoConfig, StageContext, StageResult

    spark = get_spark(SparkConfig(master="local[2]", shuffle_partitions=4))
    words = [f"w{i}" for i in range(5000)]
    rng = random.Random(0)
    vocab = " ".join(rng.choice(words) for _ in range(args.chars))[: args.chars]
    path = tempfile.mkdtemp(prefix="input-checks-") + "/docs"
    spark.range(args.docs).select(
        F.col("id").cast("string").alias("id"), F.concat(F.col("id").cast("string"), F.lit(vocab)).alias("text"),
        F.lit("web").alias("source"), F.lit("https://example.org/").alias("url"),
        F.lit(None).cast("string").alias("title"), F.lit("en").alias("lang"), F.lit(0.9).alias("lang_score"),
        F.lit("2026-01-01").alias("fetched_at"), F.lit("{}").alias("metadata")).write.parquet(path)

    def baseline() -> None:
        spark.read.parquet(path).select(F.sha2("text", 256).alias("h")).agg(F.count("h")).collect()

    def checked() -> None:
        ctx = StageContext(spark=spark, config=PipelineConfig(), settings=NoConfig(), inputs=[path],
                           output="", run_id="bench")
        ctx.read_documents().select(F.sha2("text", 256).alias("h")).agg(F.count("h")).collect()
        # What the runner then does: write the rows set aside to _rejected/ and count them there.
        result = ctx.account_input_rejects(StageResult())
        out = tempfile.mkdtemp(prefix="input-checks-out-")
        result.side_outputs["rejected"].write.mode("overwrite").parquet(f"{out}/_rejected")
        ctx.count_input_rejects(result.stats, out)

    def best(fn) -> float:
        fn()  # warm-up: JIT, file cache
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return min(times)

    base, check = best(baseline), best(checked)
    print(f"{args.docs:,} docs x {args.chars} chars, local[2]: baseline {base:.2f}s, "
          f"with input checks {check:.2f}s, ratio {check / base:.2f}x")


if __name__ == "__main__":
    main()
