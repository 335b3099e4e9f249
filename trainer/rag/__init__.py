"""Retrieval-augmented answers on a run's curated corpus through the served model (`python -m trainer rag`)."""
