"""``NumpyDataset``: one numpy array in a ``.npy`` file, memory-mapped on load.

kedro-datasets has no ``.npy`` dataset; arrays of image pixels and token ids are
large, so loading maps the file instead of reading it, and saving writes a
temporary file that replaces the old one only once it is complete. A
``ChunkedArray`` is written chunk by chunk, so saving never holds the whole array.

With ``save_args: {write_through: true}`` each chunk is flushed to disk and dropped
from the page cache as soon as it is written: a pixel file larger than memory then
leaves no gigabytes of dirty cache behind, the file is on disk before it replaces the
old one, and fresh cache pages (slow to fault in on virtual machines that hand freed
memory back to the host) are not needed for every byte written.
"""

from __future__ import annotations

import io
import os
from copy import deepcopy
from pathlib import Path, PurePosixPath
from typing import Any

import fsspec
import numpy as np
from kedro.io.core import (
    AbstractVersionedDataset,
    DatasetError,
    Version,
    get_filepath_str,
    get_protocol_and_path,
)

from multimodal_keras.chunked import ChunkedArray
from multimodal_keras.errors import MultimodalKerasError


class UnusableDataError(MultimodalKerasError, DatasetError):
    """A user-fixable problem found while a chunked array was being made and saved.

    Kedro passes a ``DatasetError`` raised in ``save`` on as it is, so the project's one
    sentence reaches the user instead of a wrapped traceback.
    """


def write_through(stream: Any, start: int) -> None:
    """Flush a local file's bytes from ``start`` on to disk and drop them from the page cache."""
    stream.flush()
    descriptor = stream.fileno()
    getattr(os, "fdatasync", os.fsync)(descriptor)  # macOS has fsync only
    if hasattr(os, "posix_fadvise"):  # Linux; elsewhere the pages stay cached until evicted
        os.posix_fadvise(descriptor, start, 0, os.POSIX_FADV_DONTNEED)


def write_npy(stream: Any, data: np.ndarray | ChunkedArray, through: bool = False) -> None:
    """Write an array, or a chunked array one chunk at a time, as ``.npy`` to a binary stream.

    ``through`` (local files only) calls ``write_through`` after every chunk.
    """
    if not isinstance(data, ChunkedArray):
        np.save(stream, data, allow_pickle=False)
        if through:
            write_through(stream, 0)
        return
    header = {
        "descr": np.lib.format.dtype_to_descr(data.dtype),
        "fortran_order": False,
        "shape": data.shape,
    }
    np.lib.format.write_array_header_1_0(stream, header)
    # Plain writes rather than a writable memmap: mapped pages would count as resident.
    written = 0
    for chunk in data.chunks():
        stream.write(np.ascontiguousarray(chunk).data)
        if through:
            write_through(stream, written)
            written = stream.tell()


class NumpyDataset(AbstractVersionedDataset[np.ndarray, np.ndarray]):
    """Loads and saves a numpy array as a ``.npy`` file.

    Example catalog entry::

        image.features:
          type: multimodal_keras.datasets.NumpyDataset
          filepath: data/04_feature/image_tensors.npy
          load_args:
            mmap_mode: r
          save_args:
            write_through: true
    """

    DEFAULT_LOAD_ARGS: dict[str, Any] = {"mmap_mode": "r"}
    DEFAULT_SAVE_ARGS: dict[str, Any] = {"write_through": False}

    def __init__(
        self,
        *,
        filepath: str,
        load_args: dict[str, Any] | None = None,
        save_args: dict[str, Any] | None = None,
        version: Version | None = None,
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Create a dataset for the ``.npy`` file at ``filepath`` (any fsspec protocol).

        ``load_args`` go to ``numpy.load``; ``mmap_mode`` applies to local files only.
        ``save_args`` takes ``write_through`` (local files only; see the module's docstring).
        """
        unknown = set(save_args or {}) - set(self.DEFAULT_SAVE_ARGS)
        if unknown:
            raise DatasetError(
                f"NumpyDataset save_args {sorted(unknown)} are not known; "
                f"use only {sorted(self.DEFAULT_SAVE_ARGS)}."
            )
        protocol, path = get_protocol_and_path(filepath, version)
        self._protocol = protocol
        self._fs = fsspec.filesystem(protocol, **(deepcopy(credentials) or {}), **(fs_args or {}))
        self._load_args = {**self.DEFAULT_LOAD_ARGS, **(load_args or {})}
        self._save_args = {**self.DEFAULT_SAVE_ARGS, **(save_args or {})}
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
            "load_args": self._load_args,
            "save_args": self._save_args,
            "version": self._version,
        }

    def load(self) -> np.ndarray:
        load_path = get_filepath_str(self._get_load_path(), self._protocol)
        if self._protocol == "file":
            return np.load(load_path, allow_pickle=False, **self._load_args)
        with self._fs.open(load_path, "rb") as stream:
            args = {k: v for k, v in self._load_args.items() if k != "mmap_mode"}
            return np.load(io.BytesIO(stream.read()), allow_pickle=False, **args)

    def save(self, data: np.ndarray | ChunkedArray) -> None:
        save_path = get_filepath_str(self._get_save_path(), self._protocol)
        array = data if isinstance(data, ChunkedArray) else np.asarray(data)
        if array.dtype == object:
            raise DatasetError(f"NumpyDataset stores numeric arrays only, not {array.dtype}")
        try:
            self._write(save_path, array)
        except MultimodalKerasError as error:
            raise UnusableDataError(str(error)) from None
        self._invalidate_cache()

    def _write(self, save_path: str, array: np.ndarray | ChunkedArray) -> None:
        if self._protocol != "file":
            with self._fs.open(save_path, "wb") as stream:
                write_npy(stream, array)
            return
        target = Path(save_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(target.name + ".partial")
        through = bool(self._save_args["write_through"])
        try:
            with temporary.open("wb") as stream:
                write_npy(stream, array, through)
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise

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
