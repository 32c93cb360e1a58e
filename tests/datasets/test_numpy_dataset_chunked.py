"""NumpyDataset writes a ChunkedArray chunk by chunk, and a failed write keeps the old file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from kedro.io.core import DatasetError

from multimodal_keras.chunked import ChunkedArray
from multimodal_keras.datasets import NumpyDataset
from multimodal_keras.errors import MultimodalKerasError


def chunked(values: np.ndarray, size: int, fail_after: int | None = None) -> ChunkedArray:
    def make():
        for index, start in enumerate(range(0, len(values), size)):
            if index == fail_after:
                raise MultimodalKerasError("Row 5 has an unreadable image; fix it.")
            yield values[start : start + size]

    return ChunkedArray(values.shape, values.dtype, make)


def test_chunked_array_saves_as_the_same_npy_and_loads_memory_mapped(tmp_path: Path):
    values = np.random.default_rng(0).integers(0, 255, (10, 2, 4, 4, 3), dtype=np.uint8)
    dataset = NumpyDataset(filepath=str(tmp_path / "pixels.npy"))

    dataset.save(chunked(values, 3))
    loaded = dataset.load()

    assert isinstance(loaded, np.memmap)
    np.testing.assert_array_equal(loaded, values)
    np.testing.assert_array_equal(np.load(tmp_path / "pixels.npy"), values)


def test_error_raised_mid_stream_reaches_the_user_unwrapped_and_keeps_the_old_file(
    tmp_path: Path,
):
    filepath = tmp_path / "pixels.npy"
    dataset = NumpyDataset(filepath=str(filepath))
    dataset.save(np.ones((2, 3), dtype=np.uint8))
    before = filepath.read_bytes()

    with pytest.raises(MultimodalKerasError, match="Row 5 has an unreadable image") as raised:
        dataset.save(chunked(np.zeros((9, 3), dtype=np.uint8), 3, fail_after=2))

    assert isinstance(raised.value, DatasetError)  # so Kedro passes it on as it is
    assert filepath.read_bytes() == before
    assert list(tmp_path.iterdir()) == [filepath]


def test_chunks_short_of_the_declared_rows_fail_the_save_and_keep_the_old_file(tmp_path: Path):
    filepath = tmp_path / "pixels.npy"
    dataset = NumpyDataset(filepath=str(filepath))
    dataset.save(np.ones((2, 3), dtype=np.uint8))
    short = ChunkedArray((4, 3), np.uint8, lambda: iter([np.zeros((3, 3), np.uint8)]))

    with pytest.raises(DatasetError, match="hold 3 rows, not the 4"):
        dataset.save(short)

    assert dataset.load().tolist() == [[1, 1, 1], [1, 1, 1]]
    assert list(tmp_path.iterdir()) == [filepath]


def test_empty_chunked_array_saves_an_empty_npy(tmp_path: Path):
    dataset = NumpyDataset(filepath=str(tmp_path / "pixels.npy"))
    empty = np.zeros((3, 0, 4, 4, 3), dtype=np.uint8)

    dataset.save(ChunkedArray(empty.shape, empty.dtype, lambda: iter([empty])))

    assert dataset.load().shape == (3, 0, 4, 4, 3)
