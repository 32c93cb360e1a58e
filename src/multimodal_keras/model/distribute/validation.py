"""Validation after each epoch, on every worker alone, with the metrics the workers agree on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from multimodal_keras.model.distribute.replicas import copy_variables, detach


class ValidationOnEachWorker(keras.callbacks.Callback):
    """Adds ``val_`` metrics to each epoch's logs, from every validation row, on this worker.

    The rows are evaluated by a detached copy of the model (``detach``) with the epoch's
    weights, outside the strategy, so that no replica is ever handed an empty last batch
    (which the image tower's ``TimeDistributed`` convolution cannot take). With
    ``across_workers`` (under ``multi_worker``) the workers then agree on the mean of their
    metrics, which are the same up to rounding: workers that differed in the last bit could
    stop at different epochs, and the one still training would wait for the others
    forever. Put it before the callbacks that read ``val_`` metrics, such as early stopping.
    """

    def __init__(self, validation: tf.data.Dataset, across_workers: bool = False) -> None:
        super().__init__()
        self._validation = validation
        self._across_workers = across_workers
        self._evaluator: keras.Model | None = None
        self._agree: Callable[[tf.Tensor], tf.Tensor] | None = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._evaluator = detach(self.model)
        strategy = self.model.distribute_strategy
        if self._across_workers:

            @tf.function
            def agree(values: tf.Tensor) -> tf.Tensor:
                per_replica = strategy.run(tf.identity, args=(values,))
                return strategy.reduce(tf.distribute.ReduceOp.MEAN, per_replica, axis=None)

            self._agree = agree

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is None or self._evaluator is None:
            return
        copy_variables(self.model, self._evaluator)
        scores = self._evaluator.evaluate(self._validation, verbose=0, return_dict=True)
        names = sorted(scores)
        values = np.array([float(scores[name]) for name in names], dtype=np.float32)
        if self._agree is not None:
            values = self._agree(tf.constant(values)).numpy()
        agreed = zip(names, values.tolist(), strict=True)
        logs.update({f"val_{name}": float(value) for name, value in agreed})
