"""Ring attention equals full causal attention, forward and backward, in fp32 (GQA and plain heads);
uneven chunks are refused on every rank. One spawn per world size: a launch costs more than the math."""

from tests.trainer.parallel import ranks_ring
from trainer.parallel.spawn import spawn


def test_two_ranks_gqa_multi_head_and_uneven_refused():
    spawn(ranks_ring.ring_matches_full_attention, 2, [(4, 2, 32), (4, 4, 16), (8, 1, 12)])


def test_four_ranks_gqa():
    spawn(ranks_ring.ring_matches_full_attention, 4, [(4, 2, 32)])
