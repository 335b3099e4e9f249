"""Inference: KV-cached batched generation, speculative decoding, loading any saved model."""
