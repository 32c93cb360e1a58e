"""Rows of memory-mapped arrays are read from their files: resident memory stays bounded."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from multimodal_keras.chunked import ChunkedArray  # noqa: E402
from multimodal_keras.datasets import NumpyDataset  # noqa: E402
from multimodal_keras.model.inputs import row_batches, row_reader  # noqa: E402
from multimodal_keras.model.mapped_rows import FileRows, PageRelease, memory_map  # noqa: E402
from multimodal_keras.model.train import class_weights  # noqa: E402
from multimodal_keras.targets import fit_target_encoder  # noqa: E402

STATUS = Path("/proc/self/status")
ROWS, COLUMNS, CHUNK = 500_000, 100, 50_000  # int32: 200 MB
BATCH = 512


def mapped_file_mib() -> float:
    """The process's resident pages of mapped files (Linux), MiB."""
    for line in STATUS.read_text().splitlines():
        if line.startswith("RssFile:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no RssFile in /proc/self/status")


def expected_rows(positions: np.ndarray) -> np.ndarray:
    return positions[:, None].astype(np.int32) * COLUMNS + np.arange(COLUMNS, dtype=np.int32)


@pytest.fixture(scope="module")
def large_features(tmp_path_factory) -> np.ndarray:
    if not STATUS.exists():
        pytest.skip("reads the resident set from /proc (Linux)")
    path = tmp_path_factory.mktemp("maps") / "tokens.npy"

    def chunks():
        for start in range(0, ROWS, CHUNK):
            yield expected_rows(np.arange(start, start + CHUNK))

    dataset = NumpyDataset(filepath=str(path), save_args={"write_through": True})
    dataset.save(ChunkedArray((ROWS, COLUMNS), np.int32, chunks))
    return dataset.load()


def test_every_row_of_a_large_map_is_read_exactly_and_its_file_never_made_resident(
    large_features,
):
    assert FileRows.of(large_features) is not None
    size_mib = large_features.nbytes / 2**20
    rows = row_batches(["text"], {"text": large_features}, np.arange(ROWS), np.arange(ROWS))
    before = mapped_file_mib()
    most, seen = before, 0

    for inputs, targets in rows.dataset(BATCH, shuffle_seed=0):
        positions = targets.numpy()
        np.testing.assert_array_equal(inputs["text"].numpy(), expected_rows(positions))
        seen += len(positions)
        most = max(most, mapped_file_mib())

    assert seen == ROWS
    assert most - before < size_mib / 10, (most - before, size_mib)


def test_a_permuted_input_is_read_from_the_file_of_the_map_it_reads_through(large_features):
    positions = np.arange(0, ROWS, 3)
    rows = row_batches(["text"], {"text": large_features}, np.arange(ROWS), positions)
    permutation = np.random.default_rng(0).permutation(len(positions))
    permuted = rows.permuted("text", permutation)
    before = mapped_file_mib()
    most, read = before, []

    for inputs, _ in permuted.dataset(BATCH):
        read.append(inputs["text"].numpy()[:, 0])
        most = max(most, mapped_file_mib())

    np.testing.assert_array_equal(
        np.concatenate(read), positions[permutation].astype(np.int32) * COLUMNS
    )
    assert most - before < large_features.nbytes / 2**20 / 10


def test_balanced_class_weights_are_scikit_learns_from_one_count_per_class():
    from sklearn.utils.class_weight import compute_class_weight

    target = fit_target_encoder(pd.Series(["a", "b", "c", "d"]), "multiclass")
    y = np.random.default_rng(0).choice([0, 2, 3], 1001, p=[0.7, 0.2, 0.1])
    present = np.unique(y)
    want = compute_class_weight("balanced", classes=present, y=y)

    got = class_weights("balanced", target, y)

    assert got == {0: want[0], 1: 1.0, 2: want[1], 3: want[2]}


@pytest.fixture
def small_map(tmp_path: Path) -> np.ndarray:
    values = np.arange(40 * 6 * 2, dtype=np.float32).reshape(40, 6, 2)
    np.save(tmp_path / "values.npy", values)
    return np.load(tmp_path / "values.npy", mmap_mode="r")


@pytest.mark.parametrize(
    "view",
    [
        lambda array: array,
        lambda array: np.asarray(array, dtype=np.float32),
        lambda array: array[7:],
        lambda array: array[:, 1:],  # rows apart in the file: read one by one
        lambda array: array[:, 2, :],
        lambda array: array.reshape(40, 12),
    ],
    ids=["map", "asarray", "rows", "columns", "one column", "reshaped"],
)
def test_rows_read_from_the_file_are_those_indexing_gives(small_map, view):
    array = view(small_map)
    rows = FileRows.of(array)
    assert rows is not None
    for positions in (
        np.array([3, 4, 5, 9, 10, 0, 1, 2]),
        np.array([5, 5, 1, 30, 2]),
        np.arange(len(array)),
        np.arange(len(array))[::-1],
        np.array([], dtype=np.int64),
    ):
        got = rows.take(positions)
        np.testing.assert_array_equal(got, np.asarray(array)[positions])
        assert got.dtype == array.dtype and isinstance(got, np.ndarray)
    with pytest.raises(IndexError):
        rows.take(np.array([len(array)]))


def test_rows_that_are_not_blocks_of_the_file_are_read_through_the_map_and_released(small_map):
    array = small_map[:, ::2]
    assert FileRows.of(array) is None and FileRows.of(np.zeros((4, 2))) is None
    assert PageRelease.of([array, np.zeros(3)]).maps == [memory_map(small_map)]

    read = row_reader(array)

    np.testing.assert_array_equal(read(np.array([4, 1, 1])), np.asarray(array)[[4, 1, 1]])


def test_released_pages_stop_counting_as_resident(large_features):
    before = mapped_file_mib()
    total = int(large_features[:, 0].sum(dtype=np.int64))  # touches every page
    touched = mapped_file_mib()

    PageRelease.of([large_features])()

    assert total and touched - before > large_features.nbytes / 2**20 / 2
    assert mapped_file_mib() - before < large_features.nbytes / 2**20 / 10
