"""Rank bodies for test_sequence_parallel.py: Ulysses (sp) and ring attention (cp) in the model."""

import torch.distributed as dist

from trainer.parallel import exactness, mesh, sequence_parallel, tensor_parallel


def split_matches_single_rank(rank: int, world: int, kind: str, steps: int) -> None:
    ref = exactness.tiny_model()
    data = exactness.batches(ref.cfg, steps, batch=2, seq=32)
    ref_grads = {}
    ref_losses = exactness.train(ref, data, exactness.causal_lm_loss,
                                 on_first_grads=lambda m: ref_grads.update(exactness.grads(m)))

    group = dist.group.WORLD
    model = sequence_parallel.split_sequence(exactness.tiny_model(), group, kind)
    grads = {}
    losses = exactness.train(model, data, lambda m, w: sequence_parallel.chunk_loss(m, w, group),
                             after_backward=lambda m: sequence_parallel.reduce_grads(m, group),
                             on_first_grads=lambda m: grads.update(exactness.grads(m)))
    assert max(abs(a - b) for a, b in zip(losses, ref_losses, strict=True)) <= 1e-4, (losses, ref_losses)
    assert grads.keys() == ref_grads.keys()
    for name, g in grads.items():
        assert (g - ref_grads[name]).abs().max().item() <= 1e-5, (name, (g - ref_grads[name]).abs().max())


def tp_by_cp_matches_single_rank(rank: int, world: int, steps: int) -> None:
    """A 2-D mesh: tp=2 (DTensor) x cp=2 (ring attention over the tp rank's heads) on 4 ranks."""
    ref = exactness.tiny_model()
    data = exactness.batches(ref.cfg, steps, batch=2, seq=32)
    ref_grads = {}
    ref_losses = exactness.train(ref, data, exactness.causal_lm_loss,
                                 on_first_grads=lambda m: ref_grads.update(exactness.grads(m)))

    device_mesh = mesh.build_mesh(mesh.Degrees(tp=2, cp=2), world)
    cp_group = device_mesh["cp"].get_group()
    model = tensor_parallel.parallelize(exactness.tiny_model(), device_mesh["tp"])
    model = sequence_parallel.split_sequence(model, cp_group, "ring")
    grads = {}
    losses = exactness.train(model, data, lambda m, w: sequence_parallel.chunk_loss(m, w, cp_group),
                             after_backward=lambda m: sequence_parallel.reduce_grads(m, cp_group),
                             on_first_grads=lambda m: grads.update(exactness.grads(m)))
    assert max(abs(a - b) for a, b in zip(losses, ref_losses, strict=True)) <= 1e-4, (losses, ref_losses)
    for name, g in grads.items():
        assert (g - ref_grads[name]).abs().max().item() <= 1e-5, (name, (g - ref_grads[name]).abs().max())
