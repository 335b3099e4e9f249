"""Answer a question from a run's curated corpus through the served model, citing document ids.

    python -m trainer rag --run demo "What does the Kelvar Observatory run on Fridays?"
    python -m trainer rag --run demo --base-url http://127.0.0.1:8000/v1 --model SmolLM2-135M-Instruct --json "..."

Retrieves the top-k chunks of `<data_root>/<run>/index` (the `index` stage: model2vec embeddings and
BM25, fused), asks the model at --base-url (an OpenAI-compatible server such as vLLM) to answer from
them, and prints the answer with the ids of the documents it cites.
"""

from __future__ import annotations

import argparse
import json
import os

from retrieval.chat import ChatError
from retrieval.index import IndexMissing

USER_ERRORS = (IndexMissing, ChatError)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("question", help="the question")
    p.add_argument("--run", required=True, help="data run id whose `index` stage output is searched")
    p.add_argument("--data-root", default=os.environ.get("PIPELINE_DATA_ROOT", "data"),
                   help="data root holding the run (default: $PIPELINE_DATA_ROOT or ./data)")
    p.add_argument("--k", type=int, default=5, help="chunks given to the model (default 5)")
    p.add_argument("--mode", choices=["hybrid", "dense", "bm25"], default="hybrid")
    p.add_argument("--base-url", default=os.environ.get("LLM_BASE_URL", "http://127.0.0.1:8000/v1"),
                   help="OpenAI-compatible endpoint (default: $LLM_BASE_URL or vLLM's 127.0.0.1:8000/v1)")
    p.add_argument("--model", default=os.environ.get("LLM_MODEL", ""), help="served model name ($LLM_MODEL)")
    p.add_argument("--max-tokens", type=int, default=128)
    p.add_argument("--json", action="store_true", help="print the answer, citations and retrieved chunks as JSON")


def run_cli(args: argparse.Namespace) -> int:
    from retrieval.answer import answer_with_sources
    from retrieval.chat import ChatConfig
    from retrieval.index import load_index, run_index_path
    from trainer.config import ConfigError

    if not 1 <= args.k <= 50:
        raise ConfigError(f"--k must be between 1 and 50, got {args.k}")
    if not args.question.strip():
        raise ConfigError("the question is empty")
    index = load_index(run_index_path(args.data_root, args.run))
    hits = index.search(args.question, k=args.k, mode=args.mode)
    cfg = ChatConfig(base_url=args.base_url, model=args.model, max_tokens=args.max_tokens)
    answer = answer_with_sources(cfg, args.question, hits)
    if args.json:
        print(json.dumps(answer.as_dict(), indent=2))
        return 0
    print(answer.text)
    print("cited: " + (", ".join(answer.cited_doc_ids) or "none"))
    print("retrieved: " + ", ".join(dict.fromkeys(h.doc_id for h in hits)))
    return 0
