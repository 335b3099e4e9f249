"""Tokenize stage throughput (tokens/s per core) against a bare `tokenizers` `encode_batch` loop.

Both sides encode the same documents (chunks of the Python standard library's source: English
docstrings and code, offline) with the same tokenizer.json (byte-level BPE, 8k vocabulary, trained
once beforehand). The baseline is `Tokenizer.encode_batch` over batches of 1,000 texts on CORES
rayon threads; the stage runs on `local[CORES]` with `tokenize.tokenizer_path` set (no training) and
is timed by the runner (`seconds`: reading, encoding, the global shuffle order, shard writing, the
index; Spark start-up excluded). Prints both rates and their ratio.

    .venv/bin/python benchmarks/tokenize_speed.py [--mb 20] [--cores 1]
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file shares its name with the stdlib `tokenize` (which pandas imports): take its own folder
# off sys.path before anything imports it, and put the repo root on instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sysconfig  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402


def corpus(mb: float, chunk: int = 4000) -> list[str]:
    texts, size = [], 0
    for path in sorted(Path(sysconfig.get_paths()["stdlib"]).rglob("*.py")):
        try:
            src = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for i in range(0, len(src), chunk):
            texts.append(src[i:i + chunk])
            size += len(texts[-1].encode())
            if size >= mb * 1e6:
                return texts
    return texts


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=20.0)
    ap.add_argument("--cores", type=int, default=1)
    args = ap.parse_args()
    os.environ["RAYON_NUM_THREADS"] = str(args.cores)  # the pool size tokenizers' encode_batch uses
    import pyarrow as pa
    import pyarrow.parquet as pq
    from tokenizers import Tokenizer

    from pipeline.config import load_config
    from pipeline.runner import run_stage
    from pipeline.schema import CORE_COLUMNS
    from pipeline.spark import get_spark
    from pipeline.tokenize.bpe import train_bpe

    work = Path(tempfile.mkdtemp(prefix="bench-tokenize-"))
    os.environ["PIPELINE_CATALOG_URL"] = f"sqlite:///{work / 'catalog.sqlite'}"  # never the real catalog
    texts = corpus(args.mb)
    tok = train_bpe(texts[:2000], 8192)
    tok.save(str(work / "tokenizer.json"))
    n = len(texts)
    cols = {c: [None] * n for c in CORE_COLUMNS}
    cols.update(id=[f"d{i}" for i in range(n)], text=texts, source=["github"] * n)
    table = pa.Table.from_arrays([pa.array(cols[c], type=t) for c, (t, _) in CORE_COLUMNS.items()],
                                 names=list(CORE_COLUMNS))
    (work / "docs").mkdir()
    pq.write_table(table, work / "docs" / "part-00000.parquet", row_group_size=2000)
    (work / "docs" / "_SUCCESS").touch()

    base_tok = Tokenizer.from_file(str(work / "tokenizer.json"))
    started = time.perf_counter()
    base_tokens = 0
    for i in range(0, n, 1000):
        base_tokens += sum(len(e.ids) for e in base_tok.encode_batch(texts[i:i + 1000], add_special_tokens=False))
    base_s = time.perf_counter() - started

    cfg = load_config(None, [f"run.data_root={work}", f"spark.master=local[{args.cores}]",
                             f"spark.shuffle_partitions={max(2, args.cores)}",
                             f"tokenize.tokenizer_path={work / 'tokenizer.json'}"])
    spark = get_spark(cfg.spark)
    spark.range(1).count()  # warm the JVM before timing
    run_stage("tokenize", [str(work / "docs")], str(work / "b" / "tokens"), cfg, spark=spark)
    stats = json.loads((work / "b" / "tokens" / "_stats.json").read_text())
    stage_tokens = stats["tokens"]["train"] + stats["tokens"]["val"] - stats["rows_out"]  # minus EOS
    stage_s = stats["seconds"]
    base_rate, stage_rate = base_tokens / base_s / args.cores, stage_tokens / stage_s / args.cores
    print(f"corpus: {n:,} docs, {sum(len(t.encode()) for t in texts) / 1e6:.1f} MB, {base_tokens:,} tokens; "
          f"cores {args.cores}")
    print(f"baseline tokenizers encode_batch: {base_rate:,.0f} tokens/s/core ({base_s:.2f}s)")
    print(f"tokenize stage:                  {stage_rate:,.0f} tokens/s/core ({stage_s:.2f}s)")
    print(f"stage phases (s): {stats['phase_seconds']}")
    print(f"ratio stage/baseline: {stage_rate / base_rate:.2f}")
    assert stage_tokens == base_tokens, (stage_tokens, base_tokens)
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
