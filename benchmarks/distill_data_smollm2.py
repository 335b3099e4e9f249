"""Self-distillation data for a SmolLM2 speculative draft: SmolLM2-135M-Instruct's own chat answers
(greedy and temperature 1) to prompts that are NOT the benchmark's, as JSONL lines
{"ids": prompt + answer token ids, "loss_from": len(prompt), "top_ids"/"top_logits": SmolLM2's top-k
next-token logits before each answer token} that `python -m trainer distill --data` reads (the logits
come free with generation: a forward hook keeps each decode step's top-k, no second teacher pass).

    .venv/bin/python benchmarks/distill_data_smollm2.py --out data/distill/smollm2_selfgen.jsonl \\
        --gsm8k 64 --docs 48 --new-tokens 128 --batch 16 --top-k 16

Prompts: GSM8K *train* questions in SmolLM2's chat template (pipeline/resources/eval/gsm8k_train.jsonl.gz)
and "Explain this in your own words" turns over the module docstrings of CPython standard-library modules
that are not in the held-out set (pipeline/resources/eval/heldout_text.jsonl.gz lists those) and over
paragraphs of Debian's licence texts (/usr/share/common-licenses). The benchmark
(benchmarks/speculative_distilled.py) prompts with GSM8K *test* and the held-out docstrings: never these.
Batches alternate greedy and temperature 1 and are appended as they finish, so an interrupted run keeps
a mix of both.
"""

from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != HERE]  # benchmarks/tokenize.py shadows
sys.path.insert(0, os.path.dirname(HERE))

import argparse  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402

REPO = Path(HERE).parent
EVAL = REPO / "pipeline" / "resources" / "eval"
# Standard-library modules with a substantial docstring, none of them in heldout_text.jsonl.gz.
MODULES = ("abc", "ast", "asyncio", "base64", "bisect", "calendar", "codecs", "configparser", "contextlib", "copy",
           "dataclasses", "datetime", "decimal", "email", "enum", "fnmatch", "fractions", "ftplib", "functools",
           "glob", "hashlib", "hmac", "imaplib", "ipaddress", "itertools", "locale", "logging", "mailbox",
           "mimetypes", "multiprocessing", "netrc", "operator", "os", "pathlib", "pdb", "platform", "plistlib",
           "poplib", "queue", "quopri", "selectors", "shelve", "shlex", "shutil", "signal", "site", "socket",
           "sqlite3", "ssl", "stat", "struct", "tarfile", "tempfile", "textwrap", "threading", "traceback",
           "turtle", "types", "urllib.parse", "warnings", "wave", "weakref", "xml.dom", "zipapp")


def explain(text: str) -> str:
    return f"Explain this in your own words:\n{text[:400]}"


def doc_prompts(heldout: set[str], n: int) -> list[str]:
    texts = []
    for name in MODULES:
        if name in heldout:
            continue
        try:
            doc = importlib.import_module(name).__doc__ or ""
        except Exception:  # a module this Python lacks (turtle without tk): skip it
            continue
        if len(doc) > 200:
            texts.append(explain(doc))
    for lic in sorted(Path("/usr/share/common-licenses").glob("*")):
        if lic.is_file():
            paras = [p for p in lic.read_text(errors="replace").split("\n\n") if len(p) > 300]
            texts += [explain(p) for p in paras[1:4]]
    return texts[:n]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=REPO / "data" / "distill" / "smollm2_selfgen.jsonl")
    p.add_argument("--cache", type=Path, default=REPO / "data" / "models")
    p.add_argument("--gsm8k", type=int, default=64, help="GSM8K train questions (each answered greedy and at T=1)")
    p.add_argument("--docs", type=int, default=48, help="docstring/licence prompts (each greedy and at T=1)")
    p.add_argument("--new-tokens", type=int, default=128)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--top-k", type=int, default=16, help="teacher logits kept per answer token")
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    from tokenizers import Tokenizer

    from benchmarks.harness_parity import smollm2_hf_folder
    from chat_templates import ChatTemplate
    from trainer.eval.real_eval import EOS, IM_END, chat_prompt, gsm8k_items, read_jsonl
    from trainer.infer.generate import generate
    from trainer.infer.load_model import load_model

    folder = smollm2_hf_folder(a.cache)
    model = load_model(folder).model
    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    template = ChatTemplate.beside(folder / "tokenizer.json")
    heldout = {r["id"].split(":")[-1] for r in read_jsonl(EVAL / "heldout_text.jsonl.gz")}
    math = [chat_prompt(it.question, template) for it in gsm8k_items(EVAL / "gsm8k_train.jsonl.gz", a.gsm8k)]
    docs = [template.render([{"role": "user", "content": t}], add_generation_prompt=True)
            for t in doc_prompts(heldout, a.docs)]
    texts = [t for i in range(max(len(math), len(docs))) for t in (math[i:i + 1] + docs[i:i + 1])]  # interleaved
    prompts = [tok.encode(t, add_special_tokens=False).ids for t in texts]
    stops = [tok.token_to_id(IM_END), tok.token_to_id(EOS)]
    a.out.parent.mkdir(parents=True, exist_ok=True)
    steps: list[torch.return_types.topk] = []  # each decode step's top-k of the last position
    model.register_forward_hook(lambda _m, _i, logits: steps.append(logits[:, -1].float().topk(a.top_k, -1)))
    batches = [(start, temperature) for start in range(0, len(prompts), a.batch) for temperature in (0.0, 1.0)]
    t0, made = time.perf_counter(), 0
    with a.out.open("a") as f:
        for n, (start, temperature) in enumerate(batches, 1):
            chunk = prompts[start:start + a.batch]
            steps.clear()
            out = generate(model, chunk, a.new_tokens, temperature=temperature, stop_ids=stops,
                           generator=torch.Generator().manual_seed(start))
            for i, (prompt, new) in enumerate(zip(chunk, out.tokens, strict=True)):
                top = steps[: len(new)]
                f.write(json.dumps({"ids": prompt + new, "loss_from": len(prompt), "temperature": temperature,
                                    "top_ids": [s.indices[i].tolist() for s in top],
                                    "top_logits": [[round(v, 3) for v in s.values[i].tolist()] for s in top]}) + "\n")
                made += len(new)
            f.flush()
            print(f"batch {n}/{len(batches)} (T={temperature:g}): {made} answer tokens, "
                  f"{time.perf_counter() - t0:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
