"""Explainable filtering (thresholds over annotation columns) and evaluation-set decontamination."""
