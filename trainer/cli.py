"""`python -m trainer <command> [options]`: every trainer command behind one entry point.

    python -m trainer train --config FILE --data <run>/tokens --out <run dir> [--resume] [--set k=v ...]
    deepspeed --num_gpus 8 --module trainer train ...          # N processes on this host
    deepspeed --hostfile hosts --module trainer train ...      # multi-node
    torchrun --nproc_per_node 2 -m trainer train ...

User errors (a bad config, a missing run, an unknown key) print one line and exit with status 2.
Commands are imported only when run, so `--help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from dataclasses import dataclass

from trainer.command import ConfigError, description


@dataclass(frozen=True)
class Command:
    name: str
    module: str  # defines add_arguments(parser) and run_cli(args), or run_argv(argv) for a passthrough
    summary: str


COMMANDS = (
    Command("train", "trainer.train.pretrain", "pretrain with DeepSpeed ZeRO on the tokenize stage's shards"),
    Command("extend", "trainer.train.extend", "long-context extension: continued pretraining with YaRN RoPE"),
    Command("sft", "trainer.posttrain.sft", "LoRA supervised fine-tuning on the chat SFT shards"),
    Command("grpo", "trainer.posttrain.grpo", "GRPO with verifiable rewards on the RL prompts"),
    Command("distill", "trainer.posttrain.distill", "a small speculative draft distilled from a model (its layers, a restricted head)"),
    Command("import-model", "trainer.model.hf_import", "a released model (SmolLM2, an HF folder, a GGUF) as a run to continue"),
    Command("export", "trainer.model.export", "a DeepSpeed checkpoint as a Hugging Face model folder"),
    Command("quantize", "trainer.quant.command", "int8 / int4 (RTN, GPTQ) weight-only quantization of a model"),
    Command("prune", "trainer.quant.prune", "magnitude / Wanda weight pruning, unstructured or 2:4, as a model folder"),
    Command("evaluate", "trainer.eval.evaluate", "perplexity, exact match and speed of a model and its quantized variants"),
    Command("kv-eval", "trainer.eval.kv_eval", "perplexity and GSM8K under a KV-cache budget (StreamingLLM, H2O, SnapKV)"),
    Command("lm-eval", "trainer.eval.lm_eval_adapter", "lm-evaluation-harness's CLI with the llm-pipeline model"),
    Command("rag", "trainer.rag.command", "answer from a run's curated corpus through the served model, citing document ids"),
    Command("fit-scaling", "trainer.experiments.command", "Chinchilla scaling-law fits of a sweep's runs (E, A, B, alpha, beta)"),
)
BY_NAME = {c.name: c for c in COMMANDS}
# The deepspeed launcher appends `--local_rank=N` right after the module, before the command name.
LOCAL_RANK = re.compile(r"^--local[_-]rank(=\d+)?$")


def usage() -> str:
    width = max(len(c.name) for c in COMMANDS)
    lines = ["usage: python -m trainer <command> [options]   (python -m trainer <command> --help)", "",
             "commands:"]
    return "\n".join(lines + [f"  {c.name.ljust(width)}  {c.summary}" for c in COMMANDS])


def without_local_rank(argv: list[str]) -> list[str]:
    out, skip = [], False
    for i, item in enumerate(argv):
        if skip:
            skip = False
            continue
        if LOCAL_RANK.match(item):
            skip = "=" not in item and i + 1 < len(argv) and argv[i + 1].isdigit()
            continue
        out.append(item)
    return out


def parser_for(name: str) -> argparse.ArgumentParser:
    """The argument parser of one command (what `python -m trainer <name> --help` prints)."""
    command = BY_NAME[name]
    module = importlib.import_module(command.module)
    parser = argparse.ArgumentParser(prog=f"python -m trainer {name}",
                                     description=description(module.__doc__) or command.summary)
    module.add_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = without_local_rank(sys.argv[1:] if argv is None else list(argv))
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in BY_NAME:
        print(f"error: unknown command {name!r}; commands: {', '.join(BY_NAME)}", file=sys.stderr)
        return 2
    module = importlib.import_module(BY_NAME[name].module)
    user_errors = (ConfigError, *getattr(module, "USER_ERRORS", ()))
    try:
        if hasattr(module, "run_argv"):
            return module.run_argv(rest)
        return module.run_cli(parser_for(name).parse_args(rest))
    except user_errors as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
