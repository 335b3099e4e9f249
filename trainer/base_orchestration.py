"""The training DAG's command lines for a released base model instead of pretraining from scratch
(trainer/model/hf_import.py): import it, cached under <data_root>/models/<name>, then continue it on the
curated shards before SFT and GRPO as usual. Plain strings, no heavy imports: the DAGs import this at
parse time, beside trainer/orchestration.py.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from pathlib import Path

# Defaults of the optional DAG params for a base: continued pretraining at a low LR with a short warmup
# (of the order YaRN continues Llama 2 at: 2e-5, trainer/train/extend.py), on windows short enough for a
# CPU; base_model "" keeps training from scratch.
BASE_PARAMS = {"base_model": "", "base_lr": 3e-5, "base_warmup_steps": 5, "base_seq_len": 256}


def base_model_dir(base_model: str, data_root: str) -> str:
    """Where `base_model` is (or will be) imported: an already imported run dir as is; else
    `<data_root>/models/<name>` (the name, or a folder's or a .gguf's stem), as `trainer import-model` names it."""
    path = Path(base_model)
    if (path / "model_config.json").is_file() and (path / "checkpoints").is_dir():
        return str(path)
    name = base_model if "/" not in base_model and not base_model.endswith(".gguf") else Path(base_model.rstrip("/")).stem
    return str(Path(data_root) / "models" / name)


def import_base_command(base_model: str, data_root: str) -> str:
    """`trainer import-model` into base_model_dir (a finished import there is reused)."""
    out = base_model_dir(base_model, data_root)
    if Path(out) == Path(base_model):
        return shlex.join(["test", "-f", f"{out}/model_config.json"])  # already a run: nothing to import
    return shlex.join(["python", "-m", "trainer", "import-model", "--source", base_model, "--out", out])


def base_sets(params: Mapping) -> list[str]:
    """`--set`s that make the pretrain task continue the base (its shape, LR, warmup, window); [] without one."""
    p = {k: params.get(k, default) for k, default in BASE_PARAMS.items()}
    if not p["base_model"]:
        return []
    return [f"init_from={base_model_dir(p['base_model'], params['data_root'])}", f"lr={p['base_lr']}",
            f"warmup_steps={p['base_warmup_steps']}", f"seq_len={p['base_seq_len']}"]
