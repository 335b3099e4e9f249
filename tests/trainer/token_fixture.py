"""Writes token shards in the tokenize stage's format ("llm-pipeline-tokens/1") from generated text.

A byte-level BPE (HF `tokenizers`) with `<|endoftext|>` is trained on sentences from a small seeded
grammar: varied enough to need a real vocabulary, regular enough that a tiny model's loss falls
within a few dozen steps.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np

EOS = "<|endoftext|>"

SUBJECTS = ["the cat", "a dog", "the old man", "my sister", "the teacher", "a small bird", "the engineer",
            "our neighbour", "the river", "a child", "the farmer", "the pilot"]
VERBS = ["sees", "likes", "carries", "finds", "paints", "follows", "watches", "builds", "remembers", "feeds"]
OBJECTS = ["the red ball", "a wooden boat", "the green garden", "an open window", "the tall tree",
           "a bright lamp", "the quiet house", "a long letter", "the blue door", "some warm bread"]
PLACES = ["in the morning", "near the station", "after school", "under the bridge", "at night",
          "by the sea", "in the kitchen", "on the hill"]


def make_documents(n_docs: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    docs = []
    for _ in range(n_docs):
        sentences = []
        for _ in range(rng.randint(3, 8)):
            s = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(PLACES)}."
            sentences.append(s[0].upper() + s[1:])
        docs.append(" ".join(sentences))
    return docs


def train_tokenizer(docs: list[str], vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[EOS], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(docs, trainer)
    return tok


def write_token_shards(root: str | Path, n_docs: int = 1500, vocab_size: int = 384, train_shards: int = 2,
                       val_fraction: float = 0.1, seed: int = 0) -> Path:
    """Write `<root>/{tokenizer.json,index.json,train-*.bin,val-*.bin}`; returns root."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    docs = make_documents(n_docs, seed)
    tok = train_tokenizer(docs, vocab_size)
    tok.save(str(root / "tokenizer.json"))
    eos_id = tok.token_to_id(EOS)
    vocab = tok.get_vocab_size()
    dtype = "uint16" if vocab <= 65536 else "uint32"
    n_val = max(1, int(n_docs * val_fraction))
    splits = {"train": np.array_split(np.arange(n_docs - n_val), train_shards), "val": [np.arange(n_docs - n_val, n_docs)]}
    encoded = tok.encode_batch(docs)
    shards = []
    for split, groups in splits.items():
        for i, doc_ids in enumerate(groups):
            ids = [t for d in doc_ids for t in (*encoded[d].ids, eos_id)]
            name = f"{split}-{i:05d}.bin"
            np.asarray(ids, dtype="<u2" if dtype == "uint16" else "<u4").tofile(root / name)
            shards.append({"file": name, "split": split, "num_tokens": len(ids), "num_docs": len(doc_ids)})
    index = {"format": "llm-pipeline-tokens/1", "dtype": dtype, "vocab_size": vocab, "eos_id": eos_id,
             "tokenizer": "tokenizer.json", "shards": shards}
    (root / "index.json").write_text(json.dumps(index, indent=2) + "\n")
    return root
