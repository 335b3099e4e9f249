import numpy as np

from pipeline.tokenize.bpe import EOS, IM_END, strip_special_text, token_dtype, train_bpe
from pipeline.tokenize.chat import encode_with_mask, render
from pipeline.tokenize.shards import ShardWriter, documents_of

TEXTS = ["Hello world, the cat sat on the mat.", "Ünïcödé  text\twith tabs\r\nand emoji 🙂.",
         "numbers 12345 and 3.14159"] * 20


def test_bpe_round_trips_any_text_and_eos_is_zero():
    tok = train_bpe(TEXTS, vocab_size=400)
    assert tok.token_to_id(EOS) == 0
    for t in [*TEXTS[:3], "never seen: Ωmega ∑ 漢字 \x00 end"]:
        assert tok.decode(tok.encode(t, add_special_tokens=False).ids, skip_special_tokens=False) == t
    assert strip_special_text(f"a{EOS}b{IM_END}") == ("ab", 2)
    assert token_dtype(65535) == "uint16" and token_dtype(65536) == "uint32"


def test_loss_mask_covers_exactly_the_assistant_answer():
    tok = train_bpe(TEXTS, vocab_size=400)
    msgs = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hi"},
            {"role": "assistant", "content": "Hi there!"}]
    ids, mask = encode_with_mask(tok, msgs)
    assert tok.decode(ids, skip_special_tokens=False) == render(msgs)
    learned = [i for i, m in zip(ids, mask, strict=True) if m]
    assert tok.decode(learned, skip_special_tokens=False) == f"Hi there!{IM_END}"


def test_shard_writer_rolls_over_and_keeps_document_boundaries(tmp_path):
    w = ShardWriter(tmp_path, "train", "uint16", eos_id=0, shard_tokens=10)
    docs = [np.arange(1, n + 1) for n in (3, 7, 2, 5)]
    for d in docs:
        w.add(d)
    shards = w.finish()
    assert [s["num_docs"] for s in shards] == [2, 2] and [s["num_tokens"] for s in shards] == [12, 9]
    got = [d for s in shards for d in documents_of(tmp_path, s, "uint16")]
    assert [list(g) for g in got] == [list(d) for d in docs]
    raw = np.fromfile(tmp_path / "train-00000.bin", dtype="<u2")
    assert raw[3] == 0 and raw[-1] == 0  # EOS after each document
    empty = ShardWriter(tmp_path, "val", "uint16", eos_id=0, shard_tokens=10).finish()
    assert empty[0]["num_tokens"] == 0 and (tmp_path / "val-00000.bin").stat().st_size == 0


def test_chat_records_take_the_split_of_their_sources():
    from pipeline.splits import split_of
    from pipeline.tokenize.chat_data import assign_splits

    docs = [f"doc{i}" for i in range(200)]
    val = [d for d in docs if split_of(d, 3, 0.2) == "val"]
    train = [d for d in docs if d not in val]
    records = [{"id": "a", "source_ids": [val[0]]}, {"id": "b", "source_ids": [val[0], val[1]]},
               {"id": "c", "source_ids": [train[0]]}, {"id": "d", "source_ids": [train[0], val[0]]}]
    assert assign_splits(records, 3, 0.2) == {"a": "val", "b": "val", "c": "train", "d": "mixed"}
    # the record's own id plays no part: the same sources under another id keep their split
    assert assign_splits([{"id": val[0] + "x", "source_ids": [train[0]]}], 3, 0.2) == {val[0] + "x": "train"}
    assert set(assign_splits(records, 3, 0.0).values()) == {"train"}  # val_fraction 0: nothing held out
