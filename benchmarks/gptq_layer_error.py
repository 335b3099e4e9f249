"""GPTQ against RTN on single SmolLM2-135M-Instruct layers: the output error ||X W^T - X Ŵ^T||² (mean)
of int4 GPTQ and int4 RTN (group 128, the gcd 64 on 576-wide inputs) on the calibration tokens GPTQ's
Hessian came from and on held-out tokens, printed as the ratio gptq / rtn (below 1: GPTQ better).
Separates "GPTQ fails at its own objective" from "GPTQ overfits its calibration set".

    .venv/bin/python benchmarks/gptq_layer_error.py --calib-samples 8

Calibration: 256-token windows of Debian's /usr/share/common-licenses texts (benchmarks/smollm2_eval.py);
held-out: the first 2,048 tokens of pipeline/resources/eval/heldout_text.jsonl.gz.
"""

from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != HERE]  # benchmarks/tokenize.py shadows
sys.path.insert(0, os.path.dirname(HERE))

import argparse  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402

REPO = Path(HERE).parent


class _Stop(Exception):
    pass


def _stop(*_args):
    raise _Stop


def layer_inputs(model, layer: int, name: str, tokens: torch.Tensor) -> torch.Tensor:
    """The (N, in_features) inputs of `layers.<layer>.<name>` on `tokens`, running no later block."""
    got: list[torch.Tensor] = []
    lin = model.layers[layer].get_submodule(name)
    hooks = [lin.register_forward_hook(lambda _m, i, _o: got.append(i[0].reshape(-1, i[0].shape[-1]))),
             model.layers[layer].register_forward_hook(_stop)]
    try:
        with torch.no_grad():
            model(tokens)
    except _Stop:
        pass
    finally:
        for h in hooks:
            h.remove()
    return got[0]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--calib-samples", type=int, default=8)
    p.add_argument("--layers", default="0,15")
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    from tokenizers import Tokenizer

    from benchmarks.harness_parity import smollm2_hf_folder
    from benchmarks.smollm2_eval import calibration_from_text
    from trainer.eval.real_eval import read_jsonl
    from trainer.infer.load_model import load_model
    from trainer.quant.gptq import HessianAccumulator, gptq_quantize_weight
    from trainer.quant.linear import QuantLinear, group_size_for, rtn_linear

    folder = smollm2_hf_folder(REPO / "data" / "models")
    model = load_model(folder).model
    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    calib = calibration_from_text(tok, 256, a.calib_samples)
    docs = read_jsonl(REPO / "pipeline" / "resources" / "eval" / "heldout_text.jsonl.gz")
    held = torch.tensor(sum((tok.encode(r["text"]).ids for r in docs), [])[:2048]).view(8, 256)
    print(f"calibration {calib.numel()} tokens, held-out {held.numel()} tokens")
    for layer in [int(x) for x in a.layers.split(",")]:
        for name in ("attention.wq", "feed_forward.w2"):
            lin = model.layers[layer].get_submodule(name)
            xs = {"calibration": layer_inputs(model, layer, name, calib),
                  "held-out": layer_inputs(model, layer, name, held)}
            acc = HessianAccumulator(lin.in_features)
            acc.add(xs["calibration"])
            g = group_size_for(lin.in_features, 128)
            gptq = QuantLinear.from_codes(*gptq_quantize_weight(lin.weight, acc.h, 128), 4, g)
            rtn = rtn_linear(lin.weight, 4, 128)
            with torch.no_grad():
                for tag, x in xs.items():
                    ref = x @ lin.weight.T
                    eg, er = (gptq(x) - ref).pow(2).mean().item(), (rtn(x) - ref).pow(2).mean().item()
                    print(f"layers.{layer}.{name} (in {lin.in_features}, group {g}) {tag:>11}: "
                          f"gptq {eg:.4g} rtn {er:.4g} gptq/rtn {eg / er:.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
