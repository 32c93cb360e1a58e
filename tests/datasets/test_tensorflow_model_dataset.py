"""The project's TensorFlowModelDataset: a failed save never becomes the latest version."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from kedro.io import DatasetError
from kedro.io.core import Version

from multimodal_keras.datasets import TensorFlowModelDataset
from multimodal_keras.datasets.atomic import PARTIAL_PREFIX


def small_model(bias: float) -> keras.Model:
    inputs = keras.Input(shape=(2,), name="x")
    layer = keras.layers.Dense(1, name="out", bias_initializer=keras.initializers.Constant(bias))
    return keras.Model(inputs, layer(inputs))


def dataset(path, save=None):
    return TensorFlowModelDataset(filepath=str(path), version=Version(None, save))


def test_a_model_saves_and_loads_back(tmp_path):
    dataset(tmp_path / "model.keras", "2026-01-01T00.00.00.000Z").save(small_model(1.5))
    loaded = dataset(tmp_path / "model.keras").load()
    np.testing.assert_allclose(loaded.get_layer("out").get_weights()[1], [1.5])


def test_a_save_that_fails_midway_leaves_the_previous_model_latest_and_no_file(
    tmp_path, monkeypatch
):
    path = tmp_path / "model.keras"
    dataset(path, "2026-01-01T00.00.00.000Z").save(small_model(1.5))
    original = keras.models.save_model

    def disk_full(model, filepath, **kwargs):
        original(model, filepath, **kwargs)
        with open(filepath, "r+b") as stream:
            stream.truncate(1000)  # what a full disk leaves
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(keras.models, "save_model", disk_full)
    with pytest.raises(DatasetError, match="No space left"):
        dataset(path, "2026-06-01T00.00.00.000Z").save(small_model(2.5))
    monkeypatch.undo()

    assert [p.name for p in path.iterdir()] == ["2026-01-01T00.00.00.000Z"]
    assert not [p for p in tmp_path.rglob("*") if PARTIAL_PREFIX in p.name]
    loaded = dataset(path).load()
    np.testing.assert_allclose(loaded.get_layer("out").get_weights()[1], [1.5])
