"""Parity of `trainer import-model` on SmolLM2-135M-Instruct against transformers' own load of the same GGUF:
max |logit difference| (fp32) on three 300-token texts, greedy decoding agreement, chat-template ids, and
the HF export (DIR/hf) reloaded by transformers. What tests/trainer/test_import_model.py asserts, printed.

    .venv/bin/python benchmarks/import_parity.py                    # imports into /tmp/import-parity/smollm2
    .venv/bin/python benchmarks/import_parity.py --run data/models/smollm2-135m-instruct
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != str(HERE)]  # benchmarks/tokenize.py
sys.path.insert(0, str(REPO))


def texts() -> dict[str, str]:
    with gzip.open(REPO / "pipeline/resources/eval/gsm8k_test.jsonl.gz", "rt") as f:
        gsm = "\n\n".join(json.loads(line)["question"] for _, line in zip(range(12), f, strict=False))
    return {"README.md": (REPO / "README.md").read_text(),
            "trainer/model/transformer.py": (REPO / "trainer/model/transformer.py").read_text(),
            "GSM8K test questions 1-12": gsm}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", help="an imported run dir (default: import now into /tmp/import-parity/smollm2)")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    import torch
    from tokenizers import Tokenizer
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from pipeline.tokenize.chat import ChatTemplate
    from trainer.infer.generate import generate
    from trainer.infer.load_model import load_model
    from trainer.model.hf_import import import_model, known_gguf

    torch.set_num_threads(args.threads)
    t0 = time.time()
    run = Path(args.run) if args.run else import_model("smollm2-135m-instruct", Path("/tmp/import-parity/smollm2"))
    print(f"import: {run} ({time.time() - t0:.1f} s; 0 s when it was already there)")
    gguf = known_gguf("smollm2-135m-instruct")
    reference = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32).eval()
    exported = AutoModelForCausalLM.from_pretrained(str(run / "hf"), dtype=torch.float32).eval()
    ours = load_model(run).model
    tok = Tokenizer.from_file(str(run / "tokenizer.json"))
    print("text (300 tokens)                 ours-vs-transformers  export-vs-transformers")
    with torch.no_grad():
        for name, text in texts().items():
            x = torch.tensor([tok.encode(text, add_special_tokens=False).ids[:300]])
            ref = reference(x).logits
            print(f"{name:34s}{(ours(x) - ref).abs().max().item():>20.2e}{(exported(x).logits - ref).abs().max().item():>24.2e}")
        conv = [{"role": "user", "content": "Write a short poem about the sea."}]
        template = ChatTemplate.beside(run / "tokenizer.json")
        ids = tok.encode(template.render(conv, True), add_special_tokens=False).ids
        mine = generate(ours, [ids], 48, stop_ids=[2]).tokens[0]
        theirs = reference.generate(torch.tensor([ids]), max_new_tokens=48, do_sample=False)[0, len(ids):].tolist()
    same = sum(a == b for a, b in zip(mine, theirs, strict=False))
    print(f"greedy 48 tokens: {same}/{len(theirs)} identical; ours: {tok.decode(mine)!r}")
    hf_tok = AutoTokenizer.from_pretrained(str(run / "hf"))
    chat_ok = tok.encode(template.render(conv, True), add_special_tokens=False).ids == hf_tok.apply_chat_template(
        conv, add_generation_prompt=True, tokenize=True, return_dict=True)["input_ids"]
    print(f"chat rendering == apply_chat_template: {chat_ok}")


if __name__ == "__main__":
    main()
