"""Token shards of real text for a scaling sweep without the data DAG: the bundled GSM8K train split
(7,473 grade-school maths problems with worked answers, MIT licence, 4.2 MB) under a byte-level BPE,
in the tokenize stage's format ("llm-pipeline-tokens/1"), 5% of the items held out as val.

    python benchmarks/scaling_sweep_tokens.py --out data/gsm8k-sweep/tokens [--vocab-size 2048] [--keep-fraction 0.5]

The measured sweep in trainer/README.md trains on these (the demo's curated sample is a few dozen
documents, too small to sweep). Not the data DAG's output: no filtering, no dedup, no decontamination.
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

import numpy as np

from tests.trainer.token_fixture import EOS, train_tokenizer

SOURCE = Path(__file__).resolve().parent.parent / "pipeline" / "resources" / "eval" / "gsm8k_train.jsonl.gz"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True)
    p.add_argument("--vocab-size", type=int, default=2048)
    p.add_argument("--val-fraction", type=float, default=0.05)
    p.add_argument("--keep-fraction", type=float, default=1.0,
                   help="train on the first fraction of the train items only (a data-size ablation variant)")
    args = p.parse_args()
    with gzip.open(SOURCE, "rt", encoding="utf-8") as f:
        docs = [f"{r['question']}\n{r['answer']}" for r in map(json.loads, f)]
    root = Path(args.out)
    root.mkdir(parents=True, exist_ok=True)
    n_val = int(len(docs) * args.val_fraction)
    train = docs[:-n_val][:int((len(docs) - n_val) * args.keep_fraction)]
    tok = train_tokenizer(train, args.vocab_size)  # held out means held out: no val text in the merges
    tok.save(str(root / "tokenizer.json"))
    eos = tok.token_to_id(EOS)
    shards = []
    for split, part in (("train", train), ("val", docs[-n_val:])):
        ids = [t for e in tok.encode_batch(part) for t in (*e.ids, eos)]
        np.asarray(ids, dtype="<u2").tofile(root / f"{split}-00000.bin")
        shards.append({"file": f"{split}-00000.bin", "split": split, "num_tokens": len(ids), "num_docs": len(part)})
    index = {"format": "llm-pipeline-tokens/1", "dtype": "uint16", "vocab_size": tok.get_vocab_size(),
             "eos_id": eos, "tokenizer": "tokenizer.json", "shards": shards}
    (root / "index.json").write_text(json.dumps(index, indent=2) + "\n")
    print(json.dumps({s["split"]: s["num_tokens"] for s in shards}))


if __name__ == "__main__":
    main()
