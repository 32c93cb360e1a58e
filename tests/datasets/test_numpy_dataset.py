"""NumpyDataset: .npy files, memory-mapped on load, replaced only by complete saves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from kedro.io import DatasetError, Version

from multimodal_keras.datasets import NumpyDataset


@pytest.fixture
def filepath(tmp_path: Path) -> Path:
    return tmp_path / "features" / "image_tensors.npy"


@pytest.mark.parametrize(
    "array",
    [
        np.arange(2 * 3 * 4 * 4 * 3, dtype=np.uint8).reshape(2, 3, 4, 4, 3),
        np.arange(12, dtype=np.int32).reshape(3, 1, 4),
        np.linspace(0, 1, 7, dtype=np.float64),
        np.zeros((5, 0, 8), dtype=np.int32),
    ],
    ids=["uint8 pixels", "int32 ids", "float64", "empty"],
)
def test_saved_array_loads_back_equal_with_its_dtype_and_shape(filepath, array):
    dataset = NumpyDataset(filepath=str(filepath))

    dataset.save(array)
    loaded = dataset.load()

    assert loaded.dtype == array.dtype
    assert loaded.shape == array.shape
    np.testing.assert_array_equal(loaded, array)


def test_load_memory_maps_the_file_read_only(filepath):
    dataset = NumpyDataset(filepath=str(filepath))
    dataset.save(np.arange(10, dtype=np.int32))

    loaded = dataset.load()

    assert isinstance(loaded, np.memmap)
    assert Path(loaded.filename) == filepath
    assert not loaded.flags.writeable


def test_load_without_mmap_mode_reads_into_memory(filepath):
    dataset = NumpyDataset(filepath=str(filepath), load_args={"mmap_mode": None})
    dataset.save(np.arange(10, dtype=np.int32))

    loaded = dataset.load()

    assert not isinstance(loaded, np.memmap)
    assert loaded.tolist() == list(range(10))


def test_exists_only_after_a_save(filepath):
    dataset = NumpyDataset(filepath=str(filepath))

    assert not dataset.exists()
    dataset.save(np.ones(3))
    assert dataset.exists()


def test_save_replaces_a_file_that_is_memory_mapped(filepath):
    dataset = NumpyDataset(filepath=str(filepath))
    dataset.save(np.zeros(4, dtype=np.int32))
    mapped = dataset.load()

    dataset.save(np.full(6, 7, dtype=np.int32))

    assert dataset.load().tolist() == [7] * 6
    assert mapped.tolist() == [0] * 4


def test_save_failing_midway_leaves_the_previous_file_intact(filepath, monkeypatch):
    dataset = NumpyDataset(filepath=str(filepath))
    dataset.save(np.arange(5, dtype=np.int64))
    before = filepath.read_bytes()

    def write_half_then_fail(stream, array, **_):
        stream.write(b"\x93NUMPY half written")
        raise OSError("disk full")

    monkeypatch.setattr(np, "save", write_half_then_fail)
    with pytest.raises(DatasetError, match="disk full"):
        dataset.save(np.arange(100, dtype=np.int64))
    monkeypatch.undo()

    assert filepath.read_bytes() == before
    assert dataset.load().tolist() == [0, 1, 2, 3, 4]
    assert list(filepath.parent.iterdir()) == [filepath]


def test_object_arrays_are_refused_and_the_previous_file_kept(filepath):
    dataset = NumpyDataset(filepath=str(filepath))
    dataset.save(np.arange(3))

    with pytest.raises(DatasetError, match="numeric arrays only"):
        dataset.save(np.array(["a", None], dtype=object))

    assert dataset.load().tolist() == [0, 1, 2]


def test_versioned_saves_keep_every_version_and_load_the_latest_or_a_named_one(filepath):
    first, second = "2026-01-01T00.00.00.000Z", "2026-02-01T00.00.00.000Z"
    NumpyDataset(filepath=str(filepath), version=Version(None, first)).save(np.array([1, 1]))
    NumpyDataset(filepath=str(filepath), version=Version(None, second)).save(np.array([2, 2]))

    latest = NumpyDataset(filepath=str(filepath), version=Version(None, None)).load()
    named = NumpyDataset(filepath=str(filepath), version=Version(first, None)).load()

    assert latest.tolist() == [2, 2]
    assert named.tolist() == [1, 1]
    assert (filepath / first / filepath.name).is_file()
    assert (filepath / second / filepath.name).is_file()


def test_versioned_save_without_a_version_writes_a_new_timestamped_one(filepath):
    dataset = NumpyDataset(filepath=str(filepath), version=Version(None, None))

    dataset.save(np.arange(4, dtype=np.int32))

    versions = list(filepath.iterdir())
    assert len(versions) == 1
    assert dataset.load().tolist() == [0, 1, 2, 3]
    assert dataset.resolve_load_version() == versions[0].name


def test_loading_a_missing_version_fails(filepath):
    NumpyDataset(filepath=str(filepath), version=Version(None, "v1")).save(np.arange(2))

    with pytest.raises(DatasetError):
        NumpyDataset(filepath=str(filepath), version=Version("v2", None)).load()


def test_describe_names_the_file_and_load_arguments(filepath):
    dataset = NumpyDataset(filepath=str(filepath))

    description = str(dataset)

    assert "image_tensors.npy" in description
    assert "mmap_mode" in description


def test_memory_protocol_round_trips_without_memory_mapping():
    dataset = NumpyDataset(filepath="memory://tests/ids.npy")

    dataset.save(np.arange(6, dtype=np.int16).reshape(2, 3))
    loaded = dataset.load()

    assert not isinstance(loaded, np.memmap)
    assert loaded.tolist() == [[0, 1, 2], [3, 4, 5]]
