"""Pipeline parallel (DeepSpeed PipelineModule, 2 stages, 2 micro-batches, tied embedding across the
first and last stage) equals the single-rank run: losses over 5 steps within 1e-4, each stage's
first-step gradients within 1e-5, the consolidated weights after training within 1e-4 (fp32)."""

from tests.trainer.parallel import ranks_pp
from trainer.parallel.spawn import spawn


def test_pipeline_two_stages_equals_single_rank():
    spawn(ranks_pp.pp_matches_single_rank, 2, 5, "")
