"""Evaluation: token perplexity, held-out exact match, decode speed, the report; lm-eval adapter; answer rewards."""
