"""Assemble one functional Keras model from the active modalities' towers.

The towers' outputs are concatenated and go through the fusion layers (the deep part).
With ``wide`` on, the head also reads the modalities' encoded features directly (one-hot
categories, scaled numbers, TF-IDF of the text): its output is a linear model over them
plus the deep part's contribution, as in Wide & Deep (Cheng et al., 2016), so the network
can always represent the classical linear baseline and learns it quickly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import keras

from multimodal_keras.modalities import MODALITIES, active
from multimodal_keras.modalities.base import dense_block
from multimodal_keras.targets import BINARY, MULTICLASS, TargetEncoder

HEAD_ACTIVATIONS = {BINARY: "sigmoid", MULTICLASS: "softmax"}


def assemble_model(
    preprocessors: Mapping[str, Any],
    target_encoder: TargetEncoder,
    model_params: Mapping[str, Any],
) -> keras.Model:
    """One named input and tower per active modality, concatenated, then the task's head."""
    inputs, towers, wide = {}, [], []
    use_wide = bool((model_params.get("wide") or {}).get("enabled", False))
    for name, preprocessor in active(preprocessors).items():
        modality = MODALITIES[name]
        tower_input, tower_output = modality.build_tower(
            name, preprocessor, model_params["towers"][name]
        )
        inputs[name] = tower_input
        towers.append(tower_output)
        wide_features = getattr(modality, "wide_features", None)
        if use_wide and wide_features is not None:
            features = wide_features(name, tower_input, preprocessor, target_encoder.output_units)
            if features is not None:
                wide.append(features)
    if not inputs:
        raise ValueError("no modality has configured columns")
    fused = towers[0] if len(towers) == 1 else keras.layers.Concatenate(name="fusion")(towers)
    fusion = model_params["fusion"]
    fused = dense_block(fused, list(fusion["units"]), float(fusion["dropout"]), "fusion")
    if wide:
        fused = keras.layers.Concatenate(name="wide_and_deep")([fused, *wide])
    outputs = keras.layers.Dense(
        target_encoder.output_units,
        activation=HEAD_ACTIVATIONS.get(target_encoder.task, "linear"),
        name="prediction",
    )(fused)
    return keras.Model(inputs=inputs, outputs=outputs, name="multimodal_model")
