"""Domain classification: weighted keyword rules (YAML) and a fastText classifier trained from them."""
