"""Reading a Parquet dataset given as a stage input, with a broken one reported in one line (exit 2).

Spark reports a dataset holding only `_SUCCESS`, or a part file that is not Parquet, with a JVM
stack trace (UNABLE_TO_INFER_SCHEMA, CANNOT_READ_FILE_FOOTER), and for a bad part it may do so
only once a task reaches that file. A look at each local part's magic bytes is cheap and says
which file is wrong.

Any valid Parquet of documents must also read (issue 21): pyarrow writes one row group of up to 1M rows
by default, so a file of long texts is one huge row group. Spark's vectorized reader then fills
`columnarReaderBatchSize` (4096) strings per batch into one contiguous buffer ("Cannot reserve additional
contiguous bytes in the vectorized reader (requested 67809823 bytes)" at 16 KB per text), and one task
reads the whole row group while the other cores wait. From the footers of the local part files this
module picks a batch size that keeps a batch near `TARGET_BATCH_BYTES`, and spreads rows over the
cores when a few big row groups are all there is to split on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from pipeline.errors import UsageError
from pipeline.storage import is_local, local_path

PARQUET_MAGIC = b"PAR1"  # the first and last four bytes of every Parquet file (format spec)
BATCH_SIZE_KEY = "spark.sql.parquet.columnarReaderBatchSize"
TARGET_BATCH_BYTES = 8 << 20  # per column batch: a few MB, far from any heap limit
SPLIT_BYTES = 64 << 20  # a row group larger than this is work for more than one core
FOOTERS_SAMPLED = 64  # footers read to estimate the layout (many small files: a sample is enough)


def _part_files(root) -> list[str]:
    parts = []
    for dirpath, dirnames, filenames in os.walk(root):
        # Spark skips `_*` and `.*` names (side outputs, markers, checksums): so does this check.
        dirnames[:] = [d for d in dirnames if not d.startswith(("_", "."))]
        parts += [os.path.join(dirpath, f) for f in filenames if not f.startswith(("_", "."))]
    return sorted(parts)


@dataclass
class Layout:
    files: int
    rows: int  # in the sampled footers
    bytes: int  # uncompressed, in the sampled footers
    row_groups: int  # estimated for the whole dataset
    largest_row_group: int  # uncompressed bytes

    @property
    def row_bytes(self) -> float:
        return self.bytes / self.rows if self.rows else 0.0


def parquet_layout(path: str) -> Layout | None:
    """Row groups and sizes from the footers of a local dataset's part files (a sample of them), or None."""
    import pyarrow.parquet as pq

    root = local_path(path)
    files = [str(root)] if root.is_file() else _part_files(root) if root.is_dir() else []
    if not files:
        return None
    step = max(1, len(files) // FOOTERS_SAMPLED)
    rows = size = groups = largest = 0
    sampled = files[::step][:FOOTERS_SAMPLED]
    for f in sampled:
        meta = pq.ParquetFile(f).metadata
        rows += meta.num_rows
        groups += meta.num_row_groups
        for i in range(meta.num_row_groups):
            rg = meta.row_group(i).total_byte_size
            size += rg
            largest = max(largest, rg)
    return Layout(len(files), rows, size, round(groups * len(files) / len(sampled)), largest)


def reader_batch_size(layout: Layout, target_bytes: int = TARGET_BATCH_BYTES) -> int:
    """Rows per vectorized batch so that a batch of average rows stays near `target_bytes` (16..4096)."""
    if not layout.row_bytes:
        return 4096
    return int(max(16, min(4096, target_bytes // layout.row_bytes)))


def needs_spreading(layout: Layout, parallelism: int, split_bytes: int = SPLIT_BYTES) -> int:
    """Partitions to spread the rows over when big row groups are fewer than the cores, else 0."""
    total = layout.bytes * layout.files / max(1, min(layout.files, FOOTERS_SAMPLED))
    if layout.largest_row_group <= split_bytes or layout.row_groups >= parallelism:
        return 0
    return max(parallelism, int(total // split_bytes) + 1)


def parquet_parts_problem(path: str) -> str | None:
    """Why a local dataset directory cannot be read as Parquet (no part files, a non-Parquet part), or None."""
    root = local_path(path)
    if not root.is_dir():
        return None
    parts = _part_files(root)
    if not parts:
        return f"{path} holds no Parquet part files (only {', '.join(sorted(os.listdir(root))) or 'nothing'})"
    for part in parts:
        size = os.path.getsize(part)
        with open(part, "rb") as f:
            head = f.read(4)
            f.seek(max(size - 4, 0))
            tail = f.read(4)
        if size < 12 or head != PARQUET_MAGIC or tail != PARQUET_MAGIC:
            return f"{part} is not a Parquet file"
    return None


def read_parquet_dataset(spark, path: str, target_batch_bytes: int = TARGET_BATCH_BYTES,
                         split_bytes: int = SPLIT_BYTES):
    """`spark.read.parquet(path)`; a dataset that is not Parquet raises a UsageError naming it.

    For a local dataset the reader's batch size is lowered (never raised: the setting is per session and
    another input may need it small) to fit its rows, and big row groups fewer than the cores are spread.
    """
    problem = parquet_parts_problem(path) if is_local(path) else None
    if problem:
        raise UsageError(f"input is not a Parquet dataset: {problem}")
    try:
        layout = parquet_layout(path) if is_local(path) else None
    except Exception:  # noqa: BLE001 (an unreadable footer: Spark's read below names the problem)
        layout = None
    if layout is not None:
        batch = reader_batch_size(layout, target_batch_bytes)
        if batch < int(spark.conf.get(BATCH_SIZE_KEY, "4096")):
            spark.conf.set(BATCH_SIZE_KEY, str(batch))
    try:
        df = spark.read.parquet(path)
    except Exception as exc:  # AnalysisException, Py4JJavaError: one line, which input
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise UsageError(f"input is not a readable Parquet dataset: {path} ({first})") from exc
    spread = needs_spreading(layout, spark.sparkContext.defaultParallelism, split_bytes) if layout else 0
    return df.repartition(spread) if spread else df
