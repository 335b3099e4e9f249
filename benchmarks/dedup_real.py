"""Near-duplicate dedup on real text (issue 21): dedup-minhash vs datasketch vs datatrove, same docs.

    .venv/bin/python benchmarks/dedup.py --real /tmp/corpus [--factors 1x 4x 16x]

DIR is a corpus from benchmarks/corpus.py (DIR/<k>x/docs.parquet). Per factor, in one run:
- ours: the dedup-minhash stage through `pipeline.runner.run_stage` (local[2], default settings);
- datasketch: one process, `MinHash.bulk` (default sha1 hash) + `MinHashLSH(threshold=0.8,
  num_perm=128)` over our shingles (same tokens, word 5-grams), union-find over its query results;
- datatrove: its 3 MinHash steps (signatures, buckets, clusters; its defaults: 5-grams, 14x8
  hashes) with LocalPipelineExecutor, 2 workers, run by /tmp/dt-venv/bin/python (never a project
  dependency: `python3 -m venv /tmp/dt-venv && /tmp/dt-venv/bin/pip install datatrove==0.10.1
  pyarrow spacy`).
Times are wall seconds from reading the Parquet to the clusters (ours also writes its output).

Truth: exact Jaccard >= 0.8 of the documents' sets of word 5-gram hashes (our tokenizer), every
pair (a sparse incidence product in row blocks), closed transitively into clusters, since each tool
keeps one document per cluster. Precision/recall count same-cluster document pairs (pair-counting
on the cluster contingency table): precision = pairs a tool put together that truth puts together.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

THRESHOLD = 0.8
NUM_PERM = 128
DT_PYTHON = Path("/tmp/dt-venv/bin/python")
DT_INSTALL = "python3 -m venv /tmp/dt-venv && /tmp/dt-venv/bin/pip install datatrove==0.10.1 pyarrow spacy"

DATATROVE_SCRIPT = '''
import json, struct, sys, time
from pathlib import Path

from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.dedup.minhash import (MinhashConfig, MinhashDedupBuckets, MinhashDedupCluster,
                                              MinhashDedupSignature)
from datatrove.pipeline.readers import ParquetReader

def main():
    src, work, workers = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    files = sorted(src.glob("*.parquet"))
    cfg = MinhashConfig()
    start = time.perf_counter()
    LocalPipelineExecutor(pipeline=[ParquetReader(str(src), text_key="text", id_key="id"),
                                    MinhashDedupSignature(output_folder=str(work / "sigs"), config=cfg)],
                          tasks=len(files), workers=workers, logging_dir=str(work / "logs1")).run()
    LocalPipelineExecutor(pipeline=[MinhashDedupBuckets(input_folder=str(work / "sigs"),
                                                        output_folder=str(work / "buckets"), config=cfg)],
                          tasks=cfg.num_buckets, workers=workers, logging_dir=str(work / "logs2")).run()
    LocalPipelineExecutor(pipeline=[MinhashDedupCluster(input_folder=str(work / "buckets"),
                                                        output_folder=str(work / "remove"), config=cfg,
                                                        save_cluster_id=True)],
                          tasks=1, logging_dir=str(work / "logs3")).run()
    seconds = time.perf_counter() - start
    import pyarrow.parquet as pq

    clusters = {}
    for rank, f in enumerate(files):
        ids = pq.read_table(f, columns=["id"]).column("id").to_pylist()
        path = work / "remove" / f"{rank:06d}.clusters"
        if path.exists():
            for doc, cid in struct.iter_unpack("<II", path.read_bytes()):
                clusters[ids[doc]] = cid
    print(json.dumps({"seconds": seconds, "clusters": clusters}))


if __name__ == "__main__":  # its workers re-import this file (forkserver)
    main()
'''


TOOLS = [("ours: dedup-minhash (Spark local[2])", "ours"),
         ("datasketch bulk + MinHashLSH (1 process)", "datasketch"),
         ("datatrove 0.10 MinHash (3 steps, 2 workers)", "datatrove")]


def load(path: Path) -> tuple[list[str], list[str]]:
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=["id", "text"])
    return table.column("id").to_pylist(), [t or "" for t in table.column("text").to_pylist()]


def components(n: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Label per node 0..n-1 (connected components of the edge list; singletons keep their own)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def truth_labels(texts: list[str], block: int = 1000) -> tuple[np.ndarray, int]:
    """Clusters of exact Jaccard >= THRESHOLD over all pairs; also returns the number of true pairs."""
    from scipy.sparse import csr_matrix

    from pipeline.dedup.shingles import shingle_hashes, unique_per_doc

    hashes, offsets = shingle_hashes(texts)
    sets = unique_per_doc(hashes, offsets)
    lengths = np.array([len(s) for s in sets])
    flat = np.concatenate(sets) if sets else np.zeros(0, dtype=np.int64)
    vocab, cols = np.unique(flat, return_inverse=True)
    rows = np.repeat(np.arange(len(texts)), lengths)
    x = csr_matrix((np.ones(len(cols), dtype=np.float32), (rows, cols)), shape=(len(texts), len(vocab)))
    xt = x.T.tocsr()
    src, dst = [], []
    for lo in range(0, len(texts), block):  # row blocks bound the product's memory
        inter = (x[lo:lo + block] @ xt).tocoo()
        i, j, v = inter.row + lo, inter.col, inter.data
        keep = (i < j) & (v / (lengths[i] + lengths[j] - v) >= THRESHOLD)
        src.append(i[keep])
        dst.append(j[keep])
    s, d = np.concatenate(src), np.concatenate(dst)
    return components(len(texts), s, d), len(s)


def pair_scores(found: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """Pair-counting precision/recall of cluster labels `found` against `truth` (same doc order)."""
    def pairs(labels: np.ndarray) -> int:
        counts = np.unique(labels, return_counts=True)[1].astype(np.int64)
        return int((counts * (counts - 1) // 2).sum())

    both = pairs(found.astype(np.int64) * (int(truth.max()) + 1) + truth)
    f, t = pairs(found), pairs(truth)
    return (both / f if f else 1.0), (both / t if t else 1.0)


def labels_from(ids: list[str], clusters: dict[str, object]) -> np.ndarray:
    """Cluster labels in `ids` order; a document no cluster names is its own singleton."""
    names: dict[object, int] = {}
    out = np.empty(len(ids), dtype=np.int64)
    for k, i in enumerate(ids):
        c = clusters.get(i)
        out[k] = names.setdefault(("c", c) if c is not None else ("d", i), len(names))
    return out


def run_ours(spark, src: Path, tmp: Path) -> tuple[float, dict[str, str]]:
    from pipeline.config import load_config
    from pipeline.runner import run_stage

    cfg = load_config(None, [f"run.data_root={tmp}"])
    out = tmp / "run" / f"ours-{src.parent.name}"
    start = time.perf_counter()
    run_stage("dedup-minhash", [str(src.parent)], str(out), cfg, spark=spark)
    seconds = time.perf_counter() - start
    rows = spark.read.parquet(str(out / "_clusters")).select("id", "cluster").collect()
    return seconds, {r["id"]: r["cluster"] for r in rows}


def run_datasketch(src: Path) -> tuple[float, dict[str, int]]:
    from datasketch import MinHash, MinHashLSH

    from pipeline.dedup.shingles import shingles, tokens

    start = time.perf_counter()
    ids, texts = load(src)
    sets = [[" ".join(sh).encode() for sh in set(shingles(tokens(t), 5))] for t in texts]
    keep = [k for k, s in enumerate(sets) if s]
    sigs = MinHash.bulk([sets[k] for k in keep], num_perm=NUM_PERM)
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    with lsh.insertion_session() as session:
        for k, m in zip(keep, sigs, strict=True):
            session.insert(k, m, check_duplication=False)
    src_i, dst_i = [], []
    for k, m in zip(keep, sigs, strict=True):
        for other in lsh.query(m):
            if other != k:
                src_i.append(k)
                dst_i.append(other)
    labels = components(len(ids), np.array(src_i, dtype=np.int64), np.array(dst_i, dtype=np.int64))
    seconds = time.perf_counter() - start
    return seconds, {i: int(c) for i, c in zip(ids, labels, strict=True)}


def run_datatrove(src: Path, tmp: Path, workers: int = 2) -> tuple[float, dict[str, int]] | str:
    if not DT_PYTHON.exists():
        return f"not installed: {DT_INSTALL}"
    import pyarrow.parquet as pq

    # One input file per worker (datatrove shards by file); untimed, like the corpus build.
    inp, work = tmp / "dt-in", tmp / "dt-work"
    shutil.rmtree(inp, ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)
    inp.mkdir(parents=True)
    table = pq.read_table(src, columns=["id", "text"])
    step = -(-table.num_rows // workers)
    for w in range(workers):
        pq.write_table(table.slice(w * step, step), inp / f"{w:02d}.parquet")
    script = tmp / "datatrove_minhash.py"
    script.write_text(DATATROVE_SCRIPT)
    proc = subprocess.run([str(DT_PYTHON), str(script), str(inp), str(work), str(workers)],
                          capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    if proc.returncode != 0:
        return f"failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}"
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return result["seconds"], result["clusters"]


def factor_dirs(root: Path, only: list[str] | None) -> list[tuple[str, Path]]:
    found = sorted((int(p.name[:-1]), p.name, p / "docs.parquet") for p in root.glob("*x")
                   if p.name[:-1].isdigit() and (p / "docs.parquet").exists())
    return [(name, path) for _, name, path in found if not only or name in only]


def main(root: Path, only: list[str] | None = None, skip: set[str] | None = None) -> None:
    from pipeline.config import SparkConfig
    from pipeline.spark import get_spark

    skip = skip or set()
    tmp = Path(tempfile.mkdtemp(prefix="dedup-real-"))
    os.environ["PIPELINE_CATALOG_URL"] = f"sqlite:///{tmp / 'catalog.sqlite'}"
    spark = get_spark(SparkConfig(master="local[2]")) if "ours" not in skip else None
    lines = ["| factor | docs | MB | tool | wall s | precision | recall | ours / datasketch |",
             "|---|---|---|---|---|---|---|---|"]
    try:
        for name, src in factor_dirs(root, only):
            ids, texts = load(src)
            mb = sum(len(t.encode()) for t in texts) / 1e6
            start = time.perf_counter()
            truth, n_true = truth_labels(texts)
            print(f"{name}: {len(ids)} docs, {mb:.1f} MB, {n_true} true pairs, "
                  f"{int((np.unique(truth, return_counts=True)[1] > 1).sum())} true clusters "
                  f"(all-pairs truth in {time.perf_counter() - start:.1f}s)", flush=True)
            del texts
            rows: dict[str, tuple[float, float, float] | str] = {}
            for label, key in TOOLS:
                if key in skip:
                    continue
                res = (run_ours(spark, src, tmp) if key == "ours" else run_datasketch(src)
                       if key == "datasketch" else run_datatrove(src, tmp))
                if isinstance(res, str):
                    rows[label] = res
                    print(f"  {label}: {res}", flush=True)
                    continue
                p, r = pair_scores(labels_from(ids, res[1]), truth)
                rows[label] = (res[0], p, r)
                print(f"  {label}: {res[0]:.1f}s p={p:.4f} r={r:.4f}", flush=True)
            ours, ds = rows.get(TOOLS[0][0]), rows.get(TOOLS[1][0])
            ratio = f"{ours[0] / ds[0]:.2f}" if isinstance(ours, tuple) and isinstance(ds, tuple) else ""
            for label, v in rows.items():
                if isinstance(v, str):
                    lines.append(f"| {name} | {len(ids)} | {mb:.1f} | {label} | {v} | | | |")
                else:
                    lines.append(f"| {name} | {len(ids)} | {mb:.1f} | {label} | {v[0]:.1f} | {v[1]:.4f} | "
                                 f"{v[2]:.4f} | {ratio if label == TOOLS[0][0] else ''} |")
        print("\n" + "\n".join(lines))
    finally:
        if spark is not None:
            spark.stop()
        shutil.rmtree(tmp, ignore_errors=True)
