"""Model, token-shard loading, DeepSpeed pretraining and Hugging Face export.

Submodules import torch and DeepSpeed; this package itself stays light so that `trainer.orchestration`
(used by the Airflow DAG at parse time) imports nothing heavy.
"""
