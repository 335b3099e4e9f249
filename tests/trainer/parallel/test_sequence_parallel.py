"""Sequence-split training equals the single-rank run (fp32): DeepSpeed-Ulysses' DistributedAttention
(sp) and this package's ring attention (cp) inside the model; losses over 5 steps within 1e-4 and the
first step's gradients within 1e-5."""

import pytest

from tests.trainer.parallel import ranks_seq
from trainer.parallel.spawn import spawn


@pytest.mark.parametrize("kind", ["ulysses", "ring"])
def test_sequence_split_two_ranks_equals_single_rank(kind):
    spawn(ranks_seq.split_matches_single_rank, 2, kind, 5)


def test_context_parallel_four_ranks_equals_single_rank():
    spawn(ranks_seq.split_matches_single_rank, 4, "ring", 3)


def test_tensor_by_context_parallel_2d_mesh_equals_single_rank():
    spawn(ranks_seq.tp_by_cp_matches_single_rank, 4, 3)
