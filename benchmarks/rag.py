"""RAG on a curated corpus: retrieval recall@5 and answer exact match, with vs without retrieval.

    .venv/bin/python benchmarks/rag.py --base-url http://127.0.0.1:8000/v1 --model smollm2-135m-instruct \
        [--run RUN --data-root DIR] [--questions 60] [--out rag_eval.json]

Corpus: a run's curated documents (`<data_root>/<run>/mix`) when --run is given, else the 580
Python-documentation paragraphs shipped as the quality reference (pipeline/resources/
quality_reference_en.jsonl, PSF-2.0), written as a document dataset. Either way the real `index`
stage (Spark, model2vec, BM25) indexes it.
Questions, from the held-out documents only (`pipeline/splits.py`: run.seed, --val-fraction):
- generated: the served model reads one document and writes a question about it (grounded QA as the
  synth stage makes it). SmolLM2-135M writes fluent questions but answers at length and in its own
  words (a short answer copied from the document: 0 of 16 measured), so these score retrieval only.
- cloze: a sentence of the document with one term blanked (a number, a quoted or `code` term, or a
  capitalised word inside the sentence), as the synth stage's template backend works offline; the
  blanked term is the gold answer.
Scores: recall@5 = the question's document is among the documents of the top 5 chunks (hybrid,
dense, BM25); exact match (SQuAD normalisation) and "contains" (the gold term appears in the answer)
for the model answering the cloze items with the top 5 chunks vs from the question alone.
"""

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]  # benchmarks/tokenize.py
sys.path.insert(0, os.path.dirname(_HERE))

import argparse  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import string  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

REFERENCE = Path(_HERE).parent / "pipeline" / "resources" / "quality_reference_en.jsonl"
QA_USER = ("Document:\n{text}\n\nWrite one question about the document and its short answer copied from the "
           "document, in this format:\nQuestion: ...\nAnswer: ...")
_TERM = re.compile(r"`[^`]{1,30}`|\"[^\"]{1,30}\"|\b\d[\d.,]*\b|(?<=\s)[A-Z][a-zA-Z]{2,}\b")


def normalise(s: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, no articles, single spaces."""
    s = "".join(ch for ch in s.lower() if ch not in set(string.punctuation))
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", s).split())


def first_line_answer(text: str) -> str:
    """The answer without its citations or explanation: the first line, markers removed."""
    line = (text.strip().splitlines() or [""])[0]
    return re.sub(r"\[\d+\]", "", re.sub(r"^(answer|short answer)\s*:\s*", "", line, flags=re.I)).strip()


def parse_question(raw: str | None) -> str | None:
    m = re.search(r"Question:\s*(.+?\?)", raw or "", re.S)
    return " ".join(m.group(1).split()) if m else None


def cloze(doc: str) -> tuple[str, str] | None:
    """(question, answer): the first sentence of 8-40 words with a blankable term, that term blanked."""
    for sentence in re.split(r"(?<=[.!?])\s+", doc):
        if not 8 <= len(sentence.split()) <= 40:
            continue
        m = _TERM.search(sentence)
        if m:
            blanked = sentence[:m.start()] + "____" + sentence[m.end():]
            return f'Fill in the blank with the missing term: "{blanked}"', m.group(0).strip('`"')
    return None


def corpus_dataset(spark, args, work: Path) -> tuple[str, list[dict]]:
    from pipeline.schema import spark_schema

    if args.run:
        mix = str(Path(args.data_root) / args.run / "mix")
        docs = [r.asDict() for r in spark.read.parquet(mix).select("id", "title", "text").collect()]
        return mix, docs
    rows = [json.loads(line) for line in REFERENCE.read_text().splitlines() if line.strip()]
    docs = [{"id": f"pydoc-{i:04d}", "text": r["text"], "source": "web", "url": None, "title": None, "lang": "en",
             "lang_score": 1.0, "fetched_at": None, "metadata": "{}"} for i, r in enumerate(rows)]
    path = work / "mix"
    spark.createDataFrame(docs, spark_schema()).write.mode("overwrite").parquet(str(path))
    (path / "_SUCCESS").touch()
    return str(path), docs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--run", help="a run whose curated documents (mix) are the corpus")
    ap.add_argument("--data-root", default="data")
    ap.add_argument("--questions", type=int, default=60, help="held-out documents asked about")
    ap.add_argument("--val-fraction", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per model request")
    ap.add_argument("--out", help="write the table and every item as JSON here")
    ap.add_argument("--work", help="working folder; an index already finished there is reused")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    from pipeline.config import SparkConfig, load_config
    from pipeline.runner import run_stage
    from pipeline.spark import get_spark
    from pipeline.splits import split_of
    from retrieval.answer import answer_closed_book, answer_with_sources
    from retrieval.chat import ChatConfig, ChatError, chat
    from retrieval.index import load_index

    work = Path(args.work or tempfile.mkdtemp(prefix="rag-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    spark = get_spark(SparkConfig(master="local[2]", app_name="rag-bench", shuffle_partitions=4))
    mix, docs = corpus_dataset(spark, args, work)
    t0 = time.time()
    cfg = load_config(None, [f"run.data_root={work}", f"catalog.url=sqlite:///{work / 'catalog.sqlite'}"])
    os.environ["PIPELINE_CATALOG_URL"] = f"sqlite:///{work / 'catalog.sqlite'}"
    if not (work / "index" / "_SUCCESS").is_file():
        run_stage("index", [mix], str(work / "index"), cfg, spark=spark)
    index_s = time.time() - t0
    index = load_index(work / "index")
    held = [d for d in docs if split_of(d["id"], args.seed, args.val_fraction) == "val"][: args.questions]
    llm = ChatConfig(base_url=args.base_url, model=args.model, max_tokens=64, timeout_s=args.timeout)

    def make_question(doc):
        try:
            raw = chat(llm, [{"role": "user", "content": QA_USER.format(text=doc["text"][:1500])}]).content
        except ChatError:
            return None
        q = parse_question(raw)
        return (doc["id"], q) if q else None

    t0 = time.time()
    with ThreadPoolExecutor(args.concurrency) as pool:
        generated = [x for x in pool.map(make_question, held) if x]
    qa_s = time.time() - t0
    clozes = [(d["id"], *c) for d in held if (c := cloze(d["text"]))]
    if not generated and not clozes:
        sys.exit(f"no question from {len(held)} held-out documents")
    answer_cfg = ChatConfig(base_url=args.base_url, model=args.model, max_tokens=32, timeout_s=args.timeout)
    modes = ("hybrid", "dense", "bm25")

    def recall(items):
        return {m: sum(d in {h.doc_id for h in index.search(q, k=5, mode=m)} for d, q, *_ in items)
                / max(1, len(items)) for m in modes}

    def score(item):
        doc_id, question, gold = item
        hits = index.search(question, k=5)
        rag, closed = answer_with_sources(answer_cfg, question, hits), answer_closed_book(answer_cfg, question)
        out = {"doc_id": doc_id, "question": question, "gold": gold}
        for name, ans in (("rag", rag), ("closed", closed)):
            out[f"{name}_answer"] = ans.text
            out[f"{name}_em"] = normalise(first_line_answer(ans.text)) == normalise(gold)
            out[f"{name}_contains"] = normalise(gold) in normalise(ans.text)
        out["rag_cited_gold"] = doc_id in rag.cited_doc_ids
        return out

    t0 = time.time()
    with ThreadPoolExecutor(args.concurrency) as pool:
        scored = list(pool.map(score, clozes))
    answer_s = time.time() - t0
    n = max(1, len(scored))

    def mean(key):
        return sum(r[key] for r in scored) / n

    corpus = f"run {args.run} (mix)" if args.run else "quality_reference_en.jsonl (580 Python-docs paragraphs)"
    table = {"corpus": corpus, "documents": len(docs), "chunks": len(index), "model": args.model,
             "held_out_documents": len(held), "generated_questions": len(generated), "cloze_items": len(scored),
             "recall@5": {"generated": recall(generated), "cloze": recall(clozes)},
             "exact_match": {"with_retrieval": mean("rag_em"), "without_retrieval": mean("closed_em")},
             "contains": {"with_retrieval": mean("rag_contains"), "without_retrieval": mean("closed_contains")},
             "rag_cites_gold_document": mean("rag_cited_gold"),
             "seconds": {"index": round(index_s, 1), "question_generation": round(qa_s, 1),
                         "answers": round(answer_s, 1)}}
    r = table["recall@5"]
    print(f"corpus: {corpus}; {len(docs)} documents, {len(index)} chunks; model {args.model}")
    print(f"held-out documents: {len(held)} (val_fraction {args.val_fraction}, seed {args.seed}); "
          f"questions written by the model: {len(generated)}; cloze items: {len(scored)}")
    print("\n| metric | with retrieval (top 5 chunks) | without retrieval |\n| --- | --- | --- |")
    for kind in ("generated", "cloze"):
        print(f"| recall@5 hybrid / dense / BM25, {kind} questions | {r[kind]['hybrid']:.3f} / "
              f"{r[kind]['dense']:.3f} / {r[kind]['bm25']:.3f} | - |")
    print(f"| exact match, cloze | {table['exact_match']['with_retrieval']:.3f} | "
          f"{table['exact_match']['without_retrieval']:.3f} |")
    print(f"| gold term contained in the answer, cloze | {table['contains']['with_retrieval']:.3f} | "
          f"{table['contains']['without_retrieval']:.3f} |")
    print(f"| answer cites the question's document, cloze | {table['rag_cites_gold_document']:.3f} | - |")
    print(f"\nseconds: {json.dumps(table['seconds'])}")
    if args.out:
        Path(args.out).write_text(json.dumps({"table": table, "generated": generated, "cloze": scored}, indent=2))
    spark.stop()


if __name__ == "__main__":
    main()
