"""Expert parallel MoE (4 experts over 2 ranks, top-2, capacity 1.0, aux loss) equals a single rank
accumulating the same micro-batches: losses over 5 steps within 1e-4, first-step gradients within
1e-5, the gathered weights after training within 1e-4 (fp32)."""

from tests.trainer.parallel import ranks_ep
from trainer.parallel.spawn import spawn


def test_expert_parallel_two_ranks_equals_single_rank():
    spawn(ranks_ep.ep_matches_single_rank, 2, 5)
