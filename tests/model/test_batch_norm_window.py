"""``training.batch_norm_window``: batch normalisation's moving statistics follow the steps
per epoch, so a model predicts with statistics of about the last share of an epoch whether
its epochs are short or long. tests/modalities/test_image_batch_norm.py checks that the
momentum reaches every batch norm of the image tower."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest

from multimodal_keras.model.train import fit_model
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
