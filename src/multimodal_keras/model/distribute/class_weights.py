"""Class weights as per-row sample weights, for the training loop of our own.

``model.fit`` turns ``class_weight`` into sample weights itself; the loop of our own
(``fit_in_steps``) must do it on the dataset. We keep this small copy of what ``fit``
does because Keras' own (``make_class_weight_map_fn``) is private to ``keras.src``. The
weights themselves come from scikit-learn's ``compute_class_weight`` (``train.class_weights``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import tensorflow as tf


def add_class_weights(
    data: tf.data.Dataset, class_weight: Mapping[int, float] | None
) -> tf.data.Dataset:
    """Batches of (inputs, targets, sample weights) from the class weights, as ``fit`` makes."""
    if not class_weight:
        return data
    weights = tf.constant(
        [class_weight.get(index, 1.0) for index in range(max(class_weight) + 1)], tf.float32
    )

    def weighted(inputs: Any, targets: tf.Tensor) -> tuple[Any, tf.Tensor, tf.Tensor]:
        classes = tf.cast(tf.reshape(targets, [-1]), tf.int32)
        return inputs, targets, tf.gather(weights, classes)

    return data.map(weighted)
