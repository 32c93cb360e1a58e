"""``TableDataset``: a table read and written a chunk of rows at a time.

Loading gives ``tables.TableChunks`` over a Parquet file (read by record batches) or a
CSV file (read by ``pandas.read_csv`` in chunks), so that a node reads only the rows
and columns it needs at a time. Saving takes ``TableChunks`` or a frame and writes
Parquet one row group per chunk through ``pyarrow.parquet.ParquetWriter`` (or CSV a
chunk at a time, for a CSV file): the table is never whole in memory, and every row
group has the same Arrow schema (the table's own when it carries one, else the first
chunk's). The file is written beside its target and
renamed onto it once complete (``atomic.AtomicSave``), so a failed save leaves the
previous file, or version, as it was.
"""

from __future__ import annotations

from copy import deepcopy
from pathlib import PurePosixPath
from typing import Any

import fsspec
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from kedro.io.core import (
    AbstractVersionedDataset,
    DatasetError,
    Version,
    get_filepath_str,
    get_protocol_and_path,
)
from kedro_datasets._typing import TablePreview

from multimodal_keras import tables
from multimodal_keras.datasets.atomic import AtomicSave

PARQUET, CSV = "parquet", "csv"
# File name suffixes that name a format when ``file_format`` is not given.
SUFFIXES = {".parquet": PARQUET, ".pq": PARQUET, ".csv": CSV}
# Load arguments the dataset itself reads; any other goes to ``pandas.read_csv``.
OWN_LOAD_ARGS = ("chunk_rows",)


def format_of(filepath: str, given: str | None) -> str:
    """``parquet`` or ``csv``: ``given``, else what the file name's suffix says."""
    if given is not None:
        if given not in (PARQUET, CSV):
            raise DatasetError(
                f"TableDataset file_format {given!r} is not known; use {PARQUET!r} or {CSV!r}."
            )
        return given
    suffixes = PurePosixPath(filepath).suffixes
    for suffix in reversed(suffixes):
        if suffix.lower() in SUFFIXES:
            return SUFFIXES[suffix.lower()]
    raise DatasetError(
        f"TableDataset cannot tell the format of {filepath!r} from its name; name the file "
        f"*.parquet or *.csv, or set file_format to {PARQUET!r} or {CSV!r}."
    )


ARROW_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError)


def chunk_table(chunk: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """One chunk as an Arrow table of ``schema``, or one error naming the rows that differ.

    A column with no value in the chunk (which pandas may have read as floats) is stored
    as missing values of the schema's type.
    """
    try:
        return pa.Table.from_pandas(chunk, schema=schema, preserve_index=False)
    except ARROW_ERRORS as error:
        empty = chunk.isna().all()
        if not empty.any():
            raise _misfit(chunk, error) from error
    arrays = []
    for each in schema:
        values = chunk[each.name]
        try:
            arrays.append(
                pa.nulls(len(chunk), each.type)
                if empty[each.name]
                else pa.array(values, type=each.type, from_pandas=True)
            )
        except ARROW_ERRORS as error:
            raise _misfit(chunk, error) from error
    return pa.Table.from_arrays(arrays, schema=schema)


def _misfit(chunk: pd.DataFrame, error: Exception) -> DatasetError:
    return DatasetError(
        f"Rows {chunk.index[0]} to {chunk.index[-1]} do not fit the table's column types "
        f"({error}); give each column one type in every row."
    )


def write_parquet(path: str, table: tables.TableChunks, save_args: dict[str, Any]) -> None:
    """Write ``table`` to ``path`` one row group per chunk, every one with the same schema."""
    schema = table.schema
    writer: pq.ParquetWriter | None = None
    try:
        for chunk in table.chunks():
            if schema is None:
                schema = pa.Schema.from_pandas(chunk, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(path, schema, **save_args)
            writer.write_table(chunk_table(chunk, schema))
        if writer is None:  # no rows: the columns alone
            empty = pd.DataFrame({column: [] for column in table.columns})
            schema = schema or pa.Schema.from_pandas(empty, preserve_index=False)
            writer = pq.ParquetWriter(path, schema, **save_args)
            writer.write_table(schema.empty_table())
    finally:
        if writer is not None:
            writer.close()


def write_csv(path: str, table: tables.TableChunks, save_args: dict[str, Any]) -> None:
    """Write ``table`` to ``path`` as CSV a chunk at a time, the header once."""
    args = {"index": False, **save_args}
    with open(path, "w", newline="") as stream:
        header = True
        for chunk in table.chunks():
            chunk.to_csv(stream, header=header, **args)
            header = False
        if header:  # no rows: the columns alone
            pd.DataFrame(columns=list(table.columns)).to_csv(stream, **args)


class _TableFile(AbstractVersionedDataset[tables.TableChunks, Any]):
    """The format-aware reading and chunk-by-chunk writing ``TableDataset`` saves atomically."""

    DEFAULT_LOAD_ARGS: dict[str, Any] = {"chunk_rows": 100_000}
    DEFAULT_SAVE_ARGS: dict[str, Any] = {}

    def __init__(  # noqa: PLR0913
        self,
        *,
        filepath: str,
        file_format: str | None = None,
        load_args: dict[str, Any] | None = None,
        save_args: dict[str, Any] | None = None,
        version: Version | None = None,
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Create a dataset for the table file at ``filepath`` (local files).

        Args:
            filepath: The table's file; ``*.parquet`` (or ``*.pq``) and ``*.csv`` name
                their format.
            file_format: ``parquet`` or ``csv``, for a file whose name does not tell.
            load_args: ``chunk_rows``, the rows read at a time (default 100,000); for a
                CSV file, any other argument goes to ``pandas.read_csv`` (``sep``,
                ``keep_default_na``, ``dtype``...).
            save_args: Arguments of ``pyarrow.parquet.ParquetWriter`` (``compression``...),
                or of ``DataFrame.to_csv`` for a CSV file (``sep``...).
            version: Kedro's version to load and save, when the catalog entry is versioned.
            credentials: fsspec credentials.
            fs_args: fsspec filesystem arguments.
            metadata: Anything else the catalog entry holds (kedro-viz's settings).
        """
        protocol, path = get_protocol_and_path(filepath, version)
        self._protocol = protocol
        self._fs = fsspec.filesystem(protocol, **(deepcopy(credentials) or {}), **(fs_args or {}))
        self._format = format_of(path, file_format)
        self._load_args = {**self.DEFAULT_LOAD_ARGS, **(load_args or {})}
        self._save_args = {**self.DEFAULT_SAVE_ARGS, **(save_args or {})}
        if self._format == PARQUET:
            unknown = set(self._load_args) - set(OWN_LOAD_ARGS)
            if unknown:
                raise DatasetError(
                    f"TableDataset load_args {sorted(unknown)} apply to CSV files only; "
                    f"a Parquet table takes {list(OWN_LOAD_ARGS)}."
                )
        self.metadata = metadata
        super().__init__(
            filepath=PurePosixPath(path),
            version=version,
            exists_function=self._fs.exists,
            glob_function=self._fs.glob,
        )

    def _describe(self) -> dict[str, Any]:
        return {
            "filepath": self._filepath,
            "protocol": self._protocol,
            "file_format": self._format,
            "load_args": self._load_args,
            "save_args": self._save_args,
            "version": self._version,
        }

    def _chunk_rows(self) -> int:
        return int(self._load_args["chunk_rows"])

    def _table(self, chunk_rows: int) -> tables.TableChunks:
        load_path = get_filepath_str(self._get_load_path(), self._protocol)
        if self._format == PARQUET:
            return tables.from_parquet(load_path, chunk_rows)
        return tables.from_csv(load_path, chunk_rows, **self._read_args())

    def _read_args(self) -> dict[str, Any]:
        return {k: v for k, v in self._load_args.items() if k not in OWN_LOAD_ARGS}

    def load(self) -> tables.TableChunks:
        return self._table(self._chunk_rows())

    def save(self, data: tables.TableChunks | pd.DataFrame) -> None:
        save_path = get_filepath_str(self._get_save_path(), self._protocol)
        if isinstance(data, pd.DataFrame):
            schema = pa.Schema.from_pandas(data, preserve_index=False)
            data = tables.from_frame(data, self._chunk_rows())
            data = tables.TableChunks(data.columns, data.read, data.num_rows, schema)
        if not isinstance(data, tables.TableChunks):
            raise DatasetError(
                f"TableDataset saves a pandas DataFrame or TableChunks, not {type(data).__name__}."
            )
        write = write_parquet if self._format == PARQUET else write_csv
        write(save_path, data, self._save_args)
        self._invalidate_cache()

    def preview(self, nrows: int = 5) -> TablePreview:
        """The first ``nrows`` rows, as kedro-viz shows a table (``orient="split"``)."""
        table = self._table(max(int(nrows), 1))
        first = next(iter(table.chunks()), pd.DataFrame(columns=list(table.columns)))
        return TablePreview(first.head(nrows).to_dict(orient="split"))

    def _exists(self) -> bool:
        try:
            load_path = get_filepath_str(self._get_load_path(), self._protocol)
        except DatasetError:
            return False
        return self._fs.exists(load_path)

    def _release(self) -> None:
        super()._release()
        self._invalidate_cache()

    def _invalidate_cache(self) -> None:
        self._fs.invalidate_cache(get_filepath_str(self._filepath, self._protocol))


class TableDataset(AtomicSave, _TableFile):
    """A Parquet or CSV table loaded as ``TableChunks``, saved as Parquet row group by row
    group, atomically.

    Example catalog entries::

        raw_table:
          type: multimodal_keras.datasets.TableDataset
          filepath: data/01_raw/penguins.csv
          load_args:
            chunk_rows: 100000
            keep_default_na: false

        primary_table:
          type: multimodal_keras.datasets.TableDataset
          filepath: data/03_primary/primary_table.parquet
    """
