"""Data mixing: target token shares per domain/source, epoch caps, cluster- and quality-weighted sampling."""
