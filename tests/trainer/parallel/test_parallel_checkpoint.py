"""A checkpoint saved at tp=2 (DTensor) resumes at cp=2 (ring attention) with the uninterrupted
single-rank run's losses (within 1e-4), and exports to the HF model whose logits are the single-rank
model's; a pipeline resume is refused with its reason."""

from tests.trainer.parallel import ranks_ckpt
from trainer.parallel.spawn import spawn


def test_saved_at_tp_resumes_at_cp_and_exports(tmp_path):
    spawn(ranks_ckpt.tp_saves_cp_resumes_and_exports, 2, str(tmp_path))
