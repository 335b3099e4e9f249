"""Checkpoints that move between parallel layouts: saved consolidated, loaded into any layout.

A layout whose parameters keep the single-rank names (plain, tp through DTensor, sp, cp) saves the
full weights in the single-rank run layout (trainer/model/checkpoint.py's `save_transformer`, which
`trainer export` and every reader take) plus the AdamW state by parameter name, unsharded
(`parallel_optimizer.pt`); loading slices both into the new layout (`distribute_tensor` for DTensor
parameters), so a run saved at tp=2 continues at cp=2, or on one rank, with the uninterrupted run's
losses. Pipeline and expert-parallel runs consolidate their weights (pipeline.from_pipeline_state,
expert_parallel.full_state_dict) but their optimizer state is not mapped: resuming them at another
degree is refused with that reason.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.distributed as dist
from torch.distributed.tensor import DTensor, distribute_tensor

from trainer.model.checkpoint import CheckpointError, consolidated_state_dict, locate, save_transformer
from trainer.model.transformer import Transformer
from trainer.parallel.mesh import Degrees

OPTIMIZER_FILE = "parallel_optimizer.pt"


def _full(t):
    return t.full_tensor() if isinstance(t, DTensor) else t


def _like(full: torch.Tensor, param: torch.Tensor) -> torch.Tensor:
    """`full` laid out as `param` is: this rank's DTensor shard, or the tensor itself."""
    if isinstance(param, DTensor):
        return distribute_tensor(full.to(param.dtype), param.device_mesh, param.placements)
    return full.to(param.dtype).clone()


def refuse_resume(degrees: Degrees) -> None:
    if degrees.pp > 1 or degrees.ep > 1:
        raise CheckpointError(f"pp={degrees.pp} ep={degrees.ep}: a pipeline's or expert shard's optimizer state "
                              "is not mapped across degrees; resume at the same layout, or start from its "
                              "consolidated weights (init_from)")


def save(run_dir: str | Path, step: int, model: Transformer, opt: torch.optim.Optimizer, degrees: Degrees,
         extra: dict | None = None) -> Path | None:
    """A collective over every rank of the layout; rank 0 writes (`extra`, e.g. the sampler position,
    beside the optimizer state). Returns the tag dir on rank 0."""
    refuse_resume(degrees)
    weights = {k: _full(v).detach().cpu() for k, v in model.state_dict().items()}
    optim = {}
    for name, p in model.named_parameters():
        optim[name] = {k: (_full(v).detach().cpu() if torch.is_tensor(v) else v) for k, v in opt.state[p].items()}
    if dist.get_rank() != 0:
        return None
    plain = Transformer(model.cfg)
    plain.load_state_dict(weights)
    tag_dir = save_transformer(plain, run_dir, step, None)
    torch.save({"optimizer": optim, "degrees": degrees.__dict__, "step": step, "extra": extra or {}},
               tag_dir / OPTIMIZER_FILE)
    return tag_dir


@torch.no_grad()
def load(run_dir: str | Path, model: Transformer, opt: torch.optim.Optimizer, degrees: Degrees) -> int:
    """Weights and AdamW state of the latest checkpoint into `model` (any layout above); the step."""
    refuse_resume(degrees)
    ckpt_dir, tag = locate(run_dir)
    state = consolidated_state_dict(ckpt_dir, tag)
    extra = ckpt_dir / tag / OPTIMIZER_FILE
    if not extra.is_file():
        raise CheckpointError(f"{ckpt_dir / tag} holds no {OPTIMIZER_FILE}: a ZeRO run resumes with "
                              "`trainer train --resume`, or start from its weights with init_from")
    saved = torch.load(extra, weights_only=True)
    for name, p in model.named_parameters():
        local = _like(state[name], p)
        (p.to_local() if isinstance(p, DTensor) else p).copy_(local.to_local() if isinstance(local, DTensor) else local)
        opt.state[p] = {k: (_like(v, p) if torch.is_tensor(v) and v.dim() else v) for k, v in saved["optimizer"][name].items()}
    return int(saved["step"])


def saved_extra(run_dir: str | Path) -> dict:
    """The `extra` the latest checkpoint was saved with."""
    ckpt_dir, tag = locate(run_dir)
    return torch.load(ckpt_dir / tag / OPTIMIZER_FILE, weights_only=True).get("extra", {})
