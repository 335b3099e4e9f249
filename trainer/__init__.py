"""The model and everything done with it, one room per concern: model/, train/, posttrain/, infer/,
quant/, eval/ (docs/architecture.md); every command behind `python -m trainer <command>` (cli.py).

Rooms import torch and DeepSpeed; this package itself stays light so that `trainer.orchestration`
(used by the Airflow DAG at parse time) imports nothing heavy.
"""
