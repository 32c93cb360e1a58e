"""Training reads batches of rows from memory-mapped arrays, the same batches as in memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from multimodal_keras.model.inputs import row_batches
from multimodal_keras.model.train import dataset, seed_everything


@pytest.fixture
def features(tmp_path: Path) -> dict:
    rows = 50
    rng = np.random.default_rng(0)
    np.save(tmp_path / "pixels.npy", rng.integers(0, 255, (rows, 1, 2, 2, 3), dtype=np.uint8))
    np.save(tmp_path / "tokens.npy", rng.integers(0, 9, (rows, 1, 4), dtype=np.int32))
    return {
        "numerical": pd.DataFrame({"row_id": np.arange(rows), "price": rng.normal(size=rows)}),
        "text": np.load(tmp_path / "tokens.npy", mmap_mode="r"),
        "image": np.load(tmp_path / "pixels.npy", mmap_mode="r"),
    }


def batches(data) -> list:
    return [
        ({name: value.numpy() for name, value in inputs.items()}, targets.numpy())
        for inputs, targets in data
    ]


def test_memory_mapped_arrays_are_read_in_place_not_copied(features):
    positions = np.arange(10, 30)

    rows = row_batches(["image", "text"], features, np.arange(50), positions)

    assert all(np.shares_memory(rows.arrays[name], features[name]) for name in rows.arrays)
    assert rows.row_targets.tolist() == list(range(10, 30))


def test_shuffled_batches_are_those_of_the_same_rows_in_memory_every_epoch(features):
    names, targets = ["numerical", "text", "image"], np.arange(50, dtype=np.int32) % 2
    positions = np.flatnonzero(np.arange(50) % 5 != 0)
    rows = row_batches(names, features, targets, positions)
    in_memory = {name: np.asarray(array)[positions] for name, array in rows.arrays.items()}

    seed_everything(3, deterministic=True)
    streamed = rows.dataset(8, shuffle_seed=3)
    seed_everything(3, deterministic=True)
    held = dataset(in_memory, targets[positions], 8, shuffle_seed=3)

    for _ in range(2):  # each epoch reshuffles, identically
        for (got, got_y), (want, want_y) in zip(batches(streamed), batches(held), strict=True):
            assert got.keys() == want.keys()
            for name in names:
                np.testing.assert_array_equal(got[name], want[name])
            np.testing.assert_array_equal(got_y, want_y)


def test_unshuffled_batches_keep_the_order_of_the_positions(features):
    positions = np.array([4, 2, 40, 7, 9])

    data = row_batches(["image"], features, np.arange(50), positions).dataset(2)

    got = batches(data)
    assert [targets.tolist() for _, targets in got] == [[4, 2], [40, 7], [9]]
    np.testing.assert_array_equal(
        np.concatenate([inputs["image"] for inputs, _ in got]), features["image"][positions]
    )


def test_a_permuted_input_reads_its_rows_in_the_permuted_order_and_the_others_unchanged(
    features,
):
    names, targets = ["numerical", "text", "image"], np.arange(50)
    positions = np.arange(5, 45, 2)
    permutation = np.random.default_rng(1).permutation(len(positions))
    rows = row_batches(names, features, targets, positions)

    permuted = rows.permuted("image", permutation)

    read = batches(permuted.dataset(batch_size=7))
    image = np.concatenate([inputs["image"] for inputs, _ in read])
    text = np.concatenate([inputs["text"] for inputs, _ in read])
    np.testing.assert_array_equal(image, np.asarray(features["image"])[positions][permutation])
    np.testing.assert_array_equal(text, np.asarray(features["text"])[positions])
    assert np.concatenate([t for _, t in read]).tolist() == positions.tolist()
    assert permuted.arrays["text"] is rows.arrays["text"]
