"""Rule-based document scores: Gopher, Gopher repetition, C4, FineWeb, user regex rules, PII."""
