"""Pretraining with DeepSpeed ZeRO.

    python -m trainer train --config FILE --data <run>/tokens --out <train dir> [--resume] [--set k=v ...]
    deepspeed --num_gpus 8 --module trainer train --config FILE --data ... --out ...
    deepspeed --hostfile hosts --module trainer train ...            # multi-node
    torchrun --nproc_per_node 2 -m trainer train --config FILE --data ... --out ...

`--preset tiny --steps 200` are shorthands for `--set preset=tiny --set steps=200`. `--resume`
continues from `<out>/checkpoints/latest` (or starts at step 0 when there is none), so a retried
job picks up where it stopped and its next step's loss equals the uninterrupted run's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import torch

from trainer import command
from trainer.config import ConfigError, TrainConfig, coerce_model_overrides, to_dict
from trainer.model import moe
from trainer.model.checkpoint import latest_tag, load_weights
from trainer.model.transformer import ModelConfig, Transformer, cross_entropy, flops_per_token, model_config
from trainer.parallel import mesh
from trainer.train import base_model, checkpoint, distributed, zero
from trainer.train.data import EpochSampler, PackedWindows, ShardError, TokenShards, rank_slice, val_batches
from trainer.train.metrics import MetricsLog, Throughput, device_peak_flops


@dataclass
class Plan:
    """Everything validated before any process group exists, so a bad config fails fast and clearly."""

    cfg: TrainConfig
    model: ModelConfig
    shards: TokenShards
    seq_len: int
    precision: str
    on_gpu: bool


def plan(cfg: TrainConfig, resume: bool = False) -> Plan:
    if not cfg.data_dir or not cfg.out_dir:
        raise ConfigError("both --data (the tokens directory) and --out (the run directory) are required")
    ckpt_dir = Path(cfg.out_dir) / "checkpoints"
    if not resume and latest_tag(ckpt_dir):
        raise ConfigError(f"{ckpt_dir} already holds checkpoints: pass --resume, or choose another --out")
    shards = TokenShards(cfg.data_dir)
    overrides = coerce_model_overrides(cfg.model, ModelConfig)
    if overrides.get("vocab_size", 0) <= 0:
        overrides["vocab_size"] = shards.vocab_size
    elif overrides["vocab_size"] < shards.vocab_size:
        raise ConfigError(f"model.vocab_size {overrides['vocab_size']} < the tokenizer's {shards.vocab_size}")
    if cfg.init_from:  # continued pretraining: the base's shape, the base's vocabulary
        mcfg = base_model.base_model_config(cfg.init_from, {k: v for k, v in overrides.items() if k != "vocab_size"})
        base_model.check_vocabulary(cfg.init_from, mcfg, shards.vocab_size, Path(shards.tokenizer_path))
    else:
        try:
            mcfg = model_config(cfg.preset, overrides)
        except ValueError as e:
            raise ConfigError(str(e)) from e
    seq_len = cfg.seq_len or mcfg.max_seq_len
    if seq_len > mcfg.max_seq_len:
        raise ConfigError(f"seq_len {seq_len} > model.max_seq_len {mcfg.max_seq_len}")
    if len(PackedWindows(shards.split("train"), seq_len)) == 0:
        raise ConfigError(f"{cfg.data_dir}: the train split holds no window of seq_len + 1 = {seq_len + 1} tokens")
    for name in ("steps", "micro_batch_size", "grad_accum", "log_every"):
        if getattr(cfg, name) < 1:
            raise ConfigError(f"{name} must be >= 1, got {getattr(cfg, name)}")
    parallel_layout(cfg, mcfg, seq_len)
    cfg.lr = zero.peak_lr(cfg)
    on_gpu = distributed.configure_accelerator()
    precision = zero.resolve_precision(cfg.precision, on_gpu)
    zero.deepspeed_config(cfg, 1, precision)  # validates stage and optimizer
    return Plan(cfg, mcfg, shards, seq_len, precision, on_gpu)


def parallel_layout(cfg: TrainConfig, mcfg: ModelConfig, seq_len: int) -> None:
    """Refuse impossible parallel degrees (trainer/parallel/mesh.py), all reasons at once; the launcher's
    WORLD_SIZE is the world. tp/sp/cp above 1 train in trainer/parallel/train.py; the rest say why not."""
    degrees = mesh.Degrees.of(cfg)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    reasons = mesh.check_model(degrees, world, mcfg, seq_len, cfg.zero_stage)
    if reasons:
        raise ConfigError("impossible parallel layout: " + "; ".join(reasons))
    from trainer.parallel import train as parallel_train

    reason = parallel_train.unsupported(degrees, cfg.zero_stage)
    if reason:
        raise ConfigError(f"{degrees.describe(world)}: {reason}")


def train(cfg: TrainConfig, resume: bool = False) -> list[dict]:
    """Run (or continue) a training run in this process; returns the records it wrote to metrics.jsonl.

    Joins the process group, creating it on first use, and leaves it up so that further calls in the
    same process (tests, notebooks) reuse it: DeepSpeed caches its groups. `main` shuts it down."""
    p = plan(cfg, resume)
    return _train(p, distributed.setup(), resume)


def _train(p: Plan, ctx: distributed.DistContext, resume: bool) -> list[dict]:
    import deepspeed

    if not mesh.Degrees.of(p.cfg).is_plain():  # tp/sp/cp: DeepSpeed's engine takes no DTensor parameters
        from trainer.parallel import train as parallel_train

        return parallel_train.run(p, ctx, resume)
    cfg, out, say = p.cfg, Path(p.cfg.out_dir), _printer(ctx.is_main)
    ckpt_dir = out / "checkpoints"
    if ctx.is_main:
        out.mkdir(parents=True, exist_ok=True)
        (out / "model_config.json").write_text(json.dumps(p.model.to_dict(), indent=2) + "\n")
        (out / "train_config.json").write_text(json.dumps(to_dict(cfg), indent=2) + "\n")
        shutil.copyfile(p.shards.tokenizer_path, out / "tokenizer.json")

    distributed.seed_everything(cfg.seed)
    model = Transformer(p.model)
    if cfg.init_from and not (resume and latest_tag(ckpt_dir)):
        # continued pretraining (e.g. trainer/train/extend.py): the optimizer, schedule and sampler start fresh
        load_weights(model, cfg.init_from)
    n_params = model.num_params()
    engine, _, _, scheduler = deepspeed.initialize(
        model=model,
        optimizer=zero.client_optimizer(cfg, zero.param_groups(model, cfg.weight_decay)),
        model_parameters=zero.param_groups(model, cfg.weight_decay) if cfg.optimizer != "torch_adamw" else None,
        lr_scheduler=zero.lr_scheduler_factory(cfg),
        config=zero.deepspeed_config(cfg, ctx.world_size, p.precision),
    )

    train_windows = PackedWindows(p.shards.split("train"), p.seq_len)
    val_windows = PackedWindows(p.shards.split("val"), p.seq_len)
    sampler = EpochSampler(len(train_windows), cfg.seed)
    step = checkpoint.load(engine, ckpt_dir, sampler, ctx.rank) if resume else 0
    log = MetricsLog(out / "metrics.jsonl", ctx.is_main)
    log.truncate_after(step)

    mb, accum, world = cfg.micro_batch_size, cfg.grad_accum, ctx.world_size
    per_step = mb * accum * world
    say(f"model {cfg.init_from or cfg.preset}: {n_params / 1e6:.2f}M params, {p.model.n_layers} layers, dim {p.model.dim}, "
        f"vocab {p.model.vocab_size} | ZeRO-{cfg.zero_stage}, {p.precision}, {world} rank(s) on "
        f"{ctx.device.type} | {per_step} seqs x {p.seq_len} tokens per step | {len(train_windows)} train "
        f"windows | {'resumed at' if step else 'starting at'} step {step}")
    peak = device_peak_flops(ctx.device, p.precision, cfg.peak_flops)
    meter = Throughput(flops_per_token(p.model, moe.active_params(model), p.seq_len), peak, world)
    router = moe.RouterStats()  # stays empty for a dense model
    records = []
    engine.train()
    while step < cfg.steps:
        lr = scheduler.get_last_lr()[0]  # this step's LR; DeepSpeed steps the schedule after the update
        indices = sampler.take(per_step)
        step_loss = torch.zeros((), device=ctx.device)
        for micro in range(accum):
            x, y = train_windows.batch(rank_slice(indices, mb, micro, ctx.rank, world))
            loss = cross_entropy(engine(x.to(ctx.device)), y.to(ctx.device))
            aux = moe.aux_loss(engine.module)  # None for a dense model: its loss stays bit-identical
            engine.backward(loss if aux is None else loss + p.model.moe_aux_loss_coef * aux)
            router.add(engine.module)
            engine.step()
            step_loss += loss.detach()
        step += 1
        meter.add(per_step * p.seq_len)

        if step % cfg.log_every == 0 or step == cfg.steps:
            (loss_value,) = distributed.all_reduce_mean([step_loss.item() / accum], ctx.device)
            tps, mfu = meter.report()
            record = {"step": step, "loss": loss_value, "lr": lr,
                      "tokens": step * per_step * p.seq_len, "tokens_per_s": tps, "mfu": mfu}
            if router.assigned:  # MoE: router load, aux loss and drops over this logging interval
                record.update(router.record(distributed.all_reduce_mean(router.values(), ctx.device)))
                router.reset()
            records.append(record)
            log.write(record)
            say(f"step {step:>6}/{cfg.steps} | loss {loss_value:.4f} | lr {record['lr']:.2e} | "
                f"{tps:,.0f} tok/s" + (f" | MFU {100 * mfu:.1f}%" if mfu is not None else "")
                + (f" | aux {record['aux_loss']:.4f} | max load {record['moe_max_load']:.2f} | dropped "
                   f"{record['moe_dropped']}" if "aux_loss" in record else ""))
        if cfg.eval_every and len(val_windows) and (step % cfg.eval_every == 0 or step == cfg.steps):
            val = evaluate(engine, val_windows, cfg, ctx)
            if val is not None:
                records.append({"step": step, "val_loss": val})
                log.write(records[-1])
                say(f"step {step:>6}/{cfg.steps} | val_loss {val:.4f}")
            meter.report()  # the interval restarts after evaluation
        if (cfg.save_every and step % cfg.save_every == 0) or step == cfg.steps:
            tag_dir = checkpoint.save(engine, ckpt_dir, step, sampler, p.model.to_dict(), ctx.rank,
                                      cfg.keep_checkpoints)
            say(f"step {step:>6}/{cfg.steps} | saved {tag_dir}")
            meter.report()
    return records


@torch.no_grad()
def evaluate(engine, windows: PackedWindows, cfg: TrainConfig, ctx) -> float | None:
    engine.eval()
    total, count = 0.0, 0
    for x, y in val_batches(windows, cfg.micro_batch_size, cfg.eval_batches, ctx.rank, ctx.world_size):
        total += cross_entropy(engine(x.to(ctx.device)), y.to(ctx.device)).item()
        count += 1
    engine.train()
    if count == 0:
        return None
    (mean,) = distributed.all_reduce_mean([total / count], ctx.device)
    return mean


def _printer(enabled: bool):
    def say(message: str) -> None:
        if enabled:
            print(message, flush=True)

    return say


USER_ERRORS = (ShardError,)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    command.add_config_options(parser, "TrainConfig (trainer/config.py)", "--set lr=1e-3 --set model.n_layers=4")
    parser.add_argument("--data", help="tokens directory (index.json, tokenizer.json, *.bin)")
    parser.add_argument("--out", help="run directory: checkpoints/, metrics.jsonl, tokenizer.json")
    parser.add_argument("--preset", help="shorthand for --set preset=NAME (tiny, 125m, 1b)")
    command.add_launcher_options(parser)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    return command.config_from_args(args, TrainConfig, {"data_dir": args.data, "out_dir": args.out},
                                    preset=args.preset)


def run_cli(args: argparse.Namespace) -> int:
    return run_config(config_from_args(args), args.resume)


def run_config(cfg: TrainConfig, resume: bool) -> int:
    """A whole command-line run (also `trainer extend`'s): plan, then train inside the process group."""
    p = plan(cfg, resume)
    distributed.run_in_group(lambda ctx: _train(p, ctx, resume))
    return 0
