"""The sequences a draft is distilled on (trainer/posttrain/distill.py), the teacher's top-k logits on
them (cached on disk: the teacher's forward is the costly part on a CPU), and the ids a restricted
draft head keeps."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from trainer.config import ConfigError
from trainer.train.data import PackedWindows, TokenShards


@dataclass
class DistillSet:
    """N windows: inputs and next-token targets (N, T), `mask` (N, T) True where the loss counts, and
    optionally the teacher's top-k logits at every position (N, T, k)."""

    tokens: torch.Tensor
    targets: torch.Tensor
    mask: torch.Tensor
    is_plain_text: bool
    top_ids: torch.Tensor | None = None
    top_logits: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.tokens)

    def fingerprint(self) -> str:
        h = hashlib.sha256(self.tokens.numpy().tobytes())
        h.update(self.mask.numpy().tobytes())
        return h.hexdigest()[:16]

    def batch(self, idx, device) -> tuple[torch.Tensor, ...]:
        idx = torch.as_tensor(idx, dtype=torch.long)
        parts = [self.tokens[idx], self.targets[idx], self.mask[idx]]
        if self.top_ids is not None:
            parts += [self.top_ids[idx].long(), self.top_logits[idx].float()]
        return tuple(t.to(device) for t in parts)


def _from_jsonl(path: Path, seq_len: int, vocab: int, limit: int) -> DistillSet:
    rows = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            ids, start = [int(i) for i in rec["ids"]], int(rec["loss_from"])
        except (ValueError, KeyError, TypeError) as e:
            raise ConfigError(f"{path}:{n}: expected {{\"ids\": [...], \"loss_from\": n}} ({e})") from e
        if ids and (min(ids) < 0 or max(ids) >= vocab):
            raise ConfigError(f"{path}:{n}: token id {max(ids)} outside the teacher's vocabulary of {vocab}")
        top = (rec["top_ids"], rec["top_logits"]) if "top_ids" in rec else None
        if top is not None and not len(top[0]) == len(top[1]) == len(ids) - start:
            raise ConfigError(f"{path}:{n}: top_ids/top_logits need one row per answer token ({len(ids) - start})")
        if len(ids) - start >= 1 and start >= 1:
            rows.append((ids, start, top))
    rows = rows[:limit] if limit else rows
    if not rows:
        raise ConfigError(f"{path}: no sequence with a prompt and at least one answer token")
    if len({top is None for *_, top in rows}) > 1:
        raise ConfigError(f"{path}: some lines carry top_ids/top_logits and some do not")
    tokens = torch.zeros(len(rows), seq_len, dtype=torch.long)
    targets, mask = torch.zeros_like(tokens), torch.zeros(len(rows), seq_len, dtype=torch.bool)
    k = len(rows[0][2][0][0]) if rows[0][2] is not None else 0
    top_ids = torch.zeros(len(rows), seq_len, k, dtype=torch.int32)
    top_logits = torch.zeros(len(rows), seq_len, k, dtype=torch.float16)
    for r, (ids, start, top) in enumerate(rows):
        cut = max(0, len(ids) - 1 - seq_len)  # too long: keep the end (the answer), drop the prompt's start
        seq = torch.tensor(ids[cut:])
        n = len(seq) - 1
        tokens[r, :n], targets[r, :n] = seq[:-1], seq[1:]
        mask[r, :n] = torch.arange(cut + 1, cut + 1 + n) >= start  # target position t + 1 is an answer token
        if k:  # row j is the distribution of answer token j, predicted at window slot start - 1 + j - cut
            first = max(start - 1 - cut, 0)
            skip = first - (start - 1 - cut)
            top_ids[r, first:n] = torch.tensor(top[0][skip:], dtype=torch.int32)
            top_logits[r, first:n] = torch.tensor(top[1][skip:], dtype=torch.float16)
    if k:
        return DistillSet(tokens, targets, mask, False, top_ids, top_logits)
    return DistillSet(tokens, targets, mask, is_plain_text=False)


def _from_shards(root: Path, seq_len: int, vocab: int, limit: int) -> DistillSet:
    shards = TokenShards(root)
    if shards.vocab_size > vocab:
        raise ConfigError(f"{root}: the shards' vocabulary ({shards.vocab_size}) is not the teacher's ({vocab})")
    windows = PackedWindows(shards.split("train"), seq_len)
    n = min(len(windows), limit or 256)
    if n == 0:
        raise ConfigError(f"{root}: the train split holds no window of {seq_len + 1} tokens")
    x, y = windows.batch(range(n))
    return DistillSet(x.long(), y.long(), torch.ones_like(x, dtype=torch.bool), is_plain_text=True)


def load_distill_set(data: str | Path, seq_len: int, vocab: int, limit: int = 0) -> DistillSet:
    path = Path(data)
    if path.is_file():
        return _from_jsonl(path, seq_len, vocab, limit)
    if (path / "index.json").is_file():
        return _from_shards(path, seq_len, vocab, limit)
    raise ConfigError(f"--data {path}: neither a JSONL of {{ids, loss_from}} lines nor a tokens dir with index.json")


@torch.no_grad()
def teacher_topk(teacher: torch.nn.Module, data: DistillSet, k: int, cache: Path, key: str,
                 batch: int = 4) -> DistillSet:
    """`data` with the teacher's top-k logits (fp16) and ids (int32) at every position; reused from
    `cache` when it was computed for the same teacher, windows and k."""
    stamp = {"teacher": key, "data": data.fingerprint(), "k": k}
    if cache.is_file():
        saved = torch.load(cache, weights_only=True)
        if saved["stamp"] == json.dumps(stamp):
            return replace(data, top_ids=saved["ids"], top_logits=saved["logits"])
    ids, logits = [], []
    for start in range(0, len(data), batch):
        top = teacher(data.tokens[start:start + batch]).float().topk(k, dim=-1)
        ids.append(top.indices.int())
        logits.append(top.values.half())
    out = replace(data, top_ids=torch.cat(ids), top_logits=torch.cat(logits))
    tmp = cache.with_suffix(".tmp")
    torch.save({"stamp": json.dumps(stamp), "ids": out.top_ids, "logits": out.top_logits}, tmp)
    tmp.replace(cache)
    return out


def head_ids_by_frequency(data: DistillSet, k: int, vocab: int) -> torch.Tensor:
    """The k ids a restricted head keeps, ascending: the targets where the loss counts by frequency, then
    the teacher's top-k ids and every other token of the data, then the lowest remaining ids (BPE gives
    frequent merges low ids)."""
    order: list[int] = []
    seen: set[int] = set()
    sources = [data.targets[data.mask], data.tokens.flatten()]
    if data.top_ids is not None:
        sources.insert(1, data.top_ids[data.mask].flatten())
    for source in sources:
        for token, _ in Counter(source.tolist()).most_common():
            if token not in seen:
                seen.add(token)
                order.append(token)
    order += [i for i in range(vocab) if i not in seen][: max(0, k - len(order))]
    return torch.tensor(sorted(order[:k]), dtype=torch.long)
