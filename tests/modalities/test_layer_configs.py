"""Every custom Keras layer of the modalities rebuilds from its config and computes the same."""

from __future__ import annotations

import importlib
import io
import json
import pkgutil
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from PIL import Image

from multimodal_keras import modalities
from multimodal_keras.modalities import categorical, image, neighbours, numerical, text, text_scores
from multimodal_keras.modalities.image.decoding import DecodeImages
from multimodal_keras.modalities.text import lower_and_split_punctuation

IDS = np.array([[[2, 3, 3, 0], [4, 2, 0, 0]], [[5, 0, 0, 0], [2, 2, 4, 5]]], dtype=np.int32)
VALUES = np.array([[-1.5, 0.2], [0.4, 3.0], [1.1, -0.3]], dtype=np.float32)


# The fold row that follows the ids when the text input carries linear scores.
FOLDS = np.array([[[1, 0, 0, 0]], [[0, 0, 0, 0]]], dtype=np.int32)


def linear_scores() -> text_scores.LinearScores:
    """Two folds' (the full fit's and one more) models of two columns, three classes."""
    rng = np.random.default_rng(0)
    return text_scores.LinearScores(
        coefficients=rng.normal(size=(2, 2, 6, 3)).astype(np.float32),
        intercepts=rng.normal(size=(2, 2, 3)).astype(np.float32),
        log_probabilities=True,
        mean=np.full((2, 3), -1.0, dtype=np.float32),
        scale=np.full((2, 3), 0.5, dtype=np.float32),
        row_ids=np.array([7]),
        folds=np.array([1], dtype=np.int32),
        penalties=[1.0, 1.0],
    )


def fitted_neighbours() -> neighbours.NeighboursPreprocessor:
    """Names of two columns fitted on four rows with a number each."""
    rows = pd.DataFrame(
        {
            "row_id": [0, 1, 2, 3],
            "director": ["Ann", "Ann", "Bo", "Cy"],
            "cast": ["Di, Ed", "Ed", "Di", "Fa, Di"],
        }
    )
    options = {
        "columns": ["director", "cast"],
        "separator": ",",
        "max_tokens": 100,
        "max_names": 4,
        "max_rows": 1000,
        "powers": [2.0],
        "priors": [0.1],
        "block_rows": 2,
        "batch_size": 2,
    }
    return neighbours.fit(rows, options, targets=np.array([0.5, 1.0, -1.0, 0.2], np.float32))


NAMES = [tf.constant(["Ann", "Bo", ""]), tf.constant(["Ed, Di", " Zed ,Ed", "Di"])]


def png(colour: tuple[int, int, int], size: tuple[int, int] = (6, 5)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def vectorizer() -> keras.layers.TextVectorization:
    return keras.layers.TextVectorization(
        standardize=lower_and_split_punctuation,
        output_mode="int",
        output_sequence_length=4,
        vocabulary=["good", "bad", "film"],
    )


# (layer, its input): every custom layer of modalities/.
CASES: dict[str, Callable[[], tuple[keras.layers.Layer, Any]]] = {
    "TakeColumns": lambda: (categorical.TakeColumns([2, 0], "int32"), np.eye(3, dtype=np.float32)),
    "CategoryLookup": lambda: (
        categorical.CategoryLookup(
            [["a", "b"], ["x"]],
            [np.eye(3, 2, dtype=np.float32), np.array([[1.0], [0.0]], dtype=np.float32)],
            "<missing>",
        ),
        [tf.constant(["b", "", "zz"]), tf.constant(["x", "x", "y"])],
    ),
    "PiecewiseLinearEncoding": lambda: (
        numerical.PiecewiseLinearEncoding([[-1.0, 0.0, 1.0], [0.0, 2.0]], open_ends=True),
        VALUES,
    ),
    "ClipToRange": lambda: (numerical.ClipToRange([-1.0, 0.0], [1.0, 2.0]), VALUES),
    "PeriodicEncoding": lambda: (numerical.PeriodicEncoding(3, 0.1, 2.0), VALUES),
    "SmoothClip": lambda: (numerical.SmoothClip(2.0), VALUES),
    "ImputeAndScale": lambda: (
        numerical.ImputeAndScale(
            np.array([0.5, -2.0]),
            [1],
            (np.array([1.0, 0.0, 0.0]), np.array([2.0, 1.0, 1.0]), np.ones(3), np.zeros(3)),
        ),
        [tf.constant([1.0, np.nan], tf.float64), tf.constant([np.nan, 4.0], tf.float64)],
    ),
    "TfIdfShares": lambda: (text.TfIdfShares([0.0, 0.0, 1.2, 1.5, 2.0, 1.1]), IDS),
    "WeightedBag": lambda: (
        text.WeightedBag(2, 6, 3, sum_columns=True, step_scale=0.1),
        [IDS, np.full(IDS.shape, 0.5, dtype=np.float32)],
    ),
    "TokenMeans": lambda: (text.TokenMeans(), IDS),
    "TokenIds": lambda: (
        text.TokenIds(vectorizer(), np.array([[1, 1, 1, 0], [1, 1, 1, 1]]), [12, 0]),
        [tf.constant(["Good film, BAD!", ""]), tf.constant(["bad bad film", "good"])],
    ),
    "TextLinearScores": lambda: (
        text_scores.TextLinearScores(1, 2, 6, 3, log_probabilities=True, scores=linear_scores()),
        [np.full(IDS.shape, 0.5, dtype=np.float32), np.concatenate([IDS, FOLDS], axis=1)],
    ),
    "NameTokens": lambda: (
        neighbours.NameTokens(2, ",", fitted_neighbours().vocabulary, 4),
        NAMES,
    ),
    "NeighbourFeatures": lambda: (
        neighbours.features_layer("features", fitted_neighbours()),
        np.array([[2, 3, 0, 0, 0], [4, 2, 0, 0, 1]], dtype=np.int32),
    ),
    "TrainingAugmentation": lambda: (
        image.TrainingAugmentation(horizontal_flip=True, rotation=0.1, zoom=0.2),
        np.random.default_rng(0).random((2, 6, 5, 3)).astype(np.float32),
    ),
    "DecodeImages": lambda: (
        DecodeImages(4, 4, 3, "bilinear", 1000, ["photo", "sketch"]),
        [tf.constant([png((200, 10, 10)), png((0, 90, 0))]), tf.constant([png((9, 9, 9))] * 2)],
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_layer_rebuilt_from_its_config_computes_what_it_computed(name):
    layer, inputs = CASES[name]()
    expected = keras.ops.convert_to_numpy(layer(inputs))
    config = layer.get_config()

    rebuilt = type(layer).from_config(json.loads(json.dumps(config)))
    rebuilt(inputs)  # builds any weights, which a config does not hold
    rebuilt.set_weights(layer.get_weights())

    assert type(rebuilt).__name__ == name
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(rebuilt(inputs)), expected)


def test_every_custom_layer_of_the_modalities_has_a_case():
    found = pkgutil.walk_packages(modalities.__path__, f"{modalities.__name__}.")
    modules = [importlib.import_module(info.name) for info in found]
    layers = {
        value.__name__
        for module in modules
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, keras.layers.Layer)
        and value.__module__ == module.__name__
    }
    assert layers == set(CASES)
