"""The quality classifier separates the shipped reference prose from spam/boilerplate web pages."""

import json

import numpy as np
import pytest

from pipeline.errors import UsageError
from pipeline.jobs.train_quality import REFERENCE
from pipeline.quality.fasttext_model import (
    FastTextSettings,
    binary_metrics,
    predict,
    prepare,
    probability_of,
    split_heldout,
    train,
)
from tests.quality.webcorpus import web_documents


def reference(n: int) -> list[str]:
    with open(REFERENCE, encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f][:n]


def test_shipped_reference_set_is_small_licensed_prose():
    with open(REFERENCE, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    assert len(rows) >= 300 and sum(len(r["text"]) for r in rows) < 1_500_000
    assert {r["license"] for r in rows} == {"PSF-2.0"}
    assert all(r["text"].endswith(".") for r in rows)


def test_prepare_lowercases_and_splits_chinese():
    assert prepare("Hello, World 你好") == "hello , world 你 好"
    assert prepare("a b c d", max_tokens=2) == "a b"


def test_heldout_split_is_stratified_and_deterministic():
    rows = [("a", str(i)) for i in range(10)] + [("b", str(i)) for i in range(20)]
    train_rows, held = split_heldout(rows, 0.2, seed=1)
    assert sorted(lab for lab, _ in held) == ["a"] * 2 + ["b"] * 4
    assert split_heldout(rows, 0.2, seed=1) == (train_rows, held)
    assert set(held).isdisjoint(train_rows)


def test_binary_metrics():
    m = binary_metrics([True, True, False, False], np.array([0.9, 0.2, 0.7, 0.1]))
    assert (m["precision"], m["recall"], m["accuracy"]) == (0.5, 0.5, 0.5)


def test_model_separates_reference_from_web_and_predicts_under_numpy2(tmp_path):
    pos = reference(400)
    neg = web_documents(400, seed=3)
    rows = [("hq", t) for t in pos] + [("web", t) for t in neg]
    train_rows, held = split_heldout(rows, 0.25, seed=5)
    model = train(train_rows, FastTextSettings(), seed=5)
    scores = probability_of(model, [t for _, t in held], "hq")
    m = binary_metrics([lab == "hq" for lab, _ in held], scores)
    assert m["precision"] >= 0.8 and m["recall"] >= 0.8, m
    labels, probs = predict(model, ["BUY NOW cheap watches BEST PRICE", pos[0]])
    assert labels == ["web", "hq"] and probs.dtype == np.float64
    path = tmp_path / "m.bin"
    model.save_model(str(path))
    assert path.stat().st_size < 80_000_000  # never the 811 MB default-size model


def test_quantized_model_is_tiny_and_still_works(tmp_path):
    rows = [("hq", t) for t in reference(200)] + [("web", t) for t in web_documents(200, seed=4)]
    model = train(rows, FastTextSettings(quantize=True, quantize_cutoff=1000), seed=1)
    path = tmp_path / "m.bin"
    model.save_model(str(path))
    assert path.stat().st_size < 5_000_000
    assert probability_of(model, [rows[0][1]], "hq")[0] > 0.5


def test_one_label_is_refused():
    with pytest.raises(UsageError):
        train([("hq", "some text here")], FastTextSettings(), seed=1)
