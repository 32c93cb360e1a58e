"""Training under a strategy: Keras' ``fit`` under ``mirrored``, a loop of our own under
``multi_worker``.

Keras 3's ``fit`` fails under ``MultiWorkerMirroredStrategy`` (keras-team/keras#20585: it
reduces an input batch in cross-replica context), so ``fit_in_steps`` runs Keras' own
``train_step`` with ``strategy.run``, reduces with ``strategy.reduce``, and drives the same
callbacks (early stopping, history) and compiled metrics as ``fit``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import keras
import tensorflow as tf

from multimodal_keras.model.distribute.class_weights import add_class_weights
from multimodal_keras.model.distribute.sharding import (
    Shard,
    global_batch_size,
    steps_per_epoch,
    unsharded,
)
from multimodal_keras.model.distribute.validation import ValidationOnEachWorker


def fit_distributed(
    model: keras.Model,
    strategy: tf.distribute.Strategy,
    training_rows: Callable[[Shard, int], tf.data.Dataset],
    rows: int,
    batch_size: int,
    validation: tf.data.Dataset,
    epochs: int,
    callbacks: list[keras.callbacks.Callback],
    class_weight: Mapping[int, float] | None = None,
    verbose: int = 0,
) -> dict[str, list[float]]:
    """Train under a strategy like ``model.fit`` does without one; return the history.

    Each epoch is ``steps_per_epoch`` full global batches of the endless, shuffled
    training rows, then every validation row (``ValidationOnEachWorker``). ``mirrored``
    trains with Keras' ``fit``; ``multi_worker`` with ``fit_in_steps``: the same steps,
    callbacks and metrics, in a loop of our own.

    Args:
        model: A model made and compiled in the strategy's scope; trained in place.
        strategy: The strategy whose replicas train.
        training_rows: ``(shard, batch_size)`` to the batches of an input pipeline's
            endless share of the training rows, shuffled with the seed (``worker_rows``).
        rows: How many training rows there are.
        batch_size: Rows per replica in a step.
        validation: Batches of every validation row.
        epochs: The most epochs to train.
        callbacks: Keras callbacks, e.g. early stopping, which may read ``val_`` metrics.
        class_weight: A weight per class index for the training rows, or None.
        verbose: Keras' verbosity: 0 silent, 1 a progress bar, 2 a line per epoch.
    """
    # Asked of the package, not of strategies.py, so that substituting
    # ``distribute.runs_own_steps`` decides for the whole loop (the tests run the loop of
    # our own under a one-device strategy that way).
    from multimodal_keras.model import distribute

    own_steps = distribute.runs_own_steps(strategy)
    steps = steps_per_epoch(rows, batch_size, strategy)
    # The averaged weights (training.ema_momentum) are swapped in before they are validated.
    swaps = [c for c in callbacks if isinstance(c, keras.callbacks.SwapEMAWeights)]
    rest = [c for c in callbacks if c not in swaps]
    validate = ValidationOnEachWorker(validation, across_workers=own_steps)
    callbacks = [*swaps, validate, *rest]
    if own_steps:
        return fit_in_steps(
            model,
            strategy,
            strategy.distribute_datasets_from_function(
                lambda context: unsharded(
                    add_class_weights(training_rows(Shard.of(context), batch_size), class_weight)
                )
            ),
            steps,
            epochs,
            callbacks,
            verbose,
        )
    # One input pipeline: fit splits each global batch across the local replicas.
    data = training_rows(Shard(1, 0), global_batch_size(batch_size, strategy))
    history = model.fit(
        unsharded(data),
        steps_per_epoch=steps,
        epochs=epochs,
        callbacks=callbacks,
        class_weight=class_weight,
        shuffle=False,  # the training rows shuffle themselves, with the seed
        verbose=verbose,
    )
    return {key: [float(value) for value in values] for key, values in history.history.items()}


def fit_in_steps(
    model: keras.Model,
    strategy: tf.distribute.Strategy,
    data: Any,
    steps: int,
    epochs: int,
    callbacks: list[keras.callbacks.Callback],
    verbose: int = 0,
) -> dict[str, list[float]]:
    """``model.fit``'s loop, written out: Keras' ``train_step`` run by ``strategy.run``.

    Args:
        model: A model made and compiled in the strategy's scope; trained in place.
        strategy: The strategy whose replicas train.
        data: A distributed dataset of endless training batches.
        steps: Steps per epoch.
        epochs: The most epochs to train.
        callbacks: Keras callbacks; a ``History`` (and a progress bar) are added.
        verbose: Keras' verbosity: 0 silent, 1 a progress bar, 2 a line per epoch.

    Returns:
        The history, as ``model.fit(...).history`` has it.
    """
    history = keras.callbacks.History()
    callback_list = keras.callbacks.CallbackList(
        [*callbacks, history],
        add_progbar=verbose != 0,
        model=model,
        verbose=verbose,
        epochs=epochs,
        steps=steps,
    )

    @tf.function
    def train_step(iterator: Any) -> tf.Tensor:
        outputs = strategy.run(model.train_step, args=(next(iterator),))
        return strategy.reduce(tf.distribute.ReduceOp.MEAN, outputs["loss"], axis=None)

    iterator = iter(data)
    model.stop_training = False
    callback_list.on_train_begin()
    logs: dict[str, float] = {}
    for epoch in range(epochs):
        model.reset_metrics()
        callback_list.on_epoch_begin(epoch)
        for step in range(steps):
            callback_list.on_train_batch_begin(step)
            loss = train_step(iterator)
            callback_list.on_train_batch_end(step, {"loss": float(loss)})
        # Read in cross-replica context: the metrics of the epoch's rows on every worker.
        logs = {name: float(value) for name, value in model.get_metrics_result().items()}
        callback_list.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callback_list.on_train_end(logs)
    return {key: [float(value) for value in values] for key, values in history.history.items()}
