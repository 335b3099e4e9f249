"""pipeline/tokenize/leakage.py finds what it is for: a val document's text in a train text, and a
train record with a val source; text shared by several documents is not called a leak."""

from pipeline.splits import split_of
from pipeline.tokenize.leakage import record_leaks, text_leaks


def _docs(n=40):
    return [(f"d{i}", " ".join(f"w{i}x{j}" for j in range(40))) for i in range(n)]


def test_a_pasted_val_document_is_a_leak_and_shared_text_is_not():
    docs = _docs()
    val = [d for d in docs if split_of(d[0], 7, 0.25) == "val"]
    train = [d for d in docs if d not in val]
    assert val and train
    clean = text_leaks(docs, [t for _, t in train], 7, 0.25)
    assert clean.clean and clean.val_docs == len(val) and clean.val_ngrams_checked == len(val) * 28
    pasted = f"A long sample: {train[0][1]} then {val[0][1][:400]}"
    leaky = text_leaks(docs, [pasted], 7, 0.25)
    assert leaky.leaked_ngrams > 0 and leaky.leaked_docs == [val[0][0]]
    boiler = " ".join(f"b{j}" for j in range(20))  # in every document: boilerplate, not a leak
    shared = [(i, f"{t} {boiler}") for i, t in docs]
    assert text_leaks(shared, [boiler], 7, 0.25).clean


def test_train_records_with_a_val_source_are_named():
    docs = _docs()
    v = next(i for i, _ in docs if split_of(i, 7, 0.25) == "val")
    t = next(i for i, _ in docs if split_of(i, 7, 0.25) == "train")
    records = [{"id": "ok", "split": "train", "source_ids": [t]}, {"id": "bad", "split": "train", "source_ids": [t, v]},
               {"id": "held", "split": "val", "source_ids": [v]}]
    assert record_leaks(records, 7, 0.25) == ["bad"]
