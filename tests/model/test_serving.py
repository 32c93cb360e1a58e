"""The serving model's last layer decodes outputs exactly as the target encoding does."""

from __future__ import annotations

import json

import keras
import numpy as np
import pandas as pd
import pytest

from multimodal_keras.model.serving import PREDICTION, PROBABILITIES, decode_layer
from multimodal_keras.targets import BINARY, MULTICLASS, REGRESSION, fit_target_encoder

TARGETS = {
    BINARY: pd.Series([0, 1, 1, 0], name="sold"),
    MULTICLASS: pd.Series(["cheap", "fair", "dear", "fair"], name="band"),
    REGRESSION: pd.Series([12.5, 1e4, -3.0, 77.7], name="price"),
}


@pytest.mark.parametrize("task", sorted(TARGETS))
def test_decoded_predictions_equal_the_target_encodings(task):
    encoder = fit_target_encoder(TARGETS[task], task)
    rng = np.random.default_rng(0)
    scores = rng.random((50, encoder.output_units)).astype(np.float32)
    if task == MULTICLASS:
        scores /= scores.sum(axis=1, keepdims=True)
    scores[0] = 0.5
    decoded = {
        name: keras.ops.convert_to_numpy(value)
        for name, value in decode_layer(encoder)(scores).items()
    }
    expected = encoder.decode(scores)
    if encoder.is_classification:
        assert [label.decode() for label in decoded[PREDICTION]] == [str(x) for x in expected]
        np.testing.assert_array_equal(decoded[PROBABILITIES], encoder.probabilities(scores))
    else:
        assert PROBABILITIES not in decoded
        np.testing.assert_array_equal(decoded[PREDICTION], expected)


@pytest.mark.parametrize("transform", ["log", "log1p"])
def test_decoded_regression_predictions_undo_the_target_transform_as_the_encoding_does(transform):
    prices = pd.Series([12.5, 1e4, 3.0, 77.7, 250.0], name="price")
    encoder = fit_target_encoder(prices, REGRESSION, transform)
    scores = np.random.default_rng(1).normal(size=(50, 1)).astype(np.float32)

    decoded = keras.ops.convert_to_numpy(decode_layer(encoder)(scores)[PREDICTION])

    np.testing.assert_allclose(decoded, encoder.decode(scores), rtol=1e-6)
    np.testing.assert_allclose(encoder.decode(encoder.encode(prices)[:, None]), prices, rtol=1e-5)


@pytest.mark.parametrize(
    ("task", "transform"),
    [(BINARY, None), (MULTICLASS, None), (REGRESSION, None), (REGRESSION, "log1p")],
)
def test_the_decoding_layer_is_made_again_from_its_json_config_with_the_same_output(
    task, transform
):
    targets = TARGETS[task].abs() if task == REGRESSION else TARGETS[task]  # log1p needs >= 0
    encoder = fit_target_encoder(targets, task, transform)
    layer = decode_layer(encoder)
    config = json.loads(json.dumps(layer.get_config(), allow_nan=False))
    copy = type(layer).from_config(config)
    scores = np.random.default_rng(2).random((20, encoder.output_units)).astype(np.float32)

    expected, got = layer(scores), copy(scores)
    assert set(got) == set(expected)
    for name, value in expected.items():
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(got[name]), keras.ops.convert_to_numpy(value)
        )
