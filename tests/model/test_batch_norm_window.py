"""``training.batch_norm_window``: batch normalisation's moving statistics follow the steps
per epoch, so a model predicts with statistics of about the last share of an epoch whether
its epochs are short or long."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest

from multimodal_keras.modalities import image
from multimodal_keras.model.train import fit_model, pace_batch_norm
from multimodal_keras.targets import REGRESSION, fit_target_encoder

PARAMS = {
    "epochs": 1,
    "batch_size": 16,
    "learning_rate": 0.001,
    "optimizer": "adam",
    "monitor": "auto",
    "learning_rate_schedule": {"kind": "constant"},
    "early_stopping_patience": 5,
    "verbose": 0,
}
DATA_MEAN = 5.0


def image_tower_model() -> keras.Model:
    """The image tower of two convolution blocks, its batch norms inside TimeDistributed."""
    preprocessor = image.ImagePreprocessor(
        columns=["photo"],
        source="bytes",
        root=None,
        height=8,
        width=8,
        channels=1,
        interpolation="bilinear",
        max_pixels=64,
    )
    tower = {"conv_filters": [2, 2], "kernel_size": 3, "units": [2], "dropout": 0.0}
    return keras.Model(*image.build_tower("image", preprocessor, tower))


def momenta(model: keras.Model) -> list[float]:
    return [
        layer.momentum
        for outer in model.layers
        if isinstance(outer, keras.layers.TimeDistributed)
        for layer in outer.layer.layers
        if isinstance(layer, keras.layers.BatchNormalization)
    ]


def test_the_window_sets_every_nested_batch_norms_momentum_from_the_steps_per_epoch():
    model = image_tower_model()

    pace_batch_norm(model, window=0.25, steps_per_epoch=400)

    assert momenta(model) == pytest.approx([0.99, 0.99])
    pace_batch_norm(model, window=0.5, steps_per_epoch=20)
    assert momenta(model) == pytest.approx([0.9, 0.9])
    # Under one step, the statistics are the last batch's.
    pace_batch_norm(model, window=0.25, steps_per_epoch=2)
    assert momenta(model) == pytest.approx([0.0, 0.0])


def test_no_window_leaves_each_layers_own_momentum():
    model = image_tower_model()

    pace_batch_norm(model, window=None, steps_per_epoch=400)

    assert momenta(model) == pytest.approx([0.99, 0.99])  # Keras' default, as built


def moving_mean_after_one_epoch(rows: int, window: float | None) -> float:
    """Train one epoch on features of mean DATA_MEAN through a batch norm: its moving mean."""
    generator = np.random.default_rng(0)
    x = generator.normal(DATA_MEAN, 1.0, size=(rows, 1)).astype("float32")
    y = generator.normal(size=rows).astype("float32")
    target = fit_target_encoder(pd.Series(y, name="y"), REGRESSION)
    inputs = keras.Input((1,), name="numerical")
    norm = keras.layers.BatchNormalization(name="norm")
    model = keras.Model(inputs, keras.layers.Dense(1)(norm(inputs)))
    fit_model(
        model,
        target,
        ({"numerical": x}, y),
        ({"numerical": x[:32]}, y[:32]),
        PARAMS | {"batch_norm_window": window},
        seed=0,
    )
    return float(np.asarray(norm.moving_mean)[0])


@pytest.mark.parametrize("rows", [320, 3200])  # 20 and 200 steps of 16 rows
def test_the_moving_statistics_reach_the_datas_within_an_epoch_of_any_length(rows):
    assert moving_mean_after_one_epoch(rows, window=0.25) == pytest.approx(DATA_MEAN, rel=0.05)


def test_keras_fixed_momentum_lags_when_an_epoch_is_short():
    # 20 steps at momentum 0.99: the moving mean has moved a fifth of the way.
    assert moving_mean_after_one_epoch(320, window=None) < 0.25 * DATA_MEAN
