"""Token shards written by the executors: each ordered bucket (partition) writes its own shard files,
the driver only merges their small metadata into index.json (issue 21: no driver funnel).

Each partition writes `<out>/_parts/<split>-p<partition>-<k>.bin` (+ `.docs.bin`) with a `ShardWriter`
and yields one metadata row per shard; the driver then renames the files, in (partition, k) order, to
`<split>-NNNNN.bin`. The documents' order is the one the single writer produced (bucket by bucket, each
sorted); only the shard boundaries differ: a shard also closes at the end of a bucket. The output path
must be visible to every executor (tokenize already requires a local or mounted path).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

META = ("split string, part int, seq int, file string, num_tokens long, num_docs long, "
        "domain_tokens string, special long, empty long")
PARTS_DIR = "_parts"


def write_partition_shards(out: str, dtype: str, eos_id: int, shard_tokens: int):
    """mapInPandas function over rows (split, domain, ntok, special, data, copy) in final order."""

    def run(batches):
        import numpy as np
        import pandas as pd
        from pyspark import TaskContext

        from pipeline.tokenize.shards import ShardWriter

        part = TaskContext.get().partitionId()
        tmp = Path(out) / PARTS_DIR
        tmp.mkdir(parents=True, exist_ok=True)
        le = np.dtype(dtype).newbyteorder("<")
        writers = {s: _PartWriter(tmp, s, part, dtype, eos_id, shard_tokens, ShardWriter) for s in ("train", "val")}
        special = empty = 0
        for pdf in batches:
            for split, domain, ntok, spec, data, copy in zip(pdf["split"], pdf["domain"], pdf["ntok"],
                                                               pdf["special"], pdf["data"], pdf["copy"], strict=True):
                if copy == 0:
                    special += int(spec)
                if ntok == 0:
                    empty += 1
                    continue
                writers[split].add(np.frombuffer(data, dtype=le), domain, int(ntok) + 1)
        rows = [m for w in writers.values() for m in w.finish()]
        # counters with no shard of their own ride on a metadata-only row
        rows.append({"split": None, "part": part, "seq": -1, "file": None, "num_tokens": 0, "num_docs": 0,
                     "domain_tokens": "{}", "special": special, "empty": empty})
        yield pd.DataFrame(rows, columns=[c.split()[0] for c in META.split(", ")])

    return run


class _PartWriter:
    """A ShardWriter for one (split, partition) that also counts tokens per domain for each shard."""

    def __init__(self, tmp: Path, split: str, part: int, dtype: str, eos_id: int, shard_tokens: int, cls):
        self.w = cls(tmp, f"{split}-p{part:05d}", dtype, eos_id, shard_tokens)
        self.split, self.part = split, part
        self.domains: list[dict[str, int]] = [{}]

    def add(self, ids, domain: str, ntok: int) -> None:
        before = len(self.w.shards)
        d = self.domains[-1]
        d[domain] = d.get(domain, 0) + ntok
        self.w.add(ids)
        if len(self.w.shards) > before:  # that document closed the shard: the next one starts a new count
            self.domains.append({})

    def finish(self) -> list[dict]:
        shards = self.w.finish(always_one=False)
        return [{"split": self.split, "part": self.part, "seq": k, "file": s["file"], "num_tokens": s["num_tokens"],
                 "num_docs": s["num_docs"], "domain_tokens": json.dumps(self.domains[k]), "special": 0, "empty": 0}
                for k, s in enumerate(shards)]


def merge_shards(out: Path, meta: list[dict], dtype: str, eos_id: int) -> tuple[list[dict], dict]:
    """Rename the partitions' shard files to `<split>-NNNNN.bin` in order; the index entries and totals."""
    from pipeline.tokenize.shards import ShardWriter

    tmp = out / PARTS_DIR
    shards: list[dict] = []
    tokens: dict = {"train": {}, "val": {}}
    docs = {"train": 0, "val": 0}
    special = empty = 0
    for m in sorted(meta, key=lambda r: (r["part"], r["seq"])):
        special += m["special"]
        empty += m["empty"]
    for split in ("train", "val"):
        mine = sorted((m for m in meta if m["split"] == split), key=lambda r: (r["part"], r["seq"]))
        for i, m in enumerate(mine):
            name = f"{split}-{i:05d}"
            stem = m["file"][: -len(".bin")]
            (tmp / m["file"]).replace(out / f"{name}.bin")
            (tmp / f"{stem}.docs.bin").replace(out / f"{name}.docs.bin")
            shards.append({"file": f"{name}.bin", "split": split, "num_tokens": m["num_tokens"],
                           "num_docs": m["num_docs"], "doc_ends": f"{name}.docs.bin"})
            docs[split] += m["num_docs"]
            for d, n in json.loads(m["domain_tokens"]).items():
                tokens[split][d] = tokens[split].get(d, 0) + n
        if not mine:  # the trainer expects every split to have a shard, even an empty one
            shards += ShardWriter(out, split, dtype, eos_id, 1).finish(always_one=True)
    shutil.rmtree(tmp, ignore_errors=True)
    return shards, {"tokens": tokens, "docs": docs, "special": special, "empty": empty}
