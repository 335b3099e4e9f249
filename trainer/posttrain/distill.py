"""Distil a small speculative draft from a model: its embeddings, final norm and L of its layers, trained
to predict the teacher's next tokens, with an output head restricted to the K most frequent ids.

    python -m trainer distill --teacher <run or HF folder> --data FILE.jsonl|<tokens dir> --out <draft run>
        --layers 2 [--head-vocab 8192] [--steps 150] [--set top_k=32 --set lr=5e-4 ...]

Why this shape (the draft must be cheap next to the target at batch 1): a student initialised from the
teacher (layers evenly spaced, first and last kept; as DistilBERT, Sanh et al. 2019, starts from every
other layer) starts close, and on SmolLM2-135M the 49,152 x 576 head is a fifth of a decode step, so the
draft scores only `head_vocab` ids (counted on the training text; ModelConfig.head_vocab), whose ids
stay SmolLM2's so speculative acceptance stays exact.

`--data`: a JSONL of the teacher's own outputs, {"ids": prompt + answer, "loss_from": len(prompt)}, and
optionally "top_ids"/"top_logits", the teacher's top-k logits before each answer token
(benchmarks/distill_data_smollm2.py records them while generating). With them, or with `top_k` > 0
(always, for a token-shards dir of plain text: computed once, cached in `<out>/teacher_topk.pt`), the loss
is the forward KL to the teacher's next-token distribution over its top-k; without, the cross-entropy on
the teacher's tokens (sequence-level distillation, Kim & Rush 2016: on greedy outputs the token *is*
the teacher's argmax, what greedy speculation accepts). Trains with the DeepSpeed engine as SFT does;
`<out>` is a run in the pretraining layout (`load_model`, `trainer evaluate --draft <out>` read it).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from trainer import command
from trainer.config import ConfigError, EngineConfig, to_dict
from trainer.infer.load_model import ModelLoadError, load_model
from trainer.model.checkpoint import save_transformer
from trainer.model.transformer import Transformer
from trainer.posttrain.distill_data import DistillSet, head_ids_by_frequency, load_distill_set, teacher_topk
from trainer.posttrain.engine import deepspeed_engine
from trainer.train import distributed, zero
from trainer.train.data import EpochSampler, ShardError
from trainer.train.distributed import seed_everything
from trainer.train.metrics import MetricsLog


@dataclass
class DistillConfig(EngineConfig):
    teacher: str = ""  # --teacher: a run dir or an HF folder
    data: str = ""  # --data: teacher-output JSONL or a tokens dir
    out_dir: str = ""  # --out
    layers: int = 2  # student depth
    layer_ids: list[int] = field(default_factory=list)  # teacher layers to copy; []: evenly spaced, first and last
    head_vocab: int = 8192  # 0: the full vocabulary
    top_k: int = 0  # > 0: forward KL to the teacher's top-k logits (cached); 0: CE on the data's tokens
    seq_len: int = 256
    max_sequences: int = 0  # 0: all
    val_fraction: float = 0.05  # last sequences held out for the top-1 agreement figure
    train_embeddings: bool = False  # the 49k-row table: Adam states for little gain in minutes of training
    micro_batch_size: int = 4
    grad_accum: int = 1
    lr: float = 5e-4
    warmup_steps: int = 10
    weight_decay: float = 0.0
    steps: int = 150
    zero_stage: int = 0  # one CPU process: nothing to partition


def spaced_layers(n_teacher: int, n_student: int) -> list[int]:
    """n_student indices from 0 to n_teacher - 1, evenly spaced, first and last included."""
    if n_student == 1:
        return [n_teacher - 1]
    return [round(i * (n_teacher - 1) / (n_student - 1)) for i in range(n_student)]


def student_from_teacher(teacher: Transformer, layer_ids: list[int], head_ids: torch.Tensor | None) -> Transformer:
    """A fresh Transformer holding copies of the teacher's embeddings, final norm, `layer_ids` blocks and
    (the `head_ids` rows of) its output head."""
    import dataclasses

    cfg = dataclasses.replace(teacher.cfg, n_layers=len(layer_ids), moe_layers=None, n_experts=0,
                              gradient_checkpointing=False,
                              head_vocab=0 if head_ids is None else len(head_ids),
                              tie_embeddings=teacher.cfg.tie_embeddings and head_ids is None)
    student = Transformer(cfg)
    with torch.no_grad():
        student.tok_embeddings.weight.copy_(teacher.tok_embeddings.weight)
        student.norm.load_state_dict(teacher.norm.state_dict())
        for mine, theirs in zip(student.layers, layer_ids, strict=True):
            mine.load_state_dict(teacher.layers[theirs].state_dict())
        if head_ids is not None:
            student.head_ids.copy_(head_ids)
            student.output.weight.copy_(teacher.output.weight[head_ids])
        elif not cfg.tie_embeddings:
            student.output.weight.copy_(teacher.output.weight)
    return student


class DistillLoss(nn.Module):
    """The student plus its loss, so the DeepSpeed engine's forward returns the loss: the head runs only
    at positions that count (answer tokens), over the restricted vocabulary."""

    def __init__(self, student: Transformer):
        super().__init__()
        self.student = student
        ids = student.head_ids if student.cfg.head_vocab else torch.arange(student.cfg.vocab_size)
        slot = torch.full((student.cfg.vocab_size,), -1, dtype=torch.long)
        slot[ids] = torch.arange(len(ids))
        self.register_buffer("slot", slot, persistent=False)  # vocab id -> head column, -1 outside

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        s = self.student
        cos, sin = s.rotary_tables(x.shape[1], x.device)
        h = s.tok_embeddings(x)
        for layer in s.layers:
            h = layer(h, cos, sin)
        return s.norm(h)

    def forward(self, x, targets, mask, top_ids=None, top_logits=None) -> tuple[torch.Tensor, torch.Tensor]:
        """(loss, top-1 agreement with the target token) over the positions where mask is True."""
        h = self.hidden(x)[mask]
        logp = F.log_softmax(self.student.output(h).float(), -1)
        y = self.slot[targets[mask]]
        agree = (logp.argmax(-1) == y).float().mean()
        if top_ids is None:  # cross-entropy on the teacher's tokens; ids outside the head cannot count
            keep = y >= 0
            return -logp[keep].gather(-1, y[keep, None]).mean(), agree
        cols = self.slot[top_ids[mask]]  # forward KL: the teacher's top-k mass inside the head, renormalised
        p = torch.where(cols >= 0, top_logits[mask].float(), float("-inf")).softmax(-1)
        return -(p * logp.gather(-1, cols.clamp(min=0))).nansum(-1).mean(), agree


@dataclass
class Plan:
    cfg: DistillConfig
    teacher: Transformer
    tokenizer: Path | None
    data: DistillSet
    layer_ids: list[int]
    precision: str


def plan(cfg: DistillConfig) -> Plan:
    if not (cfg.teacher and cfg.data and cfg.out_dir):
        raise ConfigError("--teacher (a run or HF folder), --data (JSONL or tokens dir) and --out are required")
    for name in ("steps", "micro_batch_size", "grad_accum", "layers", "seq_len"):
        if getattr(cfg, name) < 1:
            raise ConfigError(f"{name} must be >= 1, got {getattr(cfg, name)}")
    loaded = load_model(cfg.teacher)
    teacher = loaded.model.float().eval()
    n = teacher.cfg.n_layers
    layer_ids = list(cfg.layer_ids) or spaced_layers(n, cfg.layers)
    if len(layer_ids) != cfg.layers or any(not 0 <= i < n for i in layer_ids):
        raise ConfigError(f"layer_ids {layer_ids} must be {cfg.layers} indices of the teacher's {n} layers")
    if not 0 <= cfg.head_vocab <= teacher.cfg.vocab_size:
        raise ConfigError(f"head_vocab {cfg.head_vocab} must be in [0, {teacher.cfg.vocab_size}]")
    data = load_distill_set(cfg.data, cfg.seq_len, teacher.cfg.vocab_size, cfg.max_sequences)
    if data.is_plain_text and cfg.top_k < 1:
        raise ConfigError(f"{cfg.data} is plain text: distilling on it needs the teacher's logits (--set top_k=32)")
    precision = zero.resolve_precision(cfg.precision, distributed.configure_accelerator())
    zero.deepspeed_config(cfg, 1, precision)
    return Plan(cfg, teacher, loaded.tokenizer, data, layer_ids, precision)


def _train(p: Plan, ctx: distributed.DistContext) -> dict:
    cfg, out = p.cfg, Path(p.cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "distill_config.json").write_text(json.dumps(to_dict(cfg), indent=2) + "\n")
    seed_everything(cfg.seed)
    data = p.data
    if cfg.top_k and data.top_ids is None:
        data = teacher_topk(p.teacher, data, cfg.top_k, out / "teacher_topk.pt", key=str(Path(cfg.teacher).resolve()))
    head_ids = head_ids_by_frequency(data, cfg.head_vocab, p.teacher.cfg.vocab_size) if cfg.head_vocab else None
    student = student_from_teacher(p.teacher, p.layer_ids, head_ids)
    student.tok_embeddings.weight.requires_grad_(cfg.train_embeddings)
    module = DistillLoss(student).to(ctx.device)
    engine, scheduler = deepspeed_engine(module, cfg, ctx.world_size, p.precision, cfg.steps)
    n_val = max(1, int(len(data) * cfg.val_fraction)) if cfg.val_fraction > 0 and len(data) > 1 else 0
    train_idx, val_idx = torch.arange(len(data) - n_val), torch.arange(len(data) - n_val, len(data))
    sampler = EpochSampler(len(train_idx), cfg.seed)
    log = MetricsLog(out / "metrics.jsonl", ctx.is_main)
    log.truncate_after(0)
    print(f"distilling {cfg.teacher} -> {len(p.layer_ids)} layers {p.layer_ids}, head {cfg.head_vocab or 'full'} ids | "
          f"{sum(q.numel() for q in module.parameters() if q.requires_grad) / 1e6:.2f}M trainable | "
          f"{len(train_idx)} train / {n_val} val sequences of <= {cfg.seq_len} tokens | "
          f"{'CE on the teacher tokens' if data.top_ids is None else f'KL to its top-{data.top_ids.shape[-1]}'}",
          flush=True)
    engine.train()
    t0, interval = time.perf_counter(), []
    for step in range(1, cfg.steps + 1):
        lr = scheduler.get_last_lr()[0]
        for _ in range(cfg.grad_accum):
            batch = data.batch(train_idx[sampler.take(cfg.micro_batch_size)], ctx.device)
            loss, agree = engine(*batch)
            engine.backward(loss)
            engine.step()
            interval.append((loss.item(), agree.item()))
        if step % cfg.log_every == 0 or step == cfg.steps:
            loss_m, agree_m = (sum(v) / len(interval) for v in zip(*interval, strict=True))
            interval = []
            log.write({"step": step, "loss": loss_m, "top1_agreement": agree_m, "lr": lr})
            print(f"step {step:>5}/{cfg.steps} | loss {loss_m:.4f} | top-1 agreement {agree_m:.3f} | lr {lr:.2e} | "
                  f"{time.perf_counter() - t0:.0f} s", flush=True)
    result = {"steps": cfg.steps, "layer_ids": p.layer_ids, "head_vocab": cfg.head_vocab}
    if n_val:
        result["val_top1_agreement"] = _agreement(engine, data, val_idx, cfg.micro_batch_size, ctx.device)
        log.write({"step": cfg.steps, "val_top1_agreement": result["val_top1_agreement"]})
        print(f"val top-1 agreement with the teacher's tokens: {result['val_top1_agreement']:.3f} "
              f"({n_val} held-out sequences)", flush=True)
    tag_dir = save_transformer(engine.module.student.eval(), out, cfg.steps, p.tokenizer)
    print(f"saved the draft to {tag_dir}", flush=True)
    return result


@torch.no_grad()
def _agreement(engine, data: DistillSet, idx: torch.Tensor, mb: int, device) -> float:
    engine.eval()
    scores = []
    for start in range(0, len(idx), mb):
        x, y, m, *_ = data.batch(idx[start:start + mb], device)
        scores.append((engine.module(x, y, m)[1].item(), int(m.sum())))
    engine.train()
    return sum(s * n for s, n in scores) / max(sum(n for _, n in scores), 1)


def distill(cfg: DistillConfig) -> dict:
    """In-process run (tests), as trainer.posttrain.sft.train."""
    return _train(plan(cfg), distributed.setup())


USER_ERRORS = (ShardError, ModelLoadError)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--teacher", help="the model to distil: a run dir (trainer import-model's --out) or HF folder")
    parser.add_argument("--data", help="teacher-output JSONL ({ids, loss_from} lines) or a tokens dir")
    parser.add_argument("--out", help="the draft's run directory")
    parser.add_argument("--layers", type=int, help="student layers (shorthand for --set layers=L)")
    parser.add_argument("--head-vocab", type=int, help="ids the draft's head scores; 0: all (--set head_vocab=K)")
    command.add_config_options(parser, "DistillConfig (trainer/posttrain/distill.py)", "--set top_k=32")
    command.add_launcher_options(parser, resume=False)


def run_cli(args: argparse.Namespace) -> int:
    cfg = command.config_from_args(args, DistillConfig, {"teacher": args.teacher, "data": args.data,
                                                         "out_dir": args.out},
                                   layers=args.layers, head_vocab=args.head_vocab)
    p = plan(cfg)
    distributed.run_in_group(lambda ctx: _train(p, ctx))
    return 0
