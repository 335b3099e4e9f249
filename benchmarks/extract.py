"""Extract stage throughput (pages/s per core) against a bare `trafilatura.extract` loop.

Both sides see the same decoded pages (the `ingest-warc` output of the generated sample site,
repeated under several seeds). The baseline is a plain Python loop of
`trafilatura.extract(html, url=url, with_metadata=True)` on one core: the same extraction work
the stage does, without Spark, Arrow, language id, stats or the Parquet write. The stage runs on
`local[CORES]` and is timed by the runner (its `seconds`, all of the stage's Spark jobs and its
write included; Spark session start-up excluded). Prints the ratio; the issue's target is a
pipeline overhead of at most 25% (ratio >= 0.80).

    .venv/bin/python benchmarks/extract.py [--seeds 3] [--cores 1]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

# benchmarks/ holds scripts named like stdlib modules (tokenize.py): run from the repo root instead.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))


def write_warcs(out: Path, seeds: int) -> int:
    from pipeline.sample.web import build_pages
    from pipeline.web.warc_write import exchange_bytes

    out.mkdir(parents=True, exist_ok=True)
    n = 0
    for s in range(seeds):
        parts = []
        for p in build_pages(seed=1000 + s):
            parts.append(exchange_bytes(url=f"https://seed{s}.example{p.path}", fetched_at="2026-11-01T00:00:00Z",
                                        request_headers=[], status_line="200 OK",
                                        response_headers=[("Content-Type", "text/html")], body=p.body()))
            n += 1
        (out / f"sample-{s}.warc.gz").write_bytes(b"".join(parts))
    return n


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3, help="copies of the ~200-page sample site")
    ap.add_argument("--cores", type=int, default=1)
    args = ap.parse_args()
    import trafilatura

    from pipeline.config import load_config
    from pipeline.runner import run_stage
    from pipeline.spark import get_spark

    work = Path(tempfile.mkdtemp(prefix="bench-extract-"))
    os.environ.setdefault("PIPELINE_CATALOG_URL", f"sqlite:///{work}/catalog.sqlite")
    pages = write_warcs(work / "warc", args.seeds)
    cfg = load_config(None, [f"run.data_root={work}", f"spark.master=local[{args.cores}]",
                             f"spark.shuffle_partitions={args.cores}"])
    spark = get_spark(cfg.spark)
    run_stage("ingest-warc", [str(work / "warc")], str(work / "b" / "ingest-warc"), cfg, spark=spark)
    rows = spark.read.parquet(str(work / "b" / "ingest-warc")).select("url", "html").toPandas()

    def bare_loop() -> float:
        started = time.perf_counter()
        for url, html in zip(rows["url"], rows["html"], strict=True):
            trafilatura.extract(html, url=url, with_metadata=True)
        return len(rows) / (time.perf_counter() - started)

    # The machine is shared: bracket the stage with baseline runs and compare against their mean.
    before = bare_loop()
    summary = run_stage("extract", [str(work / "b" / "ingest-warc")], str(work / "b" / "extract"), cfg,
                        spark=spark)
    stage_rate = summary.rows_in / summary.seconds / args.cores
    after = bare_loop()
    bare_rate = (before + after) / 2
    ratio = stage_rate / bare_rate
    print(f"pages: {pages} (stage rows in {summary.rows_in}), cores: {args.cores}")
    print(f"extract stage:        {stage_rate:7.1f} pages/s per core ({summary.seconds:.1f} s)")
    print(f"bare trafilatura loop:{bare_rate:7.1f} pages/s (1 core; before {before:.1f}, after {after:.1f})")
    print(f"ratio stage/bare: {ratio:.2f}  (pipeline overhead {100 * (1 / ratio - 1):.0f}%; target <= 25%)")
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
