"""Continued pretraining of a base (`init_from`: an imported model, trainer/model/hf_import.py, or an
earlier run): the model's shape is the base's, and the token shards must be in the base's vocabulary.

Shards tokenized with another tokenizer would train the base's embeddings on the wrong ids without any
error from the loss, so a mismatch is refused before any work (one line, exit 2), naming the fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trainer.command import ConfigError
from trainer.model.checkpoint import CheckpointError, model_config_fields, tokenizer_of
from trainer.model.transformer import ModelConfig


def base_model_config(init_from: str, overrides: dict[str, Any]) -> ModelConfig:
    """The base's ModelConfig with `model:` overrides on top (the preset plays no part)."""
    try:
        fields = model_config_fields(init_from)
    except CheckpointError as e:
        raise ConfigError(f"init_from: {e}") from e
    try:
        return ModelConfig(**{**fields, **overrides})
    except (TypeError, ValueError) as e:
        raise ConfigError(f"init_from {init_from}: {e}") from e


def _vocab(path: Path) -> dict[str, int]:
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(path)).get_vocab(with_added_tokens=True)


def check_vocabulary(init_from: str, model: ModelConfig, shards_vocab: int, shards_tokenizer: Path) -> None:
    """Refuse shards whose tokenizer is not the base's (same tokens at the same ids)."""
    fix = f"tokenize with the base's tokenizer (tokenize.tokenizer_path={init_from}/tokenizer.json)"
    if shards_vocab > model.vocab_size:
        raise ConfigError(f"the token shards' vocabulary ({shards_vocab} ids) does not fit the base model "
                          f"{init_from} ({model.vocab_size} ids): {fix}")
    base_tokenizer = tokenizer_of(init_from)
    if base_tokenizer is not None and shards_tokenizer.is_file() and _vocab(base_tokenizer) != _vocab(shards_tokenizer):
        raise ConfigError(f"the token shards' tokenizer {shards_tokenizer} is not the base model's "
                          f"({base_tokenizer}): {fix}")
