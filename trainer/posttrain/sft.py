"""LoRA supervised fine-tuning on the chat-templated SFT shards, loss on response tokens only.

    python -m trainer sft --base <pretrain run> --data <run>/tokens --out <sft run> [--config FILE] [--set k=v]
    deepspeed --num_gpus N --module trainer sft --base ... --data ... --out ...

`--data` is the tokenize stage's output: its `sft/` folder holds the conversations packed like pretrain
shards plus a `.mask.bin` per shard (1 on assistant content and its `<|im_end|>`), written by
pipeline/tokenize/chat_data.py. Windows pack across conversations (as pretraining does); the loss is the
mean cross-entropy over the targets whose mask is 1.

`<out>` gets `adapter/` (peft's adapter files alone), the merged model as a run in the pretraining layout
(`checkpoints/latest`, `model_config.json`, `tokenizer.json`: `python -m trainer export --checkpoint <out>`
and `trainer grpo --policy <out>` read it), `metrics.jsonl` and `sft_config.json`. A rerun starts over.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from trainer import command
from trainer.config import ConfigError, EngineConfig, to_dict
from trainer.model.checkpoint import load_transformer, model_config_of, save_transformer
from trainer.model.transformer import ModelConfig
from trainer.posttrain import lora
from trainer.posttrain.engine import deepspeed_engine
from trainer.train import distributed, zero
from trainer.train.data import EpochSampler, PackedWindows, ShardError, TokenShards, rank_slice
from trainer.train.distributed import seed_everything
from trainer.train.metrics import MetricsLog


@dataclass
class SftConfig(EngineConfig):
    base: str = ""  # the pretrained run (--base)
    data_dir: str = ""  # the tokens directory, or its sft/ folder (--data)
    out_dir: str = ""  # --out
    lora: dict[str, Any] = field(default_factory=dict)  # trainer/posttrain/lora.py LoraSettings fields

    micro_batch_size: int = 8  # per rank
    grad_accum: int = 1
    seq_len: int = 0  # 0: the base model's max_seq_len
    # QLoRA's recipe (Dettmers et al. 2023): LR 2e-4 (1e-4 for 33B+), no weight decay on adapters,
    # constant-ish schedule; a small warmup here, then cosine to 10%.
    lr: float = 2e-4
    warmup_steps: int = 10
    weight_decay: float = 0.0
    beta2: float = 0.999
    eval_every: int = 50  # 0: only at the end
    eval_batches: int = 8


class MaskedWindows:
    """PackedWindows over the SFT tokens and, in lockstep, over their loss masks."""

    def __init__(self, tokens: list[np.ndarray], masks: list[np.ndarray], seq_len: int):
        self.tokens, self.masks = PackedWindows(tokens, seq_len), PackedWindows(masks, seq_len)

    def __len__(self) -> int:
        return len(self.tokens)

    def batch(self, indices) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(inputs, targets, target mask as float), each (len(indices), seq_len)."""
        x, y = self.tokens.batch(indices)
        _, m = self.masks.batch(indices)
        return x, y, m.float()


def sft_shards(data_dir: str | Path) -> TokenShards:
    root = Path(data_dir)
    for candidate in (root / "sft", root):
        if (candidate / "index.json").is_file():
            shards = TokenShards(candidate)
            if any("mask" in s for s in shards.index["shards"]):
                return shards
    raise ShardError(f"no SFT shards with loss masks under {root} (looked for sft/index.json): "
                     "did the tokenize stage get synth SFT records?")


def masked_split(shards: TokenShards, split: str, seq_len: int) -> MaskedWindows:
    entries = [s for s in shards.index["shards"] if s["split"] == split and s["num_tokens"] > 0]
    masks = []
    for s in entries:
        if "mask" not in s:
            raise ShardError(f"{shards.root / s['file']} has no loss mask")
        masks.append(np.memmap(shards.root / s["mask"], dtype=np.uint8, mode="r", shape=(s["num_tokens"],)))
    return MaskedWindows(shards.split(split), masks, seq_len)


def masked_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the targets whose mask is 1 (0 when a batch has none)."""
    ce = F.cross_entropy(logits.float().flatten(0, 1), targets.flatten(), reduction="none")
    return (ce * mask.flatten()).sum() / mask.sum().clamp(min=1.0)


@dataclass
class Plan:
    cfg: SftConfig
    adapters: lora.LoraSettings
    model: ModelConfig
    shards: TokenShards
    seq_len: int
    precision: str


def plan(cfg: SftConfig) -> Plan:
    if not (cfg.base and cfg.data_dir and cfg.out_dir):
        raise ConfigError("--base (the pretrained run), --data (tokens directory) and --out are required")
    settings = lora.settings(cfg.lora)
    mcfg = model_config_of(cfg.base)
    shards = sft_shards(cfg.data_dir)
    if mcfg.vocab_size < shards.vocab_size:
        raise ConfigError(f"base vocab_size {mcfg.vocab_size} < the SFT tokenizer's {shards.vocab_size}")
    seq_len = cfg.seq_len or mcfg.max_seq_len
    if seq_len > mcfg.max_seq_len:
        raise ConfigError(f"seq_len {seq_len} > the base model's max_seq_len {mcfg.max_seq_len}")
    if len(masked_split(shards, "train", seq_len)) == 0:
        raise ConfigError(f"{shards.root}: the train split holds no window of {seq_len + 1} tokens")
    for name in ("steps", "micro_batch_size", "grad_accum", "log_every"):
        if getattr(cfg, name) < 1:
            raise ConfigError(f"{name} must be >= 1, got {getattr(cfg, name)}")
    precision = zero.resolve_precision(cfg.precision, distributed.configure_accelerator())
    zero.deepspeed_config(cfg, 1, precision)  # validates stage and optimizer
    return Plan(cfg, settings, mcfg, shards, seq_len, precision)


@dataclass
class SftRun:
    records: list[dict]  # what went to metrics.jsonl
    model: torch.nn.Module  # the trained peft model (the engine's module)


def train(cfg: SftConfig) -> SftRun:
    """In-process run (tests): joins or creates the process group and leaves it up, as trainer.train.pretrain.train does."""
    return _train(plan(cfg), distributed.setup())


def _train(p: Plan, ctx: distributed.DistContext) -> SftRun:
    cfg, out = p.cfg, Path(p.cfg.out_dir)
    if ctx.is_main:
        out.mkdir(parents=True, exist_ok=True)
        (out / "sft_config.json").write_text(json.dumps(to_dict(cfg), indent=2) + "\n")
    seed_everything(cfg.seed)
    model = lora.apply(load_transformer(cfg.base), p.adapters)
    trainable = sum(q.numel() for q in model.parameters() if q.requires_grad)
    engine, scheduler = deepspeed_engine(model, cfg, ctx.world_size, p.precision, cfg.steps)

    train_windows = masked_split(p.shards, "train", p.seq_len)
    val_windows = masked_split(p.shards, "val", p.seq_len)
    sampler = EpochSampler(len(train_windows), cfg.seed)
    log = MetricsLog(out / "metrics.jsonl", ctx.is_main)
    log.truncate_after(0)  # a rerun starts over
    mb, accum, world = cfg.micro_batch_size, cfg.grad_accum, ctx.world_size
    say = print if ctx.is_main else (lambda *a, **k: None)
    say(f"LoRA SFT of {cfg.base}: r={p.adapters.rank}, alpha={p.adapters.alpha} on {','.join(p.adapters.targets)} | "
        f"{trainable / 1e6:.3f}M trainable of {model.num_params() / 1e6:.2f}M | ZeRO-{cfg.zero_stage}, "
        f"{p.precision}, {world} rank(s) | {len(train_windows)} train windows of {p.seq_len}", flush=True)
    records: list[dict] = []
    interval = torch.zeros((), device=ctx.device)  # response losses summed since the last log line
    engine.train()
    for step in range(1, cfg.steps + 1):
        lr = scheduler.get_last_lr()[0]
        indices = sampler.take(mb * accum * world)
        step_loss = torch.zeros((), device=ctx.device)
        for micro in range(accum):
            x, y, m = (t.to(ctx.device) for t in train_windows.batch(rank_slice(indices, mb, micro, ctx.rank, world)))
            loss = masked_cross_entropy(engine(x), y, m)
            engine.backward(loss)
            engine.step()
            step_loss += loss.detach()
        interval += step_loss / accum
        if step % cfg.log_every == 0 or step == cfg.steps:
            # the mean over the interval: one step's response loss swings with how many response
            # tokens its windows happen to hold
            (value,) = distributed.all_reduce_mean([interval.item() / ((step - 1) % cfg.log_every + 1)], ctx.device)
            interval.zero_()
            records.append({"step": step, "loss": value, "lr": lr})
            log.write(records[-1])
            say(f"step {step:>5}/{cfg.steps} | response loss {value:.4f} | lr {lr:.2e}", flush=True)
        if len(val_windows) and ((cfg.eval_every and step % cfg.eval_every == 0) or step == cfg.steps):
            val = evaluate(engine, val_windows, cfg, ctx)
            if val is not None:
                records.append({"step": step, "val_loss": val})
                log.write(records[-1])
                say(f"step {step:>5}/{cfg.steps} | response val_loss {val:.4f}", flush=True)
    state = _adapter_state(engine, cfg.zero_stage)
    if ctx.is_main:
        adapted = lora.with_adapter(load_transformer(cfg.base), p.adapters, state)  # fp32 base, exactly
        lora.save_adapter(adapted, out / "adapter")
        tag_dir = save_transformer(lora.merge(adapted), out, cfg.steps, p.shards.tokenizer_path)
        say(f"saved adapter to {out / 'adapter'} and the merged model to {tag_dir}", flush=True)
    return SftRun(records, engine.module)


def _adapter_state(engine, zero_stage: int) -> dict[str, torch.Tensor]:
    if zero_stage != 3:
        return lora.adapter_state(engine.module)
    import deepspeed  # ZeRO-3 partitions every parameter: gather the adapters to read them whole

    trainable = [q for q in engine.module.parameters() if q.requires_grad]
    with deepspeed.zero.GatheredParameters(trainable):
        return lora.adapter_state(engine.module)


@torch.no_grad()
def evaluate(engine, windows: MaskedWindows, cfg: SftConfig, ctx) -> float | None:
    """Response-token loss on the first val windows (every rank runs the same number of batches)."""
    mb = min(cfg.micro_batch_size, len(windows) // ctx.world_size)  # a small val split still counts
    per_rank = min(cfg.eval_batches, len(windows) // max(mb, 1) // ctx.world_size)
    if per_rank == 0:
        return None
    engine.eval()
    total = 0.0
    for b in range(per_rank):
        first = (b * ctx.world_size + ctx.rank) * mb
        x, y, m = (t.to(ctx.device) for t in windows.batch(range(first, first + mb)))
        total += masked_cross_entropy(engine(x), y, m).item()
    engine.train()
    (mean,) = distributed.all_reduce_mean([total / per_rank], ctx.device)
    return mean


USER_ERRORS = (ShardError,)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base", help="the pretrained run directory (`trainer train`'s --out)")
    parser.add_argument("--data", help="tokens directory holding sft/ (or the sft/ folder itself)")
    parser.add_argument("--out", help="SFT run directory: adapter/, checkpoints/ (merged), metrics.jsonl")
    command.add_config_options(parser, "SftConfig (trainer/posttrain/sft.py)", "--set lora.rank=8 --set steps=100")
    command.add_launcher_options(parser, resume=False)


def config_from_args(args: argparse.Namespace) -> SftConfig:
    return command.config_from_args(args, SftConfig, {"base": args.base, "data_dir": args.data, "out_dir": args.out})


def run_cli(args: argparse.Namespace) -> int:
    p = plan(config_from_args(args))
    distributed.run_in_group(lambda ctx: _train(p, ctx))
    return 0
