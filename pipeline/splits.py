"""Train/val splits, decided once per document from its id, before anything derives from it.

Held out means held out: a document is val when the first 52 bits of `sha1("<seed>\\0<id>")`, as a
fraction of 2**52, are below `val_fraction` (`run.seed`, `run.val_fraction`). The rule is a pure
function of the id, so the synth stage (which must not mix splits in one record) and the tokenize
stage (which writes the shards) decide alike without passing anything between them, in Python and in
Spark (`F.sha1` is the same SHA-1). CRC-32 was tried first and is too regular on ids like `doc-17`.

A derived record (synthetic pretrain, SFT, RL, long-context) is val only if ALL its source documents
are val; generators group documents by split, so in practice a record's sources share one split and
"mixed" is counted as an error.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

TRAIN, VAL, MIXED = "train", "val", "mixed"


def position(doc_id: str, seed: int) -> float:
    """A uniform number in [0, 1) from the id: the split's coin."""
    return int(hashlib.sha1(f"{seed}\x00{doc_id}".encode()).hexdigest()[:13], 16) / 2**52


def split_of(doc_id: str, seed: int, val_fraction: float) -> str:
    return VAL if position(doc_id, seed) < val_fraction else TRAIN


def sources_split(source_ids: Iterable[str], seed: int, val_fraction: float) -> str:
    """"val" when every source is val, "train" when every source is train, else "mixed"."""
    splits = {split_of(s, seed, val_fraction) for s in source_ids}
    if splits == {VAL}:
        return VAL
    return TRAIN if splits == {TRAIN} else MIXED


def check_val_fraction(val_fraction: float) -> None:
    if not 0 <= val_fraction < 1:
        raise ValueError(f"run.val_fraction must be in [0, 1), got {val_fraction}")


def _is_val_column(id_col, seed: int, val_fraction: float):
    from pyspark.sql import functions as F

    digest = F.sha1(F.concat(F.lit(f"{seed}\x00"), id_col).cast("binary"))
    return F.conv(F.substring(digest, 1, 13), 16, 10).cast("double") / float(2**52) < F.lit(val_fraction)


def split_column(id_col, seed: int, val_fraction: float):
    """`split_of` as a Spark Column over a string id column."""
    from pyspark.sql import functions as F

    return F.when(_is_val_column(id_col, seed, val_fraction), F.lit(VAL)).otherwise(F.lit(TRAIN))


def sources_split_column(source_ids_col, seed: int, val_fraction: float):
    """`sources_split` as a Spark Column over an array<string> column of source ids."""
    from pyspark.sql import functions as F

    def is_val(s):
        return _is_val_column(s, seed, val_fraction)

    return (F.when((F.size(source_ids_col) > 0) & F.forall(source_ids_col, is_val), F.lit(VAL))
            .when(~F.exists(source_ids_col, is_val), F.lit(TRAIN)).otherwise(F.lit(MIXED)))
