"""datasketch MinHashLSH path: a persisted index dedups a new batch with the same signature parameters."""

from __future__ import annotations

import random

import pytest

from pipeline.dedup.index import MinHashIndex
from tests.dedup.planted import near_copy, random_words


def test_index_persists_and_flags_near_duplicates_of_an_earlier_crawl(tmp_path):
    rng = random.Random(11)
    old = {f"old{i}": random_words(rng, 120) for i in range(20)}
    index = MinHashIndex.open(tmp_path / "lsh.pkl", threshold=0.8, num_perm=128, seed=1)
    first = index.dedup(list(old), [" ".join(w) for w in old.values()])
    assert set(first.values()) == {None} and len(index) == 20
    index.save(tmp_path / "lsh.pkl")

    reopened = MinHashIndex.open(tmp_path / "lsh.pkl", threshold=0.8, num_perm=128, seed=1)
    new = {"new0": " ".join(near_copy(old["old3"], 0.9, rng)),
           "new1": " ".join(near_copy(old["old5"], 0.5, rng)),
           "new2": " ".join(random_words(rng, 120))}
    new["new3"] = new["new2"] + " extra"  # a duplicate inside the new batch: the smaller id wins
    result = reopened.dedup(list(new), list(new.values()))
    assert result == {"new0": "old3", "new1": None, "new2": None, "new3": "new2"}
    assert len(reopened) == 22  # new1 and new2 inserted, duplicates not
    assert reopened.dedup(["old3", "new2"], [" ".join(old["old3"]), new["new2"]]) == {"old3": None, "new2": None}


def test_index_refuses_other_signature_parameters(tmp_path):
    MinHashIndex(num_perm=64).save(tmp_path / "lsh.pkl")
    with pytest.raises(ValueError, match="num_perm"):
        MinHashIndex.open(tmp_path / "lsh.pkl", num_perm=128)
