"""`python -m trainer quantize`: a trained model (run dir, checkpoint or HF export) as a quantized folder.

    python -m trainer quantize --model <run dir | hf dir> --out DIR --method int4-gptq \
        [--tokens <tokens dir>] [--group-size 128] [--calib-samples 128]
"""

from __future__ import annotations

import argparse

from trainer.config import ConfigError
from trainer.infer.load_model import ModelLoadError, load_model
from trainer.quant.gptq import calibration_windows
from trainer.quant.linear import METHODS, QuantConfig, model_bytes
from trainer.quant.quantize import quantize_model, save_quantized

USER_ERRORS = (ModelLoadError,)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="pretrain run dir, checkpoint dir or HF export dir")
    parser.add_argument("--out", required=True)
    parser.add_argument("--method", default="int8", choices=METHODS)
    parser.add_argument("--tokens", help="tokens dir: GPTQ calibration windows come from its train shards")
    parser.add_argument("--group-size", type=int, default=QuantConfig.group_size)
    parser.add_argument("--calib-samples", type=int, default=QuantConfig.calib_samples)
    parser.add_argument("--damp-percent", type=float, default=QuantConfig.damp_percent)
    parser.add_argument("--act-order", action=argparse.BooleanOptionalAction, default=QuantConfig.act_order,
                        help="GPTQ: columns by decreasing Hessian diagonal")
    parser.add_argument("--mse-clip", action=argparse.BooleanOptionalAction, default=QuantConfig.mse_clip,
                        help="GPTQ: shrink each group's range to the clip that minimises its rounding error")


def run_cli(args: argparse.Namespace) -> int:
    qcfg = QuantConfig(method=args.method, group_size=args.group_size, calib_samples=args.calib_samples,
                       damp_percent=args.damp_percent, act_order=args.act_order,
                       mse_clip=args.mse_clip)
    if qcfg.method == "int4-gptq" and not args.tokens:
        raise ConfigError("int4-gptq needs --tokens (calibration windows from the train shards)")
    loaded = load_model(args.model)
    before = model_bytes(loaded.model)
    calib = None
    if qcfg.method == "int4-gptq":
        calib = calibration_windows(args.tokens, qcfg, loaded.model.cfg.max_seq_len)
    model = quantize_model(loaded.model, qcfg, calib)
    save_quantized(model, qcfg, args.out, loaded.tokenizer, {"source": str(args.model), "fp32_bytes": before})
    print(f"wrote {args.out} ({qcfg.method}): model bytes {before:,} -> {model_bytes(model):,}")
    return 0
