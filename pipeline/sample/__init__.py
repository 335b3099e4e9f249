"""Bundled sample data for `make demo` and tests (small, generated or written for this repo)."""
