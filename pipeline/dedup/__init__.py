"""Deduplication: exact hashes, MinHash LSH with Spark connected components, semantic dedup."""
