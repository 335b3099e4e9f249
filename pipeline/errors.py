"""Errors a user can fix: the CLI prints them as one line and exits with code 2."""


class UsageError(Exception):
    """Bad input from the user: unknown stage, missing input, bad config, schema mismatch."""


class SchemaMismatch(UsageError):
    """A dataset does not carry the columns (or types) the document schema requires."""
