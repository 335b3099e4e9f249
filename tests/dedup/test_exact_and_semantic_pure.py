"""Exact-dedup keys, SemDeDup's within-cluster rule, deterministic k-means init, offline embeddings."""

from __future__ import annotations

import numpy as np

from pipeline.dedup.embeddings import hashed_embeddings
from pipeline.dedup.exact import content_hash, content_hashes, line_keys, normalize_for_hash
from pipeline.dedup.semdedup import assign, kmeans_init, near_duplicates


def test_normalisation_makes_nfc_case_and_whitespace_variants_equal():
    a, b = "Caf\u00e9  au\tlait\n", "CAFE\u0301 au lait"
    assert normalize_for_hash(a) == normalize_for_hash(b) == "café au lait"
    assert content_hashes([a, b]) == [content_hash("café au lait")] * 2
    assert normalize_for_hash(a, lowercase=False) != normalize_for_hash(b, lowercase=False)
    assert len(content_hash("x", 64)) == 16 and len(content_hash("x", 128)) == 32


def test_line_keys_strip_digits_and_punctuation_and_skip_blank_lines():
    keys = line_keys("Posted on 2024-01-02!\n\nposted ON 1999-12-31\nshort", min_chars=6)
    assert keys[0] == keys[2] and keys[0] is not None
    assert keys[1] is None and keys[3] is None


def test_semdedup_keeps_smallest_index_and_is_not_transitive():
    e = np.array([[1.0, 0.0], [0.999, 0.045], [0.0, 1.0], [0.997, 0.08]], dtype=np.float32)
    is_dup, dup_of = near_duplicates(e, eps=0.002, block=2)
    assert is_dup.tolist() == [False, True, False, True]
    assert dup_of.tolist() == [-1, 0, -1, 1]  # row 3 is close to row 1 (itself a duplicate), as in SemDeDup
    assert not near_duplicates(e, eps=0.0)[0].any()


def test_kmeans_init_does_not_depend_on_row_order():
    ids = [f"d{i}" for i in range(50)]
    assert kmeans_init(ids, 5, 3) == kmeans_init(list(reversed(ids)), 5, 3)
    assert kmeans_init(ids, 5, 3) != kmeans_init(ids, 5, 4)
    cluster, sim = assign(np.array([[0.0, 2.0], [3.0, 0.1]]), np.array([[1.0, 0.0], [0.0, 1.0]]))
    assert cluster.tolist() == [1, 0] and abs(sim[0] - 1.0) < 1e-6


def test_hashed_embeddings_are_order_invariant_and_separate_topics():
    e = hashed_embeddings(["the quick brown fox jumps over the lazy dog",
                           "over the lazy dog the quick brown fox jumps",
                           "stock markets fell sharply after the central bank raised rates", ""])
    assert abs(float(e[0] @ e[1]) - 1.0) < 1e-6
    assert float(e[0] @ e[2]) < 0.5
    assert not e[3].any()
