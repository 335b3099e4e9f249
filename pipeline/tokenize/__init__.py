"""Tokenization: byte-level BPE training, chat template with loss masks, packed token shards."""
