"""Every parallel layout against the unsharded computation, in fp32 on gloo CPU ranks (one thread each).

- ring attention: forward and backward equal full causal GQA attention within 1e-5 on 2 and 4 ranks;
  uneven chunks refused.
- tp (DTensor), sp (DeepSpeed-Ulysses), cp (ring attention, 2 and 4 ranks), tp x cp (a 2-D mesh on 4
  ranks), pp (DeepSpeed PipelineModule), ep (all-to-all experts): losses at steps 1..5 (3 on 4 ranks)
  equal the single-rank run within 1e-4, first-step gradients of the unsharded parameters within 1e-5.
- checkpoint: saved at tp=2, resumed at cp=2 with the uninterrupted losses, exported to the same HF model.

The scenarios of one world size share one spawned group (tests/trainer/parallel/scenarios.py).
"""

import pytest
import torch

from tests.trainer.parallel import scenarios
from trainer.parallel.spawn import spawn

pytestmark = [pytest.mark.slow, pytest.mark.skipif(torch.cuda.is_available(), reason="CPU/gloo scenarios")]

GROUPS = {
    2: ["ring_attention_2", "tp", "sp_ulysses", "cp_ring", "pp", "ep", "checkpoint"],
    4: ["ring_attention_4", "cp_ring_4", "tp_x_cp"],
}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    found = {}
    for world, names in GROUPS.items():
        out = tmp_path_factory.mktemp(f"world{world}")
        spawn(scenarios.run, world, names, str(out))
        found.update({(world, name): failures for name, failures in scenarios.outcomes(out, world).items()})
    return found


@pytest.mark.parametrize("world, name", [(w, n) for w, names in GROUPS.items() for n in names],
                         ids=lambda v: str(v))
def test_layout_is_exact(outcomes, world, name):
    failures = outcomes[(world, name)]
    assert not failures, "\n".join(failures)
