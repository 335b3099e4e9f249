"""LLM data pipeline: stages that take raw sources to curated documents and token shards."""

__version__ = "0.1.0"
