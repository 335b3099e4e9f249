"""Byte-level BPE tokenizer (HF `tokenizers`): train on a text sample, load, guard special tokens.

Byte-level (GPT-2, Radford et al. 2019) with no normaliser and no prefix space, so decode(encode(t))
gives back every valid UTF-8 text exactly, which the shard round-trip test relies on.
"""

from __future__ import annotations

from collections.abc import Iterable

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

EOS = "<|endoftext|>"  # GPT-2's document separator
IM_START, IM_END = "<|im_start|>", "<|im_end|>"  # ChatML (OpenAI; used by Qwen) chat turns
SPECIAL_TOKENS = [EOS, IM_START, IM_END]


def new_tokenizer() -> Tokenizer:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    return tok


def train_bpe(texts: Iterable[str], vocab_size: int, min_frequency: int = 2) -> Tokenizer:
    """Train on `texts`; special tokens get ids 0..2 so EOS is always 0."""
    tok = new_tokenizer()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                                  special_tokens=SPECIAL_TOKENS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer=trainer)
    return tok


def load_tokenizer(path: str) -> Tokenizer:
    tok = Tokenizer.from_file(path)
    missing = [t for t in SPECIAL_TOKENS if tok.token_to_id(t) is None]
    if missing:
        tok.add_special_tokens(missing)  # a foreign tokenizer gets our document end and chat tokens
    return tok


def strip_special_text(text: str) -> tuple[str, int]:
    """Remove literal special-token strings from document text (they would encode as control tokens)."""
    n = 0
    for t in SPECIAL_TOKENS:
        if t in text:
            n += text.count(t)
            text = text.replace(t, "")
    return text, n


def token_dtype(vocab_size: int) -> str:
    return "uint32" if vocab_size > 65535 else "uint16"
