"""``ChunkedArray``: an array too large to hold, described by its shape and made chunk by chunk.

A node returns one instead of an ndarray when the array would grow with the table
(image pixels): ``NumpyDataset.save`` writes each chunk to the ``.npy`` file as it is
made, so memory holds one chunk at a time. Anything else that needs the values
(``np.asarray``, a ``MemoryDataset``) gets them whole through ``__array__``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class ChunkedArray:
    """An array of ``shape`` and ``dtype`` whose rows ``make_chunks()`` yields in order.

    ``make_chunks`` starts over on every call, so the array can be read more than once;
    each chunk holds consecutive rows (first axis) and the chunks add up to ``shape[0]``.
    """

    shape: tuple[int, ...]
    dtype: np.dtype
    make_chunks: Callable[[], Iterator[np.ndarray]]

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", tuple(int(size) for size in self.shape))
        object.__setattr__(self, "dtype", np.dtype(self.dtype))

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize

    def __len__(self) -> int:
        return self.shape[0]

    def chunks(self) -> Iterator[np.ndarray]:
        """The chunks in row order, each checked against the declared shape and dtype."""
        rows = 0
        for chunk in self.make_chunks():
            if chunk.shape[1:] != self.shape[1:] or chunk.dtype != self.dtype:
                raise ValueError(
                    f"a chunk of shape {chunk.shape} and dtype {chunk.dtype} does not fit an "
                    f"array of shape {self.shape} and dtype {self.dtype}"
                )
            rows += len(chunk)
            if rows > self.shape[0]:
                raise ValueError(f"the chunks hold more than the {self.shape[0]} rows declared")
            yield chunk
        if rows != self.shape[0]:
            raise ValueError(f"the chunks hold {rows} rows, not the {self.shape[0]} declared")

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        values = np.empty(self.shape, dtype=self.dtype)
        start = 0
        for chunk in self.chunks():
            values[start : start + len(chunk)] = chunk
            start += len(chunk)
        return values if dtype is None else values.astype(dtype, copy=False)

    def __getitem__(self, key: Any) -> np.ndarray:
        # Makes every chunk: for small arrays and checks, not for the large ones this is for.
        return np.asarray(self)[key]

    def __deepcopy__(self, memo: dict) -> ChunkedArray:
        # Immutable and lazy: a copy would make the same chunks from the same inputs.
        return self
