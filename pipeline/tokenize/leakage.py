"""Audit a tokenized run for train/val leakage: what "held out" must mean, checked on the bytes.

Two checks, both on a finished `tokens/` directory and the document dataset it was made from:
1. By provenance: no val document id (the run's split rule, `pipeline/splits.py`) appears among the
   sources of a train SFT/RL record.
2. By text: no word 13-gram of a val document appears in the decoded train shards, except 13-grams
   that occur in two or more of the original documents (boilerplate shared by many pages, which
   decontamination handles, not the split). A val document's text pasted into a synthetic train
   record (long-context samples, rephrasings) is exactly what this catches.

`python -m pipeline.tokenize.leakage --tokens RUN/tokens --documents RUN/mix` prints the counts and
exits 1 on a leak. It reads the shards in one process: an audit for demo- and test-sized runs.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.splits import VAL, split_of

NGRAM = 13  # GPT-3's decontamination n-gram (Brown et al. 2020, appendix C)
_WORD = re.compile(r"\w+")


def word_ngrams(text: str, n: int = NGRAM) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


@dataclass
class LeakageReport:
    val_docs: int = 0
    train_texts: int = 0
    val_ngrams_checked: int = 0
    leaked_ngrams: int = 0
    leaked_docs: list[str] = field(default_factory=list)
    val_sources_in_train_records: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.leaked_ngrams and not self.val_sources_in_train_records


def text_leaks(documents: Iterable[tuple[str, str]], train_texts: Iterable[str], seed: int,
               val_fraction: float, n: int = NGRAM) -> LeakageReport:
    """`documents`: (id, text) of the original documents; `train_texts`: what the train split holds."""
    report = LeakageReport()
    seen_in = Counter()  # n-gram -> number of original documents holding it
    val_grams: dict[str, set] = {}
    ids = set()
    for doc_id, text in documents:
        if doc_id in ids:  # `mix` repeats documents: a copy is not a second document
            continue
        ids.add(doc_id)
        grams = word_ngrams(text, n)
        seen_in.update(grams)
        if split_of(doc_id, seed, val_fraction) == VAL:
            val_grams[doc_id] = grams
    report.val_docs = len(val_grams)
    unique = {g: d for d, grams in val_grams.items() for g in grams if seen_in[g] == 1}
    report.val_ngrams_checked = len(unique)
    hit_docs = set()
    for text in train_texts:
        report.train_texts += 1
        for g in word_ngrams(text, n) & unique.keys():
            report.leaked_ngrams += 1
            hit_docs.add(unique[g])
    report.leaked_docs = sorted(hit_docs)
    return report


def record_leaks(records: Iterable[dict], seed: int, val_fraction: float) -> list[str]:
    """Ids of train SFT/RL records that name a val document among their sources."""
    return sorted(r["id"] for r in records if r.get("split") == "train"
                  and any(split_of(s, seed, val_fraction) == VAL for s in r.get("source_ids") or []))


def decoded_split(tokens_dir: Path, split: str) -> Iterator[str]:
    from tokenizers import Tokenizer

    from pipeline.tokenize.shards import documents_of

    index = json.loads((tokens_dir / "index.json").read_text())
    tok = Tokenizer.from_file(str(tokens_dir / index["tokenizer"]))
    for shard in index["shards"]:
        if shard["split"] == split:
            for ids in documents_of(tokens_dir, shard, index["dtype"]):
                yield tok.decode(ids.tolist(), skip_special_tokens=False)


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()] if path.exists() else []


def audit(tokens_dir: Path, documents: Iterable[tuple[str, str]]) -> LeakageReport:
    index = json.loads((tokens_dir / "index.json").read_text())
    seed, vf = int(index["seed"]), float(index["val_fraction"])
    chat = _jsonl(tokens_dir / "sft.jsonl") + _jsonl(tokens_dir / "rl.jsonl")
    train_texts = [*decoded_split(tokens_dir, "train"),
                   *(r["text"] for r in chat if r.get("split") == "train" and "text" in r),
                   *(r.get("prompt_text", "") for r in chat if r.get("split") == "train")]
    report = text_leaks(documents, train_texts, seed, vf)
    report.val_sources_in_train_records = record_leaks(chat, seed, vf)
    return report


def _read_documents(path: Path) -> Iterator[tuple[str, str]]:
    import pyarrow.parquet as pq

    files = sorted(p for p in path.rglob("*.parquet") if not any(part.startswith("_") for part in p.parts))
    for f in files:
        table = pq.read_table(f, columns=["id", "text"])
        yield from zip(table.column("id").to_pylist(), table.column("text").to_pylist(), strict=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pipeline.tokenize.leakage", description=__doc__.split("\n")[0])
    ap.add_argument("--tokens", required=True, type=Path, help="the tokenize stage's output")
    ap.add_argument("--documents", required=True, type=Path, help="the document dataset it tokenized (mix)")
    args = ap.parse_args(argv)
    if not (args.tokens / "index.json").is_file() or not args.documents.is_dir():
        print(f"leakage: need {args.tokens}/index.json and a dataset at {args.documents}", file=sys.stderr)
        return 2
    report = audit(args.tokens, _read_documents(args.documents))
    print(f"leakage check: {report.val_docs} val documents, {report.val_ngrams_checked} of their {NGRAM}-grams "
          f"checked against {report.train_texts} train texts: {report.leaked_ngrams} leaked "
          f"({len(report.leaked_docs)} documents); train records with a val source: "
          f"{len(report.val_sources_in_train_records)}")
    return 0 if report.clean else 1


if __name__ == "__main__":
    sys.exit(main())
