"""Tensor parallel (DTensor) training equals the single-rank run: losses over 5 steps within 1e-4,
the first step's full gradients within 1e-5, the weights after training within 1e-4 (fp32)."""

from tests.trainer.parallel import ranks_tp
from trainer.parallel.spawn import spawn


def test_tensor_parallel_two_ranks_equals_single_rank():
    spawn(ranks_tp.tp_matches_single_rank, 2, 5)
