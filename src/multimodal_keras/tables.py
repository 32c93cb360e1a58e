"""``TableChunks``: a table read a chunk of rows at a time, so that no node holds it whole.

The raw table, the primary table and the rows to score reach the nodes as ``TableChunks``:
a description (columns, row count) and a way to read the rows again, chunk by chunk, in
order, optionally only some columns. A Parquet file is read by row groups through
pyarrow, a CSV file in chunks through pandas, and a frame already in memory (a test's, or
a catalog's ``pandas.*Dataset``) in slices: the nodes take one path whatever the source.

``seeded_sample`` draws the rows a preprocessor is fitted on from any number of chunks
(or partitions on other machines) with bounded memory: each row's key is a seeded hash of
its row id, and the sample is the ``size`` rows with the smallest keys, which gives the
same rows however the table is cut, and every row when the table has at most ``size``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

Reader = Callable[[list[str] | None], Iterator[pd.DataFrame]]


@dataclass(frozen=True)
class TableChunks:
    """A table of ``columns`` whose rows ``read(columns)`` yields chunk by chunk, in order.

    ``read`` starts over on every call; each chunk is a frame of consecutive rows indexed by
    their positions in the whole table. ``num_rows`` is None until a pass has counted them
    (a CSV file's rows are not known before it is read). ``schema``, when known, is the
    Arrow schema (with its pandas metadata) every chunk is written with, so that a chunk
    whose cells happen to be all missing, or all integers, is stored as the others are.
    """

    columns: tuple[str, ...]
    read: Reader
    num_rows: int | None = None
    schema: pa.Schema | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(self.columns))

    def __len__(self) -> int:
        if self.num_rows is None:
            return sum(len(chunk) for chunk in self.chunks(self.columns[:1] or None))
        return self.num_rows

    @property
    def shape(self) -> tuple[int, int]:
        return len(self), len(self.columns)

    def chunks(self, columns: Iterable[str] | None = None) -> Iterator[pd.DataFrame]:
        """The rows chunk by chunk, indexed by position, with ``columns`` only when given."""
        wanted = None if columns is None else list(columns)
        start = 0
        for part in self.read(wanted):
            chunk = part if wanted is None else part[wanted]
            chunk.index = pd.RangeIndex(start, start + len(chunk))
            start += len(chunk)
            yield chunk

    def frame(self, columns: Iterable[str] | None = None) -> pd.DataFrame:
        """Some columns (all by default) of every row, whole in memory: for the few columns
        that every row needs at once (row ids, targets, groups) or a table known to be small."""
        wanted = list(self.columns) if columns is None else list(columns)
        parts = list(self.chunks(wanted))
        if not parts:
            return pd.DataFrame({column: [] for column in wanted})
        return pd.concat(parts, copy=False) if len(parts) > 1 else parts[0]

    def column(self, name: str) -> pd.Series:
        """One column of every row."""
        return self.frame([name])[name]

    def map(self, function: Callable[[pd.DataFrame], pd.DataFrame]) -> TableChunks:
        """A table whose chunks are ``function`` of this one's, computed as they are read."""

        def read(columns: list[str] | None) -> Iterator[pd.DataFrame]:
            for chunk in self.chunks():
                mapped = function(chunk)
                yield mapped if columns is None else mapped[columns]

        return TableChunks(columns=self.columns, read=read, num_rows=None)

    def to_pandas(self) -> pd.DataFrame:
        """Every row and column in memory."""
        return self.frame()


def from_frame(frame: pd.DataFrame, chunk_rows: int) -> TableChunks:
    """A frame in memory, read in slices of ``chunk_rows``."""
    rows = max(int(chunk_rows), 1)

    def read(columns: list[str] | None) -> Iterator[pd.DataFrame]:
        selected = frame if columns is None else frame[columns]
        for start in range(0, len(selected), rows):
            yield selected.iloc[start : start + rows]

    return TableChunks(columns=tuple(map(str, frame.columns)), read=read, num_rows=len(frame))


def from_parquet(path: str | Path, chunk_rows: int) -> TableChunks:
    """A Parquet file read by record batches of at most ``chunk_rows`` rows through pyarrow."""
    source = str(path)
    metadata = pq.ParquetFile(source)
    names = [name for name in metadata.schema_arrow.names if not name.startswith("__index_level_")]
    rows = max(int(chunk_rows), 1)

    def read(columns: list[str] | None) -> Iterator[pd.DataFrame]:
        # Without pre-buffering: with it, the reader keeps buffers of every row group read
        # so far, and memory grows with the file.
        parquet = pq.ParquetFile(source, pre_buffer=False)
        wanted = names if columns is None else columns
        # The file's pandas metadata gives each column the dtype it was written from.
        stored = parquet.schema_arrow
        schema = pa.schema([stored.field(name) for name in wanted], metadata=stored.metadata)
        for batch in parquet.iter_batches(batch_size=rows, columns=wanted):
            yield pa.Table.from_batches([batch], schema=schema).to_pandas()

    schema = pa.schema(
        [metadata.schema_arrow.field(name) for name in names],
        metadata=metadata.schema_arrow.metadata,
    )
    return TableChunks(
        columns=tuple(names), read=read, num_rows=metadata.metadata.num_rows, schema=schema
    )


def from_csv(path: str | Path, chunk_rows: int, **read_csv_args: Any) -> TableChunks:
    """A CSV file read in chunks of ``chunk_rows`` rows by ``pandas.read_csv``."""
    source = str(path)
    header = pd.read_csv(source, nrows=0, **read_csv_args)

    def read(columns: list[str] | None) -> Iterator[pd.DataFrame]:
        usecols = {"usecols": columns} if columns is not None else {}
        with pd.read_csv(
            source, chunksize=max(int(chunk_rows), 1), **read_csv_args, **usecols
        ) as reader:
            yield from reader

    return TableChunks(columns=tuple(map(str, header.columns)), read=read)


def as_chunks(table: pd.DataFrame | TableChunks, chunk_rows: int) -> TableChunks:
    """``table`` as ``TableChunks``: a frame (from a ``pandas.*Dataset``) in slices."""
    if isinstance(table, TableChunks):
        return table
    return from_frame(table, chunk_rows)


def select(table: pd.DataFrame | TableChunks, columns: Iterable[str]) -> pd.DataFrame:
    """Some columns of every row of a frame or of ``TableChunks``, whole in memory."""
    if isinstance(table, TableChunks):
        return table.frame(columns)
    return table[list(columns)]


def as_frame(table: pd.DataFrame | TableChunks) -> pd.DataFrame:
    """``table`` whole in memory: a frame as it is, ``TableChunks`` read into one."""
    return table.to_pandas() if isinstance(table, TableChunks) else table


def row_keys(row_ids: pd.Series, seed: int) -> np.ndarray:
    """Each row's sampling key: a hash of its row id mixed with ``seed``, uniform over uint64.

    (pandas' own hash key applies to strings only, so the seed is mixed into the ids' hashes.)
    """
    hashed = pd.util.hash_pandas_object(pd.Series(row_ids.to_numpy()), index=False).to_numpy()
    seed_bits = pd.util.hash_array(np.array([int(seed)], dtype=np.uint64))[0]
    return pd.util.hash_array(hashed ^ seed_bits)


def smallest_keys(
    frame: pd.DataFrame, keys: np.ndarray, size: int
) -> tuple[pd.DataFrame, np.ndarray]:
    """The ``size`` rows of ``frame`` with the smallest ``keys``, and their keys, by key."""
    if len(frame) > size:
        kept = np.argpartition(keys, size - 1)[:size]
        frame, keys = frame.iloc[kept], keys[kept]
    order = np.argsort(keys, kind="stable")
    return frame.iloc[order], keys[order]


def merge_samples(
    samples: Iterable[tuple[pd.DataFrame, np.ndarray]], size: int
) -> tuple[pd.DataFrame, np.ndarray]:
    """Samples drawn from separate chunks (or partitions), merged into one of ``size`` rows."""
    frames, keys = [], []
    for frame, frame_keys in samples:
        frames.append(frame)
        keys.append(frame_keys)
        if sum(map(len, keys)) > 2 * size:
            merged = smallest_keys(pd.concat(frames), np.concatenate(keys), size)
            frames, keys = [merged[0]], [merged[1]]
    if not frames:
        raise ValueError("no sample to merge")
    return smallest_keys(pd.concat(frames), np.concatenate(keys), size)


def seeded_sample(
    chunks: Iterable[pd.DataFrame], row_id_column: str, size: int, seed: int
) -> pd.DataFrame:
    """At most ``size`` rows of ``chunks``, the same ones however the rows are chunked, in
    their original order; every row when there are at most ``size``."""
    samples = (smallest_keys(chunk, row_keys(chunk[row_id_column], seed), size) for chunk in chunks)
    sample, _ = merge_samples(samples, size)
    return sample.sort_index(kind="stable")
