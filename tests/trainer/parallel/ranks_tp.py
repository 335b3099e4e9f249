"""Rank bodies for test_tensor_parallel.py."""

from torch.distributed.device_mesh import init_device_mesh

from trainer.parallel import exactness, tensor_parallel


def tp_matches_single_rank(rank: int, world: int, steps: int) -> None:
    ref = exactness.tiny_model()
    data = exactness.batches(ref.cfg, steps, batch=2, seq=32)
    ref_grads = {}
    ref_losses = exactness.train(ref, data, exactness.causal_lm_loss,
                                 on_first_grads=lambda m: ref_grads.update(exactness.grads(m)))

    mesh = init_device_mesh("cpu", (world,), mesh_dim_names=("tp",))
    model = tensor_parallel.parallelize(exactness.tiny_model(), mesh["tp"])
    wq = model.layers[0].attention.wq.weight
    assert wq.to_local().shape[0] == wq.shape[0] // world  # really sharded
    grads = {}
    losses = exactness.train(model, data, exactness.causal_lm_loss,
                             on_first_grads=lambda m: grads.update(exactness.grads(m)))
    assert max(abs(a - b) for a, b in zip(losses, ref_losses, strict=True)) <= 1e-4, (losses, ref_losses)
    assert grads.keys() == ref_grads.keys()
    for name, g in grads.items():
        assert (g - ref_grads[name]).abs().max().item() <= 1e-5, name
    state = tensor_parallel.full_state_dict(model)
    after = ref.state_dict()
    assert max((state[k] - after[k]).abs().max().item() for k in after) <= 1e-4
