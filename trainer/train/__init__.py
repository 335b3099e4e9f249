"""Pretraining with DeepSpeed ZeRO: token shards, the loop, checkpoints, process groups, metrics; YaRN extension."""
