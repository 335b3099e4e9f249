"""The served LLM for synthetic data and annotation: starting vLLM (serve.py), journaled requests."""
