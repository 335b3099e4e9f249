"""Synthetic data: generators (template or OpenAI-compatible LLM), verifiable RL checkers, records.

Nothing here imports Spark; `pipeline.synth.checkers` imports only the standard library so the
trainer's GRPO reward can use it (or re-implement it from the JSONL format in `records.py`).
"""
