"""Rank bodies for test_parallel_checkpoint.py: saved at tp=2, resumed at cp=2, exported to HF."""

from pathlib import Path

import pytest
import torch
import torch.distributed as dist
from torch.distributed.device_mesh import init_device_mesh

from trainer.model.checkpoint import CheckpointError
from trainer.parallel import checkpoint, exactness, sequence_parallel, tensor_parallel
from trainer.parallel.mesh import Degrees


def tp_saves_cp_resumes_and_exports(rank: int, world: int, root: str) -> None:
    root = Path(root)
    ref = exactness.tiny_model()
    data = exactness.batches(ref.cfg, 5, batch=2, seq=32)
    ref_losses = exactness.train(ref, data, exactness.causal_lm_loss)

    tp_model = tensor_parallel.parallelize(exactness.tiny_model(), init_device_mesh("cpu", (world,)))
    exactness.train(tp_model, data[:3], exactness.causal_lm_loss,
                    after_step=lambda i, m, o: checkpoint.save(root / "tp", i, m, o, Degrees(tp=world)))
    dist.barrier()

    group = dist.group.WORLD
    model = sequence_parallel.split_sequence(exactness.tiny_model(seed=7), group, "ring")  # weights come from the checkpoint
    opt = exactness.optimizer(list(model.parameters()))
    assert checkpoint.load(root / "tp", model, opt, Degrees(cp=world)) == 3
    losses = exactness.train(model, data[3:], lambda m, w: sequence_parallel.chunk_loss(m, w, group),
                             after_backward=lambda m: sequence_parallel.reduce_grads(m, group), opt=opt)
    assert max(abs(a - b) for a, b in zip(losses, ref_losses[3:], strict=True)) <= 1e-4, (losses, ref_losses)
    checkpoint.save(root / "cp", 5, model, opt, Degrees(cp=world))
    with pytest.raises(CheckpointError, match="pp=2"):
        checkpoint.load(root / "tp", model, opt, Degrees(pp=2))
    dist.barrier()
    if rank == 0:
        from transformers import AutoModelForCausalLM

        from trainer.model.export import export

        hf = AutoModelForCausalLM.from_pretrained(export(root / "cp", root / "hf"), dtype=torch.float32)
        tokens = data[0][:, :-1]
        with torch.no_grad():
            assert (hf.eval()(tokens).logits - ref.eval()(tokens)).abs().max().item() <= 1e-4
