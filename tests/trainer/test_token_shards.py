"""trainer/train/data.py: the tokenize stage's shard format, packed windows and the resumable sampler."""

import json

import numpy as np
import pytest

from trainer.train.data import EpochSampler, PackedWindows, ShardError, TokenShards, rank_slice, val_batches


def test_reads_the_tokenize_format(token_dir):
    shards = TokenShards(token_dir)
    index = json.loads((token_dir / "index.json").read_text())
    assert shards.vocab_size == index["vocab_size"] and shards.eos_id == index["eos_id"]
    assert shards.tokenizer_path.is_file()
    train = shards.split("train")
    assert len(train) == 2 and len(shards.split("val")) == 1
    assert all(isinstance(a, np.memmap) and a.dtype == np.dtype("<u2") for a in train)
    # documents are EOS-terminated: one EOS per document, the last token of every shard
    for arr, entry in zip(train, [s for s in index["shards"] if s["split"] == "train"], strict=True):
        assert len(arr) == entry["num_tokens"]
        assert int((np.asarray(arr) == shards.eos_id).sum()) == entry["num_docs"]
        assert arr[-1] == shards.eos_id
    assert int(np.asarray(train[0]).max()) < shards.vocab_size


def test_uint32_shards_and_extra_index_keys(tmp_path):
    ids = np.array([70000, 5, 0, 99999, 0], dtype="<u4")
    ids.tofile(tmp_path / "train-00000.bin")
    (tmp_path / "index.json").write_text(json.dumps({
        "format": "llm-pipeline-tokens/1", "dtype": "uint32", "vocab_size": 100000, "eos_id": 0,
        "tokenizer": "tokenizer.json",
        "shards": [{"file": "train-00000.bin", "split": "train", "num_tokens": 5, "num_docs": 2,
                    "doc_ends": "train-00000.docs.bin"},  # the pipeline's writer adds keys; they are ignored
                   {"file": "val-00000.bin", "split": "val", "num_tokens": 0, "num_docs": 0}]}))
    shards = TokenShards(tmp_path)
    assert shards.split("train")[0].tolist() == ids.tolist()
    assert shards.split("val") == []  # an empty split's empty shard file need not exist


@pytest.mark.parametrize("breakage, message", [
    ("size", "bytes"), ("format", "format"), ("missing", "missing"), ("dtype", "dtype"),
])
def test_bad_shards_are_reported(tmp_path, breakage, message):
    np.arange(10, dtype="<u2").tofile(tmp_path / "train-00000.bin")
    index = {"format": "llm-pipeline-tokens/1", "dtype": "uint16", "vocab_size": 10, "eos_id": 0,
             "tokenizer": "tokenizer.json",
             "shards": [{"file": "train-00000.bin", "split": "train", "num_tokens": 10, "num_docs": 1}]}
    if breakage == "size":
        index["shards"][0]["num_tokens"] = 11
    elif breakage == "format":
        index["format"] = "something-else/2"
    elif breakage == "missing":
        index["shards"][0]["file"] = "train-00009.bin"
    else:
        index["dtype"] = "int8"
    (tmp_path / "index.json").write_text(json.dumps(index))
    with pytest.raises(ShardError, match=message):
        TokenShards(tmp_path).split("train")


def test_packed_windows_stay_inside_a_shard_and_shift_by_one():
    a, b = np.arange(0, 21, dtype="<u2"), np.arange(100, 110, dtype="<u2")
    w = PackedWindows([a, b], seq_len=4)
    assert len(w) == 5 + 2  # (21-1)//4 and (10-1)//4
    assert w[4].tolist() == [16, 17, 18, 19, 20]
    assert w[5].tolist() == [100, 101, 102, 103, 104]
    x, y = w.batch([0, 6])
    assert x.tolist() == [[0, 1, 2, 3], [104, 105, 106, 107]]
    assert y.tolist() == [[1, 2, 3, 4], [105, 106, 107, 108]]
    with pytest.raises(IndexError):
        w[7]


def test_sampler_is_a_function_of_its_state():
    full = EpochSampler(10, seed=3)
    drawn = [full.take(4) for _ in range(6)]  # 24 draws: crosses two epoch boundaries
    first_epoch = np.concatenate(drawn)[:10]
    assert sorted(first_epoch.tolist()) == list(range(10))  # each window once per epoch

    part = EpochSampler(10, seed=3)
    for _ in range(3):
        part.take(4)
    state = part.state_dict()
    resumed = EpochSampler(10, seed=3)
    resumed.load_state_dict(state)
    assert np.concatenate([resumed.take(4) for _ in range(3)]).tolist() == np.concatenate(drawn[3:]).tolist()

    with pytest.raises(ShardError, match="windows"):
        EpochSampler(11, seed=3).load_state_dict(state)


def test_global_batch_does_not_depend_on_world_size():
    idx = np.arange(16)
    one_rank = [rank_slice(idx, 4, m, 0, 1) for m in range(4)]  # 1 rank x 4 micro-steps
    two_ranks = [rank_slice(idx, 4, m, r, 2) for m in range(2) for r in range(2)]
    assert np.concatenate(one_rank).tolist() == np.concatenate(two_ranks).tolist() == list(range(16))


def test_val_batches_give_every_rank_the_same_count():
    w = PackedWindows([np.arange(0, 41, dtype="<u2")], seq_len=4)  # 10 windows
    counts = [len(list(val_batches(w, 2, 10, r, 3))) for r in range(3)]
    assert counts == [1, 1, 1]  # 5 batches of 2 do not split evenly over 3 ranks
    firsts = [next(iter(val_batches(w, 2, 10, r, 2)))[0][0, 0].item() for r in range(2)]
    assert firsts == [0, 8]  # round-robin: rank 1 starts at the second batch (window 2)
