"""`trainer train` with tp, sp or cp above 1 (and data parallelism over what the world leaves).

    torchrun --nproc_per_node 2 -m trainer train --data D --out O --preset tiny --set tp=2 --set zero_stage=0

The ZeRO loop (trainer/train/pretrain.py) hands a run here when a degree is above 1. Same data order
(`rank_slice` over the dp ranks), loss, AdamW settings, clipping and warmup-cosine schedule as the ZeRO-0
run, in plain torch (DeepSpeed's engine does not take DTensor parameters); so on fp32 the losses equal
a single-rank `trainer train` (tests/trainer/parallel/test_train_layouts.py). Checkpoints are
trainer/parallel/checkpoint.py's consolidated ones: `trainer export` reads them, and `--resume` may
continue at another of these degrees. No validation loss here yet; pp and ep are refused in `plan`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch
import torch.distributed as dist
from torch.distributed.tensor import DTensor

from trainer.config import to_dict
from trainer.model import moe
from trainer.model.checkpoint import latest_tag, load_weights, tag_for, tags
from trainer.model.transformer import Transformer, flops_per_token
from trainer.parallel import checkpoint, exactness, sequence_parallel, tensor_parallel
from trainer.parallel.mesh import Degrees, build_mesh
from trainer.train import distributed, zero
from trainer.train.data import EpochSampler, PackedWindows, rank_slice
from trainer.train.metrics import MetricsLog, Throughput, device_peak_flops


def unsupported(degrees: Degrees, zero_stage: int) -> str | None:
    """Why `trainer train` cannot run these (valid) degrees, or None."""
    if degrees.is_plain():
        return None
    if degrees.pp > 1 or degrees.ep > 1:
        return "pp and ep run in trainer/parallel (pipeline.py, expert_parallel.py) but not yet in `trainer train`"
    if degrees.sp > 1 and degrees.cp > 1:
        return "sp and cp together (Ulysses inside a ring) are not implemented"
    if zero_stage:
        return (f"zero_stage {zero_stage}: with tp/sp/cp the data-parallel ranks keep whole optimizer states "
                "(no ZeRO partitioning in this loop); set zero_stage=0")
    return None


def _dp_mean(model: torch.nn.Module, group, size: int) -> None:
    for p in model.parameters():
        if p.grad is not None:
            grad = p.grad.to_local() if isinstance(p.grad, DTensor) else p.grad
            dist.all_reduce(grad, group=group)
            grad.div_(size)


def run(p, ctx: distributed.DistContext, resume: bool) -> list[dict]:
    """`p` is trainer.train.pretrain.Plan, validated."""
    from trainer.train.distributed import seed_everything

    cfg, out, degrees = p.cfg, Path(p.cfg.out_dir), Degrees.of(p.cfg)
    ckpt_dir = out / "checkpoints"
    if ctx.is_main:
        out.mkdir(parents=True, exist_ok=True)
        (out / "model_config.json").write_text(json.dumps(p.model.to_dict(), indent=2) + "\n")
        (out / "train_config.json").write_text(json.dumps(to_dict(cfg), indent=2) + "\n")
        shutil.copyfile(p.shards.tokenizer_path, out / "tokenizer.json")
    device_mesh = build_mesh(degrees, ctx.world_size, ctx.device.type)
    seed_everything(cfg.seed)
    model = Transformer(p.model).to(ctx.device)
    if cfg.init_from and not (resume and latest_tag(ckpt_dir)):
        load_weights(model, cfg.init_from)
    if degrees.tp > 1:
        tensor_parallel.parallelize(model, device_mesh["tp"])
    seq_group = None
    if degrees.sp > 1 or degrees.cp > 1:
        kind = "ulysses" if degrees.sp > 1 else "ring"
        seq_group = device_mesh["sp" if degrees.sp > 1 else "cp"].get_group()
        sequence_parallel.split_sequence(model, seq_group, kind)
    groups = zero.param_groups(model, cfg.weight_decay)
    # foreach=False: one AdamW over DTensor shards and plain replicated tensors
    opt = torch.optim.AdamW(groups, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), eps=cfg.eps, foreach=False)
    scheduler = zero.lr_scheduler_factory(cfg)(opt)
    windows = PackedWindows(p.shards.split("train"), p.seq_len)
    sampler = EpochSampler(len(windows), cfg.seed)
    step = 0
    if resume and latest_tag(ckpt_dir):
        step = checkpoint.load(out, model, opt, degrees)
        sampler.load_state_dict(checkpoint.saved_extra(out)["sampler"])
        for _ in range(step):
            scheduler.step()
    dp_mesh = device_mesh["dp"]
    dp, dp_rank, dp_group = dp_mesh.size(), dp_mesh.get_local_rank(), dp_mesh.get_group()
    log = MetricsLog(out / "metrics.jsonl", ctx.is_main)
    log.truncate_after(step)
    mb, accum = cfg.micro_batch_size, cfg.grad_accum
    per_step = mb * accum * dp
    if ctx.is_main:
        print(f"model {cfg.preset}: {model.num_params() / 1e6:.2f}M params | "
              f"{degrees.describe(ctx.world_size)}, fp32, {ctx.world_size} rank(s) on {ctx.device.type} | "
              f"{per_step} seqs x {p.seq_len} tokens per step | {'resumed at' if step else 'starting at'} step {step}",
              flush=True)
    meter = Throughput(flops_per_token(p.model, moe.active_params(model), p.seq_len),
                       device_peak_flops(ctx.device, p.precision, cfg.peak_flops), ctx.world_size)
    params = [q for q in model.parameters() if q.requires_grad]
    records = []
    model.train()
    while step < cfg.steps:
        lr = scheduler.get_last_lr()[0]
        indices = sampler.take(per_step)
        opt.zero_grad(set_to_none=True)
        step_loss = 0.0
        for micro in range(accum):
            x, y = windows.batch(rank_slice(indices, mb, micro, dp_rank, dp))
            window = torch.cat([x, y[:, -1:]], dim=1).to(ctx.device)
            loss, reported = (sequence_parallel.chunk_loss(model, window, seq_group) if seq_group is not None
                              else exactness.causal_lm_loss(model, window))
            (loss / accum).backward()
            step_loss += float(reported) / accum
        if seq_group is not None:
            sequence_parallel.reduce_grads(model, seq_group)
        if dp > 1:
            _dp_mean(model, dp_group, dp)
        if cfg.grad_clip > 0:
            exactness.clip_(params, cfg.grad_clip)
        opt.step()
        scheduler.step()
        step += 1
        meter.add(per_step * p.seq_len)
        if step % cfg.log_every == 0 or step == cfg.steps:
            (loss_value,) = distributed.all_reduce_mean([step_loss], ctx.device)
            tps, mfu = meter.report()
            records.append({"step": step, "loss": loss_value, "lr": lr, "tokens": step * per_step * p.seq_len,
                            "tokens_per_s": tps, "mfu": mfu})
            log.write(records[-1])
            if ctx.is_main:
                print(f"step {step:>6}/{cfg.steps} | loss {loss_value:.4f} | lr {lr:.2e} | {tps:,.0f} tok/s", flush=True)
        if (cfg.save_every and step % cfg.save_every == 0) or step == cfg.steps:
            tag_dir = checkpoint.save(out, step, model, opt, degrees, {"sampler": sampler.state_dict()})
            if ctx.is_main and cfg.keep_checkpoints > 0:
                for old in sorted(tags(ckpt_dir))[:-cfg.keep_checkpoints]:
                    shutil.rmtree(ckpt_dir / tag_for(old), ignore_errors=True)
            if ctx.is_main:
                print(f"step {step:>6}/{cfg.steps} | saved {tag_dir}", flush=True)
            dist.barrier()
    return records
