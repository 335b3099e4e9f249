"""Model-based quality: a fastText classifier of reference-like vs random-web text (DCLM style)."""
