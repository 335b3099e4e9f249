"""Expert parallelism for trainer/model/moe.py's MoE: each rank of an expert group holds n_experts/ep of
the experts and a token's hidden state travels to the rank of each expert it is routed to.

Routing stays the model's own (Mixtral top-k, Switch aux loss, GShard capacity computed on this rank's
tokens, exactly as on a data-parallel rank), which DeepSpeed's MoE layer would replace with its own
gate; so the dispatch is ours: an all-to-all of per-rank counts, then differentiable
`torch.distributed.nn.functional.all_to_all_single` of the token rows there and of the expert outputs
back (GShard's dispatch/combine; gloo runs both on CPU). Gradients of a rank's experts arrive from every
rank's tokens through the backward all-to-all; the rest of the model is data parallel.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.distributed.nn.functional as dist_nn
import torch.nn.functional as F
from torch import nn

from trainer.model.moe import MoE, capacity_keep, moe_layers, switch_aux_loss


class ExpertParallelMoE(MoE):
    def __init__(self, moe: MoE, group):
        nn.Module.__init__(self)
        self.n_experts, self.top_k, self.capacity_factor = moe.n_experts, moe.top_k, moe.capacity_factor
        self.group, world = group, dist.get_world_size(group)
        if self.n_experts % world:
            raise ValueError(f"{self.n_experts} experts do not divide over {world} expert-parallel ranks")
        self.per_rank = self.n_experts // world
        self.first = dist.get_rank(group) * self.per_rank
        self.gate = moe.gate
        self.experts = nn.ModuleList(moe.experts[self.first:self.first + self.per_rank])
        self.last_aux_loss: torch.Tensor | None = None
        self.last_stats: dict[str, torch.Tensor] = {}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        x = x.reshape(-1, shape[-1])
        probs = F.softmax(self.gate(x), dim=-1, dtype=torch.float32)
        top_p, chosen = torch.topk(probs, self.top_k, dim=-1)
        weights = (top_p / top_p.sum(-1, keepdim=True)).to(x.dtype)
        cap = self.capacity(x.shape[0])
        keep = torch.ones_like(chosen, dtype=torch.bool) if cap is None else capacity_keep(chosen, self.n_experts, cap)

        token, slot = torch.where(keep)
        expert = chosen[token, slot]
        order = torch.argsort(expert, stable=True)  # experts are contiguous per rank: sorted by destination
        token, slot, expert = token[order], slot[order], expert[order]
        send = torch.bincount(expert // self.per_rank, minlength=dist.get_world_size(self.group))
        recv = torch.empty_like(send)
        dist.all_to_all_single(recv, send, group=self.group)
        send_sizes, recv_sizes = send.tolist(), recv.tolist()
        ids = torch.empty(sum(recv_sizes), dtype=expert.dtype)
        dist.all_to_all_single(ids, expert.contiguous(), recv_sizes, send_sizes, group=self.group)
        rows = dist_nn.all_to_all_single(x.new_empty(sum(recv_sizes), shape[-1]), x[token],
                                         recv_sizes, send_sizes, group=self.group)
        y = torch.zeros_like(rows)
        for i, module in enumerate(self.experts):  # every local expert runs, even on no rows
            idx = torch.where(ids == self.first + i)[0]
            y = y.index_add(0, idx, module(rows[idx]))
        back = dist_nn.all_to_all_single(x.new_empty(len(token), shape[-1]), y, send_sizes, recv_sizes,
                                         group=self.group)
        out = torch.zeros_like(x).index_add(0, token, back * weights[token, slot, None])

        self.last_aux_loss = switch_aux_loss(probs, chosen, self.n_experts)
        with torch.no_grad():
            self.last_stats = {"assigned": torch.bincount(chosen.flatten(), minlength=self.n_experts),
                               "dropped": (~keep).sum(), "tokens_dropped": (~keep).all(-1).sum(),
                               "tokens": torch.tensor(x.shape[0])}
        return out.reshape(shape)


def shard_experts(model: nn.Module, group) -> nn.Module:
    """Replace every MoE feed-forward of `model` (in place) by its expert-parallel shard on `group`."""
    for block in model.layers:
        if isinstance(block.feed_forward, MoE):
            block.feed_forward = ExpertParallelMoE(block.feed_forward, group)
    return model


def is_expert_param(name: str) -> bool:
    return ".feed_forward.experts." in name


def reduce_grads(model: nn.Module, dp_group) -> None:
    """Data-parallel mean: replicated parameters all-reduce; expert shards (one owner each when ep = dp)
    already hold the sum over every rank's tokens, so they only divide."""
    world = dist.get_world_size(dp_group)
    for name, p in model.named_parameters():
        if p.grad is None:
            continue
        if not is_expert_param(name):
            dist.all_reduce(p.grad, group=dp_group)
        p.grad.div_(world)


def full_state_dict(model: nn.Module, group, tensors: dict | None = None) -> dict:
    """The single-rank state dict (a collective over the expert group): local expert i of a shard is
    global expert first + i. `tensors` (name -> tensor, default the state dict) may be gradients."""
    local = {k: v.detach().clone() for k, v in (tensors if tensors is not None else model.state_dict()).items()}
    shards = {m.first for m in moe_layers(model)}
    first = next(iter(shards)) if shards else 0
    gathered = [None] * dist.get_world_size(group)
    dist.all_gather_object(gathered, (first, local), group=group)
    out = {}
    for first, state in gathered:
        for k, v in state.items():
            if is_expert_param(k):
                head, rest = k.split(".feed_forward.experts.")
                i, tail = rest.split(".", 1)
                out[f"{head}.feed_forward.experts.{first + int(i)}.{tail}"] = v
            else:
                out.setdefault(k, v)
    return out
