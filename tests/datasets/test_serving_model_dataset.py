"""ServingModelDataset exports a Keras model as a SavedModel folder and loads it back."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from multimodal_keras.datasets import ServingModelDataset


def doubling_model(factor: float) -> keras.Model:
    inputs = {"x": keras.Input(shape=(), dtype="float32", name="x")}
    outputs = keras.layers.Rescaling(factor)(inputs["x"])
    return keras.Model(inputs, {"y": outputs})


def test_a_saved_model_loads_with_tensorflow_and_serves_its_named_inputs(tmp_path):
    dataset = ServingModelDataset(filepath=str(tmp_path / "serving"))
    assert not dataset.exists()
    dataset.save(doubling_model(2.0))
    assert dataset.exists()
    loaded = dataset.load()
    result = loaded.signatures["serving_default"](x=tf.constant([1.5, -2.0]))
    np.testing.assert_allclose(result["y"].numpy(), [3.0, -4.0])
    np.testing.assert_allclose(loaded.serve({"x": tf.constant([1.0])})["y"].numpy(), [2.0])


def test_saving_again_replaces_the_folder_and_leaves_no_partial_copies(tmp_path):
    dataset = ServingModelDataset(filepath=str(tmp_path / "serving"))
    dataset.save(doubling_model(2.0))
    dataset.save(doubling_model(3.0))
    result = dataset.load().serve({"x": tf.constant([1.0])})["y"].numpy()
    np.testing.assert_allclose(result, [3.0])
    assert sorted(path.name for path in tmp_path.iterdir()) == ["serving"]


def test_a_failed_export_keeps_the_previous_model(tmp_path):
    dataset = ServingModelDataset(filepath=str(tmp_path / "serving"))
    dataset.save(doubling_model(2.0))
    unbuilt = keras.Sequential([keras.layers.Dense(1)])
    with pytest.raises(Exception, match="built"):
        dataset.save(unbuilt)
    np.testing.assert_allclose(dataset.load().serve({"x": tf.constant([1.0])})["y"].numpy(), [2.0])
    assert sorted(path.name for path in tmp_path.iterdir()) == ["serving"]
