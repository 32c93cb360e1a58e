"""NumpyDataset writes a ChunkedArray chunk by chunk, and a failed write keeps the old file."""

from __future__ import annotations

import os
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


def test_write_through_flushes_and_drops_every_chunk_and_writes_the_same_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    values = np.random.default_rng(1).integers(0, 255, (10, 2, 4, 4, 3), dtype=np.uint8)
    synced, dropped = [], []
    real_fdatasync = os.fdatasync
    monkeypatch.setattr(os, "fdatasync", lambda fd: synced.append(fd) or real_fdatasync(fd))
    if hasattr(os, "posix_fadvise"):
        real_fadvise = os.posix_fadvise

        def fadvise(fd: int, offset: int, length: int, advice: int) -> None:
            dropped.append((offset, advice))
            real_fadvise(fd, offset, length, advice)

        monkeypatch.setattr(os, "posix_fadvise", fadvise)
    plain = NumpyDataset(filepath=str(tmp_path / "plain.npy"))
    through = NumpyDataset(
        filepath=str(tmp_path / "through.npy"), save_args={"write_through": True}
    )

    plain.save(chunked(values, 3))
    assert synced == []
    through.save(chunked(values, 3))

    assert len(synced) == 4  # one per chunk: 3 + 3 + 3 + 1 rows
    assert (tmp_path / "through.npy").read_bytes() == (tmp_path / "plain.npy").read_bytes()
    if hasattr(os, "posix_fadvise"):
        header = len((tmp_path / "plain.npy").read_bytes()) - values.nbytes
        row = values[0].nbytes
        starts = [offset for offset, _ in dropped]
        assert starts == [0, header + 3 * row, header + 6 * row, header + 9 * row]
        assert {advice for _, advice in dropped} == {os.POSIX_FADV_DONTNEED}


def test_write_through_failing_mid_stream_keeps_the_old_file(tmp_path: Path):
    filepath = tmp_path / "pixels.npy"
    dataset = NumpyDataset(filepath=str(filepath), save_args={"write_through": True})
    dataset.save(np.ones((2, 3), dtype=np.uint8))
    before = filepath.read_bytes()

    with pytest.raises(MultimodalKerasError, match="Row 5 has an unreadable image"):
        dataset.save(chunked(np.zeros((9, 3), dtype=np.uint8), 3, fail_after=2))

    assert filepath.read_bytes() == before
    assert list(tmp_path.iterdir()) == [filepath]


def test_unknown_save_args_are_refused_with_the_known_ones(tmp_path: Path):
    with pytest.raises(DatasetError, match=r"\['writethrough'\] are not known; use only"):
        NumpyDataset(filepath=str(tmp_path / "x.npy"), save_args={"writethrough": True})
