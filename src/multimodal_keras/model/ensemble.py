"""The mean of an ensemble's members, each of which trains on its own loss.

An ensemble's members (model/build.py) are networks in one model, each with its own
weights for part of it; the model's output is the mean of the members' logits (or values,
for regression), so evaluation, inference, serving and modality importance see a single
model.

Each member trains on its own loss, as the members of a seed ensemble do. Training the
mean alone would let the members co-adapt; instead, in training, ``MemberMean`` adds the
gap between the members' mean loss and the loss of their mean, which does not depend on
the target for the losses used here:

- squared error: mean_k (y - z_k)^2 = (y - mean z)^2 + mean_k (z_k - mean z)^2;
- sigmoid cross-entropy on logits, softplus(z) - y z: the gap is
  mean_k softplus(z_k) - softplus(mean z);
- softmax cross-entropy on logits, logsumexp(z) - z_y: the gap is
  mean_k logsumexp(z_k) - logsumexp(mean z).

The task's loss on the output plus this gap is the members' mean loss exactly (without
class weights, which weigh the first term only).
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from multimodal_keras.targets import BINARY, MULTICLASS, REGRESSION

TASKS = (BINARY, MULTICLASS, REGRESSION)


@keras.saving.register_keras_serializable(package="multimodal_keras")
class MemberMean(keras.layers.Layer):
    """The members' logits (rows, members, units) to their mean (rows, units).

    In training it also adds the members' loss gap for ``task`` (see the module's
    docstring), so that each member learns from its own loss.
    """

    def __init__(self, task: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, not {task!r}")
        self.task = task

    def call(self, logits: Any, training: bool | None = None) -> Any:
        mean = ops.mean(logits, axis=1)
        if training:
            self.add_loss(ops.mean(self.gap(logits, mean)))
        return mean

    def gap(self, logits: Any, mean: Any) -> Any:
        """Per row: the members' mean loss minus the loss of their mean, target aside."""
        if self.task == REGRESSION:
            return ops.mean(ops.square(logits - ops.expand_dims(mean, 1)), axis=(1, 2))
        if self.task == BINARY:
            spread = ops.mean(ops.softplus(logits), axis=1) - ops.softplus(mean)
            return ops.mean(spread, axis=-1)
        members = ops.logsumexp(logits, axis=-1)
        return ops.mean(members, axis=1) - ops.logsumexp(mean, axis=-1)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], input_shape[-1])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "task": self.task}
