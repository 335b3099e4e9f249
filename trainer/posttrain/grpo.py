"""GRPO (Shao et al. 2024) with verifiable rewards on the tokenize stage's rl.jsonl.

    python -m trainer grpo --policy <sft or pretrain run> --data <run>/tokens --out <grpo run> [--config FILE]
        [--set k=v ...] [--resume]
    deepspeed --num_gpus N --module trainer grpo --policy ... --data ... --out ...

Each step draws `prompts_per_step` prompts (split across ranks), samples `group_size` completions of
each with the KV-cache generator (trainer/infer/generate.py), scores them with the prompt's checker
(trainer/eval/rewards.py), and takes `updates_per_batch` optimizer steps on the clipped, token-normalised
objective of trainer/posttrain/grpo_loss.py. β > 0 keeps a frozen copy of the starting policy as the KL reference;
β = 0 builds none. Every step appends reward mean/std, KL, completion length and clip fraction to
`<out>/metrics.jsonl`; the policy is saved as DeepSpeed checkpoints in the pretraining layout, so
`python -m trainer export --checkpoint <out>` exports it and `--resume` continues a run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from trainer import command
from trainer.config import ConfigError, EngineConfig, to_dict
from trainer.model import moe
from trainer.model.checkpoint import latest_tag, load_transformer, model_config_of, tokenizer_of
from trainer.model.transformer import Transformer
from trainer.posttrain.engine import deepspeed_engine
from trainer.posttrain.grpo_loss import group_advantages, policy_loss, token_logprobs
from trainer.posttrain.rollout import Codec, TokenizerCodec, group_tensors, load_prompts, rollout
from trainer.train import checkpoint, distributed, zero
from trainer.train.data import EpochSampler, rank_slice
from trainer.train.distributed import seed_everything
from trainer.train.metrics import MetricsLog


@dataclass
class GrpoConfig(EngineConfig):
    policy: str = ""  # the run to start from: SFT (merged) or pretraining (--policy)
    data_dir: str = ""  # tokens directory holding rl.jsonl, or the rl.jsonl file (--data)
    out_dir: str = ""  # --out

    steps: int = 100
    prompts_per_step: int = 8  # over all ranks
    group_size: int = 8  # G completions per prompt (DeepSeekMath: 64)
    max_new_tokens: int = 64
    max_prompt_tokens: int = 0  # 0: max_seq_len - max_new_tokens; a longer prompt keeps its end
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    clip_eps: float = 0.2  # PPO's ε (Schulman et al. 2017)
    beta: float = 0.04  # KL coefficient (DeepSeekMath); 0: no reference model
    updates_per_batch: int = 1  # μ policy updates per batch of rollouts (DeepSeekMath: 1)
    adv_eps: float = 1e-4
    train_split_only: bool = True  # leave val-split prompts to `trainer evaluate` (held out)

    # DeepSeekMath's policy LR 1e-6, constant; the tiny preset needs far more (configs/grpo_tiny.yaml).
    lr: float = 1e-6
    min_lr_ratio: float = 1.0
    warmup_steps: int = 0
    weight_decay: float = 0.0
    zero_stage: int = 2  # 0, 1 or 2: generation reads whole weights (ZeRO-3 would need a gather)
    log_every: int = 1
    save_every: int = 0  # 0: only at the end
    keep_checkpoints: int = 2

    def batch(self, world_size: int) -> tuple[int, int]:
        """(micro batch, accumulation) of one optimizer step: a group's completions per micro
        batch, each rank's prompts accumulated."""
        return self.group_size, self.prompts_per_step // world_size


def completion_logprobs(model, inputs: torch.Tensor, targets: torch.Tensor, prompt_len: int,
                        temperature: float) -> torch.Tensor:
    return token_logprobs(model(inputs)[:, prompt_len - 1 :], targets, temperature)


def run(cfg: GrpoConfig, policy: Transformer, codec: Codec, prompts: list[dict], ctx: distributed.DistContext,
        precision: str, out: Path, resume: bool = False) -> list[dict]:
    """The GRPO loop on `policy` (trained in place through a DeepSpeed engine); the metrics records."""
    world = ctx.world_size
    if cfg.prompts_per_step % world:
        raise ConfigError(f"prompts_per_step {cfg.prompts_per_step} must divide among {world} ranks")
    per_rank = cfg.prompts_per_step // world
    max_prompt = cfg.max_prompt_tokens or policy.cfg.max_seq_len - cfg.max_new_tokens
    seed_everything(cfg.seed)
    reference = None
    if cfg.beta > 0:  # a frozen copy of the starting policy
        reference = Transformer(policy.cfg).to(ctx.device)
        reference.load_state_dict(policy.state_dict())
        reference.requires_grad_(False).eval()
    engine, scheduler = deepspeed_engine(policy, cfg, world, precision, cfg.steps * cfg.updates_per_batch,
                                         cfg.batch(world))
    model = engine.module
    ckpt_dir = out / "checkpoints"
    sampler = EpochSampler(len(prompts), cfg.seed)
    step = checkpoint.load(engine, ckpt_dir, sampler, ctx.rank) if resume else 0
    log = MetricsLog(out / "metrics.jsonl", ctx.is_main)
    log.truncate_after(step)
    say = print if ctx.is_main else (lambda *a, **k: None)
    say(f"GRPO: {len(prompts)} prompts, {cfg.prompts_per_step} x G={cfg.group_size} completions per step, "
        f"beta {cfg.beta}, clip {cfg.clip_eps}, {cfg.updates_per_batch} update(s) per batch | ZeRO-{cfg.zero_stage}, "
        f"{precision}, {world} rank(s) | {'resumed at' if step else 'starting at'} step {step}", flush=True)
    records: list[dict] = []
    while step < cfg.steps:
        t0 = time.perf_counter()
        lr = scheduler.get_last_lr()[0]
        mine = [prompts[int(i)] for i in rank_slice(sampler.take(cfg.prompts_per_step), per_rank, 0, ctx.rank, world)]
        gen = torch.Generator(device=ctx.device).manual_seed(cfg.seed * 1_000_003 + step * 7919 + ctx.rank)
        groups = rollout(model, codec, mine, cfg.group_size, cfg.max_new_tokens, max_prompt, gen,
                         temperature=cfg.temperature, top_k=cfg.top_k, top_p=cfg.top_p)
        r = torch.tensor([g.rewards for g in groups], dtype=torch.float32)
        advantages = group_advantages(r, cfg.adv_eps).to(ctx.device)
        batches = [group_tensors(g, ctx.device) for g in groups]
        local_tokens = sum(float(m.sum()) for _, _, m in batches)
        (mean_tokens,) = distributed.all_reduce_mean([local_tokens], ctx.device)
        total_tokens = mean_tokens * world  # the loss is normalised by every rank's completion tokens
        with torch.no_grad():
            old = ([completion_logprobs(model, x, y, len(g.prompt), cfg.temperature) for g, (x, y, _) in
                    zip(groups, batches, strict=True)] if cfg.updates_per_batch > 1 else None)
            ref = ([completion_logprobs(reference, x, y, len(g.prompt), cfg.temperature) for g, (x, y, _) in
                    zip(groups, batches, strict=True)] if reference is not None else None)
        loss_sum, stats = 0.0, {"clipped": 0.0, "kl": 0.0}
        for _ in range(cfg.updates_per_batch):
            for i, (g, (x, y, m)) in enumerate(zip(groups, batches, strict=True)):
                logp = completion_logprobs(engine, x, y, len(g.prompt), cfg.temperature)
                loss, st = policy_loss(logp, logp.detach() if old is None else old[i], advantages[i], m,
                                       total_tokens, cfg.clip_eps, cfg.beta, None if ref is None else ref[i])
                # DeepSpeed divides by its accumulation steps and averages ranks: undo both for a token sum.
                # An MoE policy keeps its load-balancing loss (a mean over micro-batches and ranks).
                aux = moe.aux_loss(model)
                engine.backward(loss * per_rank * world + (0.0 if aux is None else policy.cfg.moe_aux_loss_coef * aux))
                engine.step()
                loss_sum += loss.detach().item() * world
                for k, v in st.items():
                    stats[k] += v
        step += 1
        # every rank holds as many rewards, so rank means of r and r² give the step's mean and std
        values = [float(r.mean()), float(r.pow(2).mean()), loss_sum / cfg.updates_per_batch,
                  stats["kl"] / max(local_tokens * cfg.updates_per_batch, 1.0),
                  stats["clipped"] / max(local_tokens * cfg.updates_per_batch, 1.0),
                  local_tokens / r.numel(), float((r.std(dim=-1) == 0).float().mean())]
        reward_mean, reward_sq, loss_value, kl, clip_frac, length, flat = distributed.all_reduce_mean(values, ctx.device)
        reward_std = max(reward_sq - reward_mean**2, 0.0) ** 0.5
        record = {"step": step, "loss": loss_value, "reward_mean": reward_mean, "reward_std": reward_std,
                  "kl": kl if reference is not None else None, "completion_len": length, "clip_frac": clip_frac,
                  "zero_std_groups": flat, "lr": lr, "seconds": time.perf_counter() - t0}
        records.append(record)
        log.write(record)
        if step % cfg.log_every == 0 or step == cfg.steps:
            say(f"step {step:>5}/{cfg.steps} | reward {reward_mean:.3f} ± {reward_std:.3f} | loss {loss_value:+.4f} | "
                f"kl {kl:.4f} | len {length:.1f} | clip {clip_frac:.3f} | lr {lr:.2e}", flush=True)
        if (cfg.save_every and step % cfg.save_every == 0) or step == cfg.steps:
            tag_dir = checkpoint.save(engine, ckpt_dir, step, sampler, policy.cfg.to_dict(), ctx.rank,
                                      cfg.keep_checkpoints)
            say(f"step {step:>5}/{cfg.steps} | saved {tag_dir}", flush=True)
    return records


def plan(cfg: GrpoConfig, resume: bool) -> tuple[list[dict], str]:
    if not (cfg.policy and cfg.data_dir and cfg.out_dir):
        raise ConfigError("--policy (an SFT or pretraining run), --data (tokens directory) and --out are required")
    if not resume and latest_tag(Path(cfg.out_dir) / "checkpoints"):
        raise ConfigError(f"{cfg.out_dir}/checkpoints already holds checkpoints: pass --resume, or choose another --out")
    if cfg.zero_stage == 3:
        raise ConfigError("GRPO runs ZeRO 0-2: generation reads whole weights (ZeRO-3 would gather them each step)")
    for name in ("steps", "prompts_per_step", "group_size", "max_new_tokens", "updates_per_batch", "log_every"):
        if getattr(cfg, name) < 1:
            raise ConfigError(f"{name} must be >= 1, got {getattr(cfg, name)}")
    if cfg.group_size < 2:
        raise ConfigError("group_size must be >= 2: advantages are relative to the group")
    mcfg = model_config_of(cfg.policy)
    if cfg.max_new_tokens >= mcfg.max_seq_len and not cfg.max_prompt_tokens:
        raise ConfigError(f"max_new_tokens {cfg.max_new_tokens} leaves no room for a prompt in {mcfg.max_seq_len}")
    precision = zero.resolve_precision(cfg.precision, distributed.configure_accelerator())
    zero.deepspeed_config(cfg, 1, precision, (1, 1))  # validates stage and optimizer
    return load_prompts(cfg.data_dir, cfg.train_split_only), precision


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policy", help="the run to start from (`trainer sft`'s or `trainer train`'s --out)")
    parser.add_argument("--data", help="tokens directory holding rl.jsonl (or the file itself)")
    parser.add_argument("--out", help="GRPO run directory: checkpoints/, metrics.jsonl, tokenizer.json")
    command.add_config_options(parser, "GrpoConfig (trainer/posttrain/grpo.py)", "--set beta=0 --set group_size=16")
    command.add_launcher_options(parser)


def config_from_args(args: argparse.Namespace) -> GrpoConfig:
    return command.config_from_args(args, GrpoConfig, {"policy": args.policy, "data_dir": args.data,
                                                       "out_dir": args.out})


def run_from_policy(cfg: GrpoConfig, prompts: list[dict], precision: str, resume: bool,
                    ctx: distributed.DistContext) -> list[dict]:
    """A command-line run inside the process group: the run folder, the policy, then the GRPO loop."""
    out = Path(cfg.out_dir)
    tokenizer = tokenizer_of(cfg.policy)
    if tokenizer is None:
        raise ConfigError(f"no tokenizer.json beside {cfg.policy}")
    if ctx.is_main:
        out.mkdir(parents=True, exist_ok=True)
        (out / "grpo_config.json").write_text(json.dumps(to_dict(cfg), indent=2) + "\n")
        shutil.copyfile(tokenizer, out / "tokenizer.json")
    policy = load_transformer(cfg.policy)
    if ctx.is_main:
        (out / "model_config.json").write_text(json.dumps(policy.cfg.to_dict(), indent=2) + "\n")
    return run(cfg, policy, TokenizerCodec(tokenizer), prompts, ctx, precision, out, resume)


def run_cli(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)
    prompts, precision = plan(cfg, args.resume)  # a bad config is refused before any process group exists
    distributed.run_in_group(lambda ctx: run_from_policy(cfg, prompts, precision, args.resume, ctx))
    return 0
