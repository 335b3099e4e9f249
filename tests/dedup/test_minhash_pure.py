"""MinHash pure logic: shingles, signatures identical to datasketch, LSH banding, band keys."""

from __future__ import annotations

import random

import numpy as np
from datasketch import MinHash

from pipeline.dedup.candidates import pack_set, unpack_set
from pipeline.dedup.lsh_params import collision_probability, optimal_bands_rows
from pipeline.dedup.minhash import EMPTY, band_hashes, signatures
from pipeline.dedup.shingles import (
    jaccard,
    shingle_hash32,
    shingle_hashes,
    shingles,
    sorted_jaccard,
    tokens,
    unique_per_doc,
)
from tests.dedup.planted import near_copy, random_words


def _datasketch_signature(text: str, num_perm: int = 128, seed: int = 1) -> np.ndarray:
    m = MinHash(num_perm=num_perm, seed=seed, hashfunc=shingle_hash32)
    for sh in shingles(tokens(text), 5):
        m.update(sh)
    return m.hashvalues


def test_signatures_are_bit_identical_to_datasketch():
    rng = random.Random(1)
    texts = [" ".join(random_words(rng, rng.randrange(0, 200))) for _ in range(60)]
    texts += ["Short text.", "", "!!!", "数据去重是大语言模型预训练的关键步骤之一", "Über naïve café, déjà vu!"]
    hashes, offsets = shingle_hashes(texts)
    for num_perm, seed in [(128, 1), (64, 7)]:
        sig = signatures(hashes, offsets, num_perm, seed, chunk_shingles=300)
        for i, text in enumerate(texts):
            assert np.array_equal(sig[i], _datasketch_signature(text, num_perm, seed)), text[:40]


def test_empty_document_has_empty_signature_and_chunking_does_not_matter():
    texts = ["", "one two three four five six", "", "a b"]
    hashes, offsets = shingle_hashes(texts)
    assert list(np.diff(offsets)) == [0, 2, 0, 1]  # 6 words -> 2 five-grams; 2 words -> 1 shingle
    small = signatures(hashes, offsets, chunk_shingles=1)
    big = signatures(hashes, offsets, chunk_shingles=10_000)
    assert np.array_equal(small, big)
    assert (small[0] == EMPTY).all() and (small[2] == EMPTY).all() and not (small[1] == EMPTY).all()


def test_cjk_documents_use_character_shingles_and_latin_word_shingles():
    assert tokens("数据去重") == ["数", "据", "去", "重"]
    assert tokens("Hello, World! It's") == ["hello", "world", "it", "s"]
    hashes, offsets = shingle_hashes(["数据去重是关键步骤", "数据去重是关键步"], n=5, char_n=3)
    sets = unique_per_doc(hashes, offsets)
    assert len(sets[0]) == 7 and len(sets[1]) == 6  # 9 and 8 characters -> 3-grams
    assert jaccard(sets[0], sets[1]) == 6 / 7


def test_word_order_changes_the_shingle_hash():
    assert shingle_hash32(("a", "b", "c", "d", "e")) != shingle_hash32(("b", "a", "c", "d", "e"))


def test_planted_jaccard_matches_measured_and_minhash_estimates_it():
    rng = random.Random(2)
    base = random_words(rng, 300)
    for target in (0.9, 0.5):
        copy = near_copy(base, target, rng)
        hashes, offsets = shingle_hashes([" ".join(base), " ".join(copy)])
        sets = unique_per_doc(hashes, offsets)
        assert abs(jaccard(sets[0], sets[1]) - target) < 0.03
        sig = signatures(hashes, offsets, num_perm=256)
        assert abs(float(np.mean(sig[0] == sig[1])) - target) < 0.1


def test_equal_weights_reproduce_datasketch_choice_and_recall_weights_raise_recall():
    from datasketch.lsh import _optimal_param

    assert optimal_bands_rows(0.8, 128, 0.5, 0.5) == _optimal_param(0.8, 128, 0.5, 0.5)
    bands, rows = optimal_bands_rows(0.8, 128, 0.05, 0.95)
    assert bands * rows <= 128
    assert collision_probability(0.8, bands, rows) > 0.9 > collision_probability(0.8, 9, 13)
    assert collision_probability(0.5, bands, rows) < 0.1


def test_band_keys_equal_exactly_when_band_rows_equal():
    sig = np.array([[1, 2, 3, 4], [1, 2, 9, 4], [7, 2, 3, 4]], dtype=np.uint32)
    keys = band_hashes(sig, bands=2, rows=2)
    assert keys[0, 0] == keys[1, 0] and keys[0, 1] != keys[1, 1]
    assert keys[0, 1] == keys[2, 1] and keys[0, 0] != keys[2, 0]
    assert keys[0, 0] != band_hashes(sig[:, [2, 3, 0, 1]], 2, 2)[0, 1]  # band index is in the key


def test_sorted_jaccard_of_packed_sets_equals_set_jaccard():
    rng = random.Random(11)
    words = random_words(rng, 300)
    texts = [" ".join(words), " ".join(near_copy(words, 0.85, rng)), " ".join(random_words(rng, 40)), "", "x"]
    hashes, offsets = shingle_hashes(texts)
    sets = [unpack_set(pack_set(s)) for s in unique_per_doc(hashes, offsets)]
    assert all((np.diff(s.astype(np.int64)) > 0).all() for s in sets)  # sorted, distinct: what it needs
    for i in range(len(texts)):
        for j in range(len(texts)):
            want = jaccard(sets[i], sets[j])
            assert abs(sorted_jaccard(sets[i], sets[j]) - want) < 1e-12, (i, j)
    assert 0.5 < sorted_jaccard(sets[0], sets[1]) < 1.0
    # The top of the uint32 range survives packing (values are unsigned, not int32).
    assert unpack_set(pack_set(np.array([0, 2**32 - 1], dtype=np.int64))).tolist() == [0, 2**32 - 1]
