"""The image tower's batch-normalisation momentum comes from the configuration."""

from __future__ import annotations

import keras
import pytest

from multimodal_keras.modalities import image

TOWER = {"conv_filters": [2, 2], "kernel_size": 3, "units": [2], "dropout": 0.0}


def _momenta(tower: dict) -> list[float]:
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
    model = keras.Model(*image.build_tower("image", preprocessor, tower))
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
    assert _momenta(tower) == pytest.approx([expected, expected])
