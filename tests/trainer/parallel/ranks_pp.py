"""Rank bodies for test_pipeline.py: DeepSpeed's PipelineEngine against the single-rank run."""

import deepspeed
import torch

from trainer.parallel import exactness, pipeline
from trainer.parallel.sequence_parallel import init_deepspeed_comm


def _micro_batches(window: torch.Tensor):
    return iter([(window[i:i + 1, :-1], window[i:i + 1, 1:]) for i in range(window.shape[0])])


def pp_matches_single_rank(rank: int, world: int, steps: int, out_file: str) -> None:
    init_state = {k: v.clone() for k, v in exactness.tiny_model().state_dict().items()}
    ref = exactness.tiny_model()
    cfg = ref.cfg
    data = exactness.batches(cfg, steps, batch=2, seq=32)
    ref_grads = {}
    ref_losses = exactness.train(ref, data, exactness.causal_lm_loss, max_norm=None,
                                 on_first_grads=lambda m: ref_grads.update(exactness.grads(m)))

    init_deepspeed_comm()
    pipe = pipeline.pipeline_module(cfg, world)
    pipe.load_state_dict(pipeline.to_pipeline_state(init_state, cfg, pipe), strict=True)
    blocks = {k.split(".")[0] for k in pipe.state_dict() if ".block." in k}
    assert len(blocks) == cfg.n_layers // world, blocks  # each stage holds its share of the blocks only
    opt = exactness.optimizer(list(pipe.parameters()))
    grads = {}
    step = opt.step

    def capture_then_step(*args, **kwargs):
        if not grads:
            grads.update({n: p.grad.clone() for n, p in pipe.named_parameters() if p.grad is not None})
        return step(*args, **kwargs)

    opt.step = capture_then_step
    engine, *_ = deepspeed.initialize(model=pipe, optimizer=opt, config={
        "train_micro_batch_size_per_gpu": 1, "gradient_accumulation_steps": 2, "train_batch_size": 2,
        "zero_optimization": {"stage": 0}, "steps_per_print": 1 << 30, "gradient_clipping": 0.0})
    losses = [float(engine.train_batch(_micro_batches(w))) for w in data]
    assert max(abs(a - b) for a, b in zip(losses, ref_losses, strict=True)) <= 1e-4, (losses, ref_losses)

    mine = pipeline.from_pipeline_state([grads], cfg)  # this stage's gradients under single-rank names
    mine.pop("output.weight", None)
    assert mine and all((g - ref_grads[n]).abs().max().item() <= 1e-5 for n, g in mine.items()), sorted(mine)
    # the stages' weights after training consolidate into the single-rank model's
    stage = {k: v.detach().clone() for k, v in pipe.state_dict().items()}
    states = [None] * world
    torch.distributed.all_gather_object(states, stage)
    merged = pipeline.from_pipeline_state(states, cfg)
    final = ref.state_dict()
    assert merged.keys() == final.keys()
    assert max((merged[k] - final[k]).abs().max().item() for k in final) <= 1e-4
    if rank == 0 and out_file:
        torch.save(merged, out_file)
