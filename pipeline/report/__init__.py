"""Run reports: one self-contained HTML page per run (`python -m pipeline report --run RUN`).

gather (catalog + Parquet sample + metrics.jsonl + evaluation) -> figures (matplotlib PNG) -> HTML.
"""
