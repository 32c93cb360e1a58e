"""ServingModelDataset exports a Keras model as a SavedModel folder and loads it back."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from multimodal_keras.datasets import ServingModelDataset
from multimodal_keras.modalities.base import raw_inputs


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


def two_input_model() -> keras.Model:
    """A price and a label in, a batch-normalised score and the label back out."""
    inputs = {
        "price": keras.Input(shape=(), dtype="float64", name="price"),
        "label": keras.Input(shape=(), dtype="string", name="label"),
    }
    price = keras.layers.Reshape((1,))(keras.ops.cast(inputs["price"], "float32"))
    score = keras.layers.BatchNormalization()(keras.layers.Dense(3)(price))
    return keras.Model(inputs, {"score": score, "label": keras.layers.Identity()(inputs["label"])})


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    dataset = ServingModelDataset(filepath=str(tmp_path_factory.mktemp("guarded") / "serving"))
    dataset.save(two_input_model())
    return dataset.load()


def test_an_empty_batch_gets_empty_outputs(served):
    empty = {"price": tf.zeros([0], tf.float64), "label": tf.zeros([0], tf.string)}

    outputs = served.serve(empty)
    by_signature = served.signatures["serving_default"](**empty)

    assert outputs["score"].shape == (0, 3) and outputs["label"].shape == (0,)
    assert by_signature["score"].shape == (0, 3)


def test_inputs_of_different_lengths_are_refused_naming_the_input(served):
    message = "serving input `price` has a different number of rows than `label`"
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        served.serve({"price": tf.constant([1.0, 2.0], tf.float64), "label": tf.constant(["a"])})


def test_an_infinite_number_is_refused_naming_the_input_and_nan_is_missing(served):
    labels = tf.constant(["a", "b"])
    message = "serving input `price` holds an infinite value"
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        served.serve({"price": tf.constant([1.0, np.inf], tf.float64), "label": labels})

    outputs = served.serve({"price": tf.constant([1.0, np.nan], tf.float64), "label": labels})
    assert outputs["score"].shape == (2, 3)


def test_serve_takes_the_columns_own_names_and_the_signature_safe_ones(tmp_path):
    raw = raw_inputs(["capital-gain", "café au lait"], "float64")
    total = keras.layers.Add()([keras.ops.cast(tensor, "float32") for tensor in raw.values()])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        model = keras.Model(raw, {"y": total})
    dataset = ServingModelDataset(filepath=str(tmp_path / "serving"))
    dataset.save(model)
    loaded = dataset.load()
    one, two = tf.constant([1.0], tf.float64), tf.constant([2.0], tf.float64)

    by_column = loaded.serve({"capital-gain": one, "café au lait": two})
    by_signature = loaded.signatures["serving_default"](capital_gain=one, cafe_au_lait=two)

    assert by_column["y"].numpy().tolist() == by_signature["y"].numpy().tolist() == [3.0]
