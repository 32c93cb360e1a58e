"""The serving model: raw column values in, predictions out, with no project code needed.

Each active modality rebuilds its fitted preprocessing as Keras layers over raw
columns (``build_serving_input``); the trained numeric model reads what they give,
and a last layer decodes its outputs as ``TargetEncoder.decode`` and
``TargetEncoder.probabilities`` do. When training read missing-value markers, a layer
per marked input (``missing_values.MarkersAsMissing``) comes first, so the modalities'
layers see a marker as the missing value it stands for, as in the pipeline. The Keras
model is exported as a TensorFlow SavedModel by ``datasets.ServingModelDataset``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from multimodal_keras.missing_values import MarkersAsMissing, applies_to
from multimodal_keras.modalities import MODALITIES
from multimodal_keras.modalities.base import serving_name
from multimodal_keras.model.train import input_names
from multimodal_keras.targets import BINARY, LOG, LOG1P, NO_TRANSFORM, REGRESSION, TargetEncoder

PREDICTION = "prediction"
PROBABILITIES = "probabilities"


@keras.saving.register_keras_serializable(package="multimodal_keras")
class DecodePredictions(keras.layers.Layer):
    """Model outputs to the predicted label (a string) and class probabilities, or a value.

    The arithmetic is ``TargetEncoder``'s, in float32 as numpy does it on the model's outputs.
    ``bounds`` clip a regression value; an infinite bound or None leaves that side open
    (``get_config`` writes it as None, so that the configuration is plain JSON).
    """

    def __init__(
        self,
        task: str,
        classes: list[str],
        mean: float,
        scale: float,
        transform: str = NO_TRANSFORM,
        bounds: Sequence[float | None] = (-np.inf, np.inf),
        **kwargs: Any,
    ) -> None:
        super().__init__(autocast=False, **kwargs)
        self.task, self.classes = task, list(classes)
        self.mean, self.scale = mean, scale
        low, high = bounds
        self.transform = transform
        self.bounds = (-np.inf if low is None else low, np.inf if high is None else high)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "task": self.task,
            "classes": list(self.classes),
            "mean": float(self.mean),
            "scale": float(self.scale),
            "transform": self.transform,
            "bounds": [None if np.isinf(bound) else float(bound) for bound in self.bounds],
        }

    def call(self, scores: tf.Tensor) -> dict[str, tf.Tensor]:
        if self.task == REGRESSION:
            value = scores[:, 0] * np.float32(self.scale) + np.float32(self.mean)
            if self.transform == LOG:
                value = tf.exp(value)
            elif self.transform == LOG1P:
                value = tf.math.expm1(value)
            low, high = (np.float32(bound) for bound in self.bounds)
            value = tf.clip_by_value(value, low, high)
            return {PREDICTION: value}
        if self.task == BINARY:
            positive = scores[:, 0]
            probabilities = tf.stack([1.0 - positive, positive], axis=1)
            indices = tf.cast(positive >= 0.5, tf.int32)
        else:
            probabilities = scores
            indices = tf.argmax(scores, axis=1, output_type=tf.int32)
        labels = tf.gather(tf.constant(self.classes, dtype=tf.string), indices)
        return {PREDICTION: labels, PROBABILITIES: probabilities}

    def compute_output_spec(self, scores: keras.KerasTensor) -> dict[str, keras.KerasTensor]:
        rows = scores.shape[0]
        if self.task == REGRESSION:
            return {PREDICTION: keras.KerasTensor((rows,), dtype="float32")}
        return {
            PREDICTION: keras.KerasTensor((rows,), dtype="string"),
            PROBABILITIES: keras.KerasTensor((rows, len(self.classes)), dtype="float32"),
        }


def decode_layer(target_encoder: TargetEncoder) -> DecodePredictions:
    """The output decoding of a fitted target encoding, labels as strings."""
    return DecodePredictions(
        target_encoder.task,
        [str(label) for label in target_encoder.classes],
        float(target_encoder.mean),
        float(target_encoder.scale),
        getattr(target_encoder, "transform", NO_TRANSFORM),
        (getattr(target_encoder, "low", -np.inf), getattr(target_encoder, "high", np.inf)),
        name="decode_predictions",
    )


def keyed_model(inputs: dict[str, Any], outputs: Any, name: str) -> keras.Model:
    """A functional model whose inputs are keyed by column name."""
    with warnings.catch_warnings():
        # Keyed by column name on purpose: ``serve`` takes the table's names, the signature
        # each input's own (``serving_name``); Keras warns when the two differ.
        warnings.filterwarnings("ignore", "When providing `inputs` as a dict", UserWarning)
        return keras.Model(inputs=inputs, outputs=outputs, name=name)


def build_serving_model(
    trained_model: keras.Model,
    target_encoder: TargetEncoder,
    preprocessors: Mapping[str, Any],
    missing_value_markers: Mapping[str, list[str]],
) -> keras.Model:
    """One named raw input per feature column, the fitted preprocessing, the trained model.

    Inputs whose column has missing-value markers read them as missing values first.
    Outputs ``prediction`` (the label as a string, or the value) and, for classification,
    ``probabilities`` (one column per class, in ``target_encoder.classes`` order).
    """
    raw, model_inputs = {}, {}
    for name in input_names(trained_model):
        columns, model_input = MODALITIES[name].build_serving_input(name, preprocessors[name])
        shared = {column: raw.setdefault(column, tensor) for column, tensor in columns.items()}
        if all(shared[column] is tensor for column, tensor in columns.items()):
            model_inputs[name] = model_input
            continue
        # A column an earlier modality reads too (the neighbours read categories and name
        # lists): one raw input feeds both, through this modality's own reading of it.
        for column, tensor in columns.items():
            if shared[column].dtype != tensor.dtype:
                raise ValueError(f"column {column!r} is read as two value types")
        reader = keyed_model(columns, model_input, f"{name}_serving_reader")
        model_inputs[name] = reader(shared)
    outputs = decode_layer(target_encoder)(trained_model(model_inputs))
    marked = {
        column: list(markers)
        for column, markers in missing_value_markers.items()
        if column in raw and applies_to(markers, raw[column].dtype)
    }
    if not marked:
        return keyed_model(raw, outputs, "serving_model")
    # The raw values' model, behind inputs of the same names that read markers as missing.
    values = keyed_model(raw, outputs, "serving_values")
    inputs = {
        column: keras.Input(shape=(), dtype=tensor.dtype, name=tensor.name)
        for column, tensor in raw.items()
    }
    read = {
        column: MarkersAsMissing(marked[column], name=f"{serving_name(column)}_markers")(tensor)
        if column in marked
        else tensor
        for column, tensor in inputs.items()
    }
    return keyed_model(inputs, values(read), "serving_model")
