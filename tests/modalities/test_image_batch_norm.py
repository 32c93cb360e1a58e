"""The image tower's batch-normalisation momentum comes from the configuration, or from
the steps per epoch under ``training.batch_norm_window`` (``pace_batch_norm``)."""

from __future__ import annotations

import keras
import pandas as pd
import pytest

from multimodal_keras.modalities import image
from multimodal_keras.model.train import compile_model, pace_batch_norm
from multimodal_keras.targets import MULTICLASS, fit_target_encoder

TOWER = {"conv_filters": [2, 2], "kernel_size": 3, "units": [2], "dropout": 0.0}


def tower_model(tower: dict) -> keras.Model:
    """The image tower over one 8x8 grey column, its batch norms inside TimeDistributed."""
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
    return keras.Model(*image.build_tower("image", preprocessor, tower))


def momenta(model: keras.Model) -> list[float]:
    return [
        layer.momentum
        for outer in model.layers
        if isinstance(outer, keras.layers.TimeDistributed)
        for layer in outer.layer.layers
        if isinstance(layer, keras.layers.BatchNormalization)
    ]


@pytest.mark.parametrize(("setting", "expected"), [(0.9, 0.9), (None, 0.99)])
def test_batch_norm_momentum_is_configurable_and_defaults_to_keras(setting, expected):
    tower = TOWER | ({} if setting is None else {"batch_norm_momentum": setting})
    assert momenta(tower_model(tower)) == pytest.approx([expected, expected])


def test_the_window_sets_every_nested_batch_norms_momentum_from_the_steps_per_epoch():
    model = tower_model(TOWER)

    pace_batch_norm(model, window=0.25, steps_per_epoch=400)

    assert momenta(model) == pytest.approx([0.99, 0.99])
    pace_batch_norm(model, window=0.5, steps_per_epoch=20)
    assert momenta(model) == pytest.approx([0.9, 0.9])
    # Under one step, the statistics are the last batch's.
    pace_batch_norm(model, window=0.25, steps_per_epoch=2)
    assert momenta(model) == pytest.approx([0.0, 0.0])


def test_no_window_leaves_each_layers_own_momentum():
    model = tower_model(TOWER | {"batch_norm_momentum": 0.9})

    pace_batch_norm(model, window=None, steps_per_epoch=400)

    assert momenta(model) == pytest.approx([0.9, 0.9])


def test_auto_weight_decay_decays_a_model_with_the_image_tower_by_the_batch_norm_setting():
    tower = tower_model(TOWER)
    model = keras.Model(tower.input, keras.layers.Dense(3, activation="softmax")(tower.output))
    target = fit_target_encoder(pd.Series(["a", "b", "c"], name="y"), MULTICLASS)
    params = {
        "learning_rate": 0.001,
        "optimizer": "adamw",
        "weight_decay": "auto",
        "auto_weight_decay": {"with_batch_norm": 0.01, "without_batch_norm": 0.0001},
    }

    compile_model(model, target, params)

    assert model.optimizer.weight_decay == pytest.approx(0.01)
