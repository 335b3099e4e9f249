"""Dedup benchmark (issue #5), one run, same data: signatures/s vs datasketch, pair precision/recall
against brute-force exact Jaccard, and dedup-minhash stage time at N and 2N documents.

    .venv/bin/python benchmarks/dedup.py [--base 600] [--n 2000]
    .venv/bin/python benchmarks/dedup.py --real /tmp/corpus     # real text vs datasketch, datatrove

`--real DIR` (a corpus from benchmarks/corpus.py) runs instead, per factor (1x/4x/16x): the
dedup-minhash stage, datasketch and datatrove; see benchmarks/dedup_real.py.

Planted corpus: `--base` random documents of 150 words, each with near-copies whose 5-gram Jaccard
is drawn uniformly from [0.5, 1.0] (tests/dedup/planted.py), plus the other documents as noise.
Truth = every pair with exact Jaccard >= 0.8 over the shingle *strings*, by a sparse incidence
product (all pairs, no LSH). Found = the Spark path's verified pairs (the stage's own feature
function, `candidate_pairs` and `verify_pairs`), collected here only to score them.
"""

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]  # benchmarks/tokenize.py
sys.path.insert(0, os.path.dirname(_HERE))

import argparse  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from benchmarks.minhash import main as minhash_main  # noqa: E402
from pipeline.dedup.shingles import shingles, tokens  # noqa: E402
from tests.dedup.planted import near_copy, random_words  # noqa: E402

THRESHOLD = 0.8


def planted_corpus(base: int, seed: int = 3) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    docs = []
    for i in range(base):
        words = random_words(rng, 150)
        docs.append((f"d{i:05d}a", " ".join(words)))
        for j in range(rng.choice((1, 1, 2))):
            docs.append((f"d{i:05d}{'bc'[j]}", " ".join(near_copy(words, rng.uniform(0.5, 1.0), rng))))
    return docs


def true_pairs(docs: list[tuple[str, str]]) -> set[tuple[str, str]]:
    from scipy.sparse import csr_matrix

    vocab: dict[tuple, int] = {}
    rows, cols = [], []
    for r, (_, text) in enumerate(docs):
        for sh in set(shingles(tokens(text), 5)):
            rows.append(r)
            cols.append(vocab.setdefault(sh, len(vocab)))
    x = csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(docs), len(vocab)))
    sizes = np.asarray(x.sum(axis=1)).ravel()
    inter = (x @ x.T).tocoo()
    out = set()
    for i, j, v in zip(inter.row, inter.col, inter.data, strict=True):
        if i < j and v / (sizes[i] + sizes[j] - v) >= THRESHOLD:
            out.add((docs[i][0], docs[j][0]))
    return out


def write_docs(spark, docs, path: Path) -> str:
    from pipeline.schema import spark_schema

    rows = [{"id": i, "text": t, "source": "web", "url": None, "title": None, "lang": "en",
             "lang_score": None, "fetched_at": None, "metadata": None} for i, t in docs]
    spark.createDataFrame(rows, spark_schema()).repartition(4).write.mode("overwrite").parquet(str(path))
    (path / "_SUCCESS").touch()
    return str(path)


def found_pairs(spark, src: str) -> set[tuple[str, str]]:
    from pyspark.sql import functions as F

    from pipeline.dedup.candidates import candidate_pairs, verify_pairs
    from pipeline.dedup.lsh_params import optimal_bands_rows
    from pipeline.jobs.dedup_minhash import FEATURES_SCHEMA, DedupMinhashConfig, _signature_batches

    s = DedupMinhashConfig()
    bands, rows = optimal_bands_rows(s.threshold, s.num_perm, s.fp_weight, s.fn_weight)
    feats = spark.read.parquet(src).select("id", "text").mapInPandas(
        _signature_batches(s, bands, rows), FEATURES_SCHEMA)
    feats = feats.cache()
    pairs = candidate_pairs(feats.select("id", F.posexplode("keys").alias("band", "key")), s.max_bucket)
    verified = verify_pairs(pairs, feats, s.verify, s.threshold, s.num_perm)
    return {(r["src"], r["dst"]) for r in verified.collect()}


def main() -> None:
    ap = argparse.ArgumentParser(description="dedup benchmark")
    ap.add_argument("--base", type=int, default=600)
    ap.add_argument("--n", type=int, default=2000, help="documents for the N vs 2N stage timing")
    ap.add_argument("--sig-docs", type=int, default=5000)
    ap.add_argument("--real", metavar="DIR", help="corpus from benchmarks/corpus.py: compare with the peers")
    ap.add_argument("--factors", nargs="*", help="with --real: only these factors (e.g. 1x 4x)")
    ap.add_argument("--skip", nargs="*", default=[], choices=["ours", "datasketch", "datatrove"])
    args = ap.parse_args()
    if args.real:
        from benchmarks.dedup_real import main as real_main

        real_main(Path(args.real), args.factors, set(args.skip))
        return

    print("== 1. signatures/s ==")
    minhash_main(["--docs", str(args.sig_docs)])

    from pipeline.config import SparkConfig, load_config
    from pipeline.runner import run_stage
    from pipeline.spark import get_spark

    tmp = Path(tempfile.mkdtemp(prefix="dedup-bench-"))
    os.environ["PIPELINE_CATALOG_URL"] = f"sqlite:///{tmp / 'catalog.sqlite'}"
    spark = get_spark(SparkConfig(master="local[2]", shuffle_partitions=4, driver_memory="2g"))
    try:
        print("\n== 2. pair precision / recall vs brute-force exact Jaccard >= 0.8 ==")
        docs = planted_corpus(args.base)
        truth = true_pairs(docs)
        found = found_pairs(spark, write_docs(spark, docs, tmp / "planted"))
        tp = len(truth & found)
        precision = tp / len(found) if found else 1.0
        recall = tp / len(truth) if truth else 1.0
        print(f"  {len(docs)} docs, {len(truth)} true pairs, {len(found)} found, {tp} correct")
        print(f"  precision {precision:.4f} (goal >= 0.97)   recall {recall:.4f} (goal >= 0.95)")

        print("\n== 3. dedup-minhash stage time at N and 2N documents (local[2]) ==")
        times = {}
        for n in (args.n, 2 * args.n):
            corpus = planted_corpus(n // 2 + 1, seed=n)[:n]
            src = write_docs(spark, corpus, tmp / f"in{n}")
            cfg = load_config(None, [f"run.data_root={tmp}"])
            start = time.perf_counter()
            summary = run_stage("dedup-minhash", [src], str(tmp / "run" / f"out{n}"), cfg, spark=spark)
            times[n] = time.perf_counter() - start
            print(f"  N={n:>6}: {times[n]:6.1f}s  ({summary.rows_in} in, {summary.rows_out} kept)")
        print(f"  ratio 2N / N = {times[2 * args.n] / times[args.n]:.2f}x (goal <= 2.3x)")
    finally:
        spark.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
