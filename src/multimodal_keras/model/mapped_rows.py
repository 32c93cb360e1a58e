"""Rows of memory-mapped arrays read without making the file resident in the process.

Indexing a memory map faults the file's pages into the process: they count as resident
until released, and the kernel maps a whole block around each row read (fault-around,
large page-cache folios), so an epoch of random rows makes most of the file resident.
``FileRows`` reads the rows of an array held in a ``.npy`` file (``NumpyDataset`` loads it
as a ``numpy.memmap``) with ``os.preadv`` straight into the batch instead: the file stays
in the page cache, shared and evictable, and the process holds the batch only. Runs of
consecutive rows are read in one call each, so rows read in order (evaluation) cost few
calls. A file the page cache does not hold yet (``NumpyDataset`` may write through and
drop it) is read into it ahead (``POSIX_FADV_WILLNEED``): random rows would otherwise cost
a disk read each. Where an array's rows cannot be read from its file (no file, rows not
contiguous), ``PageRelease`` drops the pages of its map after each read.
"""

from __future__ import annotations

import mmap
import os
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


def memory_map(array: Any) -> mmap.mmap | None:
    """The memory map whose pages hold ``array``'s values (through views), or None."""
    base = array
    while base is not None:
        if isinstance(base, mmap.mmap):
            return base
        base = getattr(base, "base", None)
    return None


def mapped_file(array: Any) -> np.memmap | None:
    """The ``numpy.memmap`` that mapped the file ``array`` is a view of (or is), or None.

    That is the one whose base is the map itself: its views copy its ``offset`` unchanged.
    """
    base = array
    while base is not None:
        if isinstance(base, np.memmap) and isinstance(base.base, mmap.mmap):
            return base if getattr(base, "filename", None) else None
        base = getattr(base, "base", None)
    return None


def _address(array: np.ndarray) -> int:
    return int(array.__array_interface__["data"][0])


def _contiguous_rows(array: np.ndarray) -> bool:
    """Whether each row (everything after the first axis) is one C-ordered block of bytes."""
    expected = array.dtype.itemsize
    for size, stride in zip(reversed(array.shape[1:]), reversed(array.strides[1:]), strict=True):
        if size > 1 and stride != expected:
            return False
        expected *= size
    return True


class FileRows:
    """An array's rows read from its ``.npy`` file with ``os.preadv``, never mapped.

    Made by ``FileRows.of`` from a memory-mapped array (or a view of one) whose rows are
    contiguous blocks of the file; the file is opened once and closed with the object.
    """

    def __init__(
        self, path: str, offset: int, stride: int, shape: tuple[int, ...], dtype: np.dtype
    ) -> None:
        self.path, self.offset, self.stride = path, offset, stride
        self.shape, self.dtype = shape, np.dtype(dtype)
        self.row_bytes = int(np.prod(shape[1:], dtype=np.int64)) * self.dtype.itemsize
        self._descriptor = os.open(path, os.O_RDONLY)
        weakref.finalize(self, os.close, self._descriptor)
        if hasattr(os, "posix_fadvise"):  # Linux: start reading the rows into the page cache
            os.posix_fadvise(self._descriptor, offset, stride * shape[0], os.POSIX_FADV_WILLNEED)

    @classmethod
    def of(cls, array: Any) -> FileRows | None:
        """The rows of ``array`` read from its file, or None when they cannot be."""
        if not hasattr(os, "preadv") or not isinstance(array, np.ndarray) or array.ndim < 1:
            return None
        source = mapped_file(array)
        if source is None or array.strides[0] < 0 or not _contiguous_rows(array):
            return None
        offset = int(source.offset) + _address(array) - _address(source)
        return cls(str(source.filename), offset, int(array.strides[0]), array.shape, array.dtype)

    def __len__(self) -> int:
        return self.shape[0]

    def take(self, positions: np.ndarray) -> np.ndarray:
        """The rows at ``positions``, in that order, as a new array."""
        positions = np.asarray(positions, dtype=np.int64).reshape(-1)
        if positions.size and (positions.min() < 0 or positions.max() >= len(self)):
            raise IndexError(f"row positions outside 0..{len(self) - 1} of {self.path}")
        order = np.argsort(positions, kind="stable")
        ordered = positions[order]
        values = np.empty((len(positions), *self.shape[1:]), dtype=self.dtype)
        self._read(ordered, memoryview(values.reshape(-1).view(np.uint8)))
        if np.array_equal(order, np.arange(len(order))):
            return values
        unsorted = np.empty_like(values)
        unsorted[order] = values
        return unsorted

    def _read(self, ordered: np.ndarray, buffer: memoryview) -> None:
        """Read the rows at the sorted positions into ``buffer``, a run of rows at a time."""
        if not len(ordered):
            return
        if self.stride == self.row_bytes:  # consecutive rows are one block of the file
            breaks = np.flatnonzero(np.diff(ordered) != 1) + 1
            starts = np.concatenate([[0], breaks]).tolist()
            ends = np.concatenate([breaks, [len(ordered)]]).tolist()
        else:
            starts = list(range(len(ordered)))
            ends = starts[1:] + [len(ordered)]
        size, first_rows = self.row_bytes, ordered[starts].tolist()
        for start, end, row in zip(starts, ends, first_rows, strict=True):
            self._read_exactly(buffer[start * size : end * size], self.offset + row * self.stride)

    def _read_exactly(self, buffer: memoryview, offset: int) -> None:
        while len(buffer):
            count = os.preadv(self._descriptor, [buffer], offset)
            if count <= 0:
                raise OSError(f"{self.path} ends before the rows it should hold; rewrite it")
            buffer, offset = buffer[count:], offset + count


@dataclass
class PageRelease:
    """Releases the process's pages of some memory maps, keeping the file in the page cache.

    ``MADV_DONTNEED`` on a file mapping drops the mapped pages from the process (they stop
    counting as resident) and leaves the file's pages in the page cache; reading them again
    maps them back. Concurrent readers of the same maps only fault their pages in again.
    """

    maps: Sequence[mmap.mmap]
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def of(cls, arrays: Sequence[Any]) -> PageRelease:
        """The release of the distinct memory maps behind ``arrays`` (none in memory)."""
        maps: dict[int, mmap.mmap] = {}
        for array in arrays:
            mapping = memory_map(array)
            if mapping is not None:
                maps[id(mapping)] = mapping
        return cls(list(maps.values()))

    def __call__(self) -> None:
        """Drop every page of the maps from the process's resident memory."""
        if not self.maps or not hasattr(mmap, "MADV_DONTNEED"):
            return  # not on Linux or macOS: the pages stay until the maps are closed
        with self._lock:
            for mapping in self.maps:
                try:
                    mapping.madvise(mmap.MADV_DONTNEED)
                except ValueError:  # closed: nothing left to release
                    continue
