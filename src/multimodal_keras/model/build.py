"""Assemble one functional Keras model from the active modalities' towers.

The towers' outputs are concatenated and go through the fusion layers (the deep part).
With ``wide`` on, the head also reads the modalities' encoded features directly (one-hot
categories, scaled numbers, TF-IDF of the text): its output is a linear model over them
plus the deep part's contribution, as in Wide & Deep (Cheng et al., 2016), so the network
can always represent the classical linear baseline and learns it quickly.

With ``ensemble.members`` above 1 the model is that many members, each with its own fusion
layers and head, and its own towers for the modalities in ``ensemble.own_towers`` (cheap
ones: categories, numbers); the other towers (text, images) and the wide part are shared.
Each member trains on its own loss and the model predicts their mean (model/ensemble.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import keras

from multimodal_keras.modalities import MODALITIES, active
from multimodal_keras.modalities.base import dense_block
from multimodal_keras.model.ensemble import MemberMean
from multimodal_keras.targets import BINARY, MULTICLASS, TargetEncoder

HEAD_ACTIVATIONS = {BINARY: "sigmoid", MULTICLASS: "softmax"}


def assemble_model(
    preprocessors: Mapping[str, Any],
    target_encoder: TargetEncoder,
    model_params: Mapping[str, Any],
) -> keras.Model:
    """One named input and tower per active modality, concatenated, then the task's head."""
    inputs, towers, wide = {}, {}, []
    use_wide = bool((model_params.get("wide") or {}).get("enabled", False))
    used = active(preprocessors)
    for name, preprocessor in used.items():
        modality = MODALITIES[name]
        tower_input, tower_output = modality.build_tower(
            name, preprocessor, model_params["towers"][name]
        )
        inputs[name] = tower_input
        towers[name] = tower_output
        wide_features = getattr(modality, "wide_features", None)
        if use_wide and wide_features is not None:
            features = wide_features(
                name,
                tower_input,
                preprocessor,
                target_encoder.output_units,
                model_params["towers"][name],
            )
            if features is not None:
                wide.append(features)
    if not inputs:
        raise ValueError("no modality has configured columns")
    ensemble = model_params.get("ensemble") or {}
    members = int(ensemble.get("members", 1))
    activation = HEAD_ACTIVATIONS.get(target_encoder.task, "linear")
    units = target_encoder.output_units
    if members == 1:
        fused = fuse(list(towers.values()), model_params["fusion"], "fusion")
        if wide:
            fused = keras.layers.Concatenate(name="wide_and_deep")([fused, *wide])
        outputs = keras.layers.Dense(units, activation=activation, name="prediction")(fused)
        return keras.Model(inputs=inputs, outputs=outputs, name="multimodal_model")
    own = set(ensemble.get("own_towers") or [])
    logits = []
    for member in range(members):
        member_towers = [
            member_tower(name, used[name], model_params["towers"][name], member)(inputs[name])
            if name in own
            else output
            for name, output in towers.items()
        ]
        fused = fuse(member_towers, model_params["fusion"], f"member_{member}_fusion")
        head = keras.layers.Dense(units, name=f"member_{member}_head")(fused)
        logits.append(keras.layers.Reshape((1, units), name=f"member_{member}_logits")(head))
    stacked = keras.layers.Concatenate(axis=1, name="members")(logits)
    if wide:
        linear = wide[0] if len(wide) == 1 else keras.layers.Concatenate(name="wide")(wide)
        linear = keras.layers.Dense(units, name="wide_linear")(linear)
        linear = keras.layers.Reshape((1, units), name="wide_per_member")(linear)
        stacked = keras.layers.Add(name="wide_and_deep")([stacked, linear])
    mean = MemberMean(target_encoder.task, name="member_mean")(stacked)
    outputs = keras.layers.Activation(activation, name="prediction")(mean)
    return keras.Model(inputs=inputs, outputs=outputs, name="multimodal_model")


def fuse(
    towers: list[keras.KerasTensor], fusion: Mapping[str, Any], prefix: str
) -> keras.KerasTensor:
    """The towers' outputs concatenated, then the fusion layers."""
    fused = towers[0] if len(towers) == 1 else keras.layers.Concatenate(name=prefix)(towers)
    return dense_block(fused, list(fusion["units"]), float(fusion["dropout"]), prefix)


def member_tower(
    name: str, preprocessor: Any, tower: Mapping[str, Any], member: int
) -> keras.Model:
    """A member's own copy of a modality's tower, as a model of its own over the same input."""
    tower_input, tower_output = MODALITIES[name].build_tower(name, preprocessor, tower)
    return keras.Model(tower_input, tower_output, name=f"member_{member}_{name}")
