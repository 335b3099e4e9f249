"""Parallel degrees (tp, pp, sp, cp, ep) and data parallelism (dp) composed on one device mesh.

The mesh's dimensions, outermost first: pp, dp, cp, sp, tp (torchtitan's order: the degree whose
collectives are most frequent, tp, gets the nearest ranks). dp is what the world leaves:
world_size / (pp·cp·sp·tp). Expert parallelism carves its groups out of dp, as DeepSpeed's MoE does
(`expert_group_size` divides the data-parallel size): experts are sharded across ep data-parallel
ranks that each see their own tokens.

`check` returns every reason a combination is impossible, so a command line prints them all and exits 2
before any process group exists.
"""

from __future__ import annotations

from dataclasses import dataclass

DEGREES = ("tp", "pp", "sp", "cp", "ep")
MESH_DIMS = ("pp", "dp", "cp", "sp", "tp")


@dataclass(frozen=True)
class Degrees:
    tp: int = 1  # tensor parallel: attention heads and MLP columns (Megatron, Shoeybi et al. 2019)
    pp: int = 1  # pipeline parallel: layers in stages (GPipe, Huang et al. 2019; DeepSpeed PipelineModule)
    sp: int = 1  # sequence parallel, DeepSpeed-Ulysses (Jacobs et al. 2023): all-to-all sequence <-> heads
    cp: int = 1  # context parallel: ring attention (Liu et al. 2023) over sequence chunks
    ep: int = 1  # expert parallel: MoE experts across data-parallel ranks (GShard, Lepikhin et al. 2020)

    @classmethod
    def of(cls, cfg) -> Degrees:
        """The degrees of any config object holding tp/pp/sp/cp/ep fields (trainer.config.TrainConfig)."""
        return cls(**{name: getattr(cfg, name, 1) for name in DEGREES})

    @property
    def model_parallel(self) -> int:
        return self.pp * self.cp * self.sp * self.tp

    def dp(self, world_size: int) -> int:
        return world_size // self.model_parallel

    def is_plain(self) -> bool:
        return all(getattr(self, name) == 1 for name in DEGREES)

    def describe(self, world_size: int) -> str:
        parts = [f"{name}={getattr(self, name)}" for name in MESH_DIMS if name != "dp" and getattr(self, name) > 1]
        return " ".join([f"dp={self.dp(world_size)}", *parts] + ([f"ep={self.ep}"] if self.ep > 1 else []))


def check(d: Degrees, world_size: int, *, n_heads: int, n_kv_heads: int, n_layers: int, ffn_dim: int,
          n_experts: int, seq_len: int, zero_stage: int) -> list[str]:
    """Every reason these degrees cannot run this model on `world_size` ranks; [] when they can."""
    bad = [f"{name} must be >= 1, got {getattr(d, name)}" for name in DEGREES if getattr(d, name) < 1]
    if bad:
        return bad
    if world_size % d.model_parallel:
        bad.append(f"pp·cp·sp·tp = {d.pp}·{d.cp}·{d.sp}·{d.tp} = {d.model_parallel} does not divide the world "
                   f"size {world_size} (data parallelism takes the rest: world = dp·pp·cp·sp·tp)")
    heads_split = d.tp * d.sp  # tp shards heads; Ulysses scatters each rank's heads again over sp
    for what, n in (("n_heads", n_heads), ("n_kv_heads", n_kv_heads)):
        if n % heads_split:
            bad.append(f"model.{what} {n} is not divisible by tp·sp = {d.tp}·{d.sp} (each rank needs whole heads)")
    if ffn_dim % d.tp:
        bad.append(f"model.ffn_dim {ffn_dim} is not divisible by tp {d.tp}")
    if n_layers % d.pp:
        bad.append(f"model.n_layers {n_layers} is not divisible by pp {d.pp} (equal stages)")
    if d.pp > 1 and zero_stage >= 2:
        # DeepSpeed's PipelineEngine: "ZeRO-2 and ZeRO-3 are incompatible with pipeline parallelism"
        bad.append(f"zero_stage {zero_stage} with pp {d.pp}: ZeRO-2/3 shard gradients across the micro-batches "
                   "a pipeline accumulates; use zero_stage 0 or 1")
    if seq_len % (d.sp * d.cp):
        bad.append(f"seq_len {seq_len} is not divisible by sp·cp = {d.sp}·{d.cp} (uneven sequence splits "
                   "are refused)")
    if d.ep > 1:
        if not n_experts:
            bad.append(f"ep {d.ep} needs a mixture-of-experts model (model.n_experts > 0)")
        elif n_experts % d.ep:
            bad.append(f"model.n_experts {n_experts} is not divisible by ep {d.ep}")
        if not world_size % d.model_parallel and d.dp(world_size) % d.ep:
            bad.append(f"ep {d.ep} does not divide the data-parallel size {d.dp(world_size)} "
                       "(expert groups are carved out of data parallelism)")
    if d.tp > 1 and zero_stage == 3:
        bad.append("tp with zero_stage 3: ZeRO-3 would re-partition the DTensor shards; use zero_stage <= 2")
    return bad


def check_model(d: Degrees, world_size: int, model_cfg, seq_len: int, zero_stage: int) -> list[str]:
    """`check` for a trainer.model.transformer.ModelConfig."""
    return check(d, world_size, n_heads=model_cfg.n_heads, n_kv_heads=model_cfg.n_kv_heads,
                 n_layers=model_cfg.n_layers, ffn_dim=model_cfg.ffn_dim, n_experts=model_cfg.n_experts,
                 seq_len=seq_len, zero_stage=zero_stage)


def build_mesh(d: Degrees, world_size: int, device_type: str = "cpu"):
    """A torch DeviceMesh with dims pp, dp, cp, sp, tp (size-1 dims included, so code can always
    ask for `mesh["tp"]`). Call inside an initialised process group."""
    from torch.distributed.device_mesh import init_device_mesh

    shape = (d.pp, d.dp(world_size), d.cp, d.sp, d.tp)
    return init_device_mesh(device_type, shape, mesh_dim_names=MESH_DIMS)
