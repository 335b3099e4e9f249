"""Scaling-law sweeps and data ablations: the fits, the sweep's sizing, the plots (dags/llm_experiments.py)."""
