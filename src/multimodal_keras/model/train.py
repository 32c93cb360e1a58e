"""Training: compile for the task, fit with early stopping on the validation rows."""

from __future__ import annotations

import logging
import math
import sys
import time
import zlib
from collections.abc import Mapping
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.model import distribute
from multimodal_keras.model.inputs import RowBatches, shuffled_rows
from multimodal_keras.targets import BINARY, MULTICLASS, REGRESSION, TargetEncoder

logger = logging.getLogger(__name__)

# Rows in memory as (inputs, targets), or rows read batch by batch from their arrays.
Rows = tuple[Mapping[str, np.ndarray], np.ndarray] | RowBatches

LOSSES = {
    BINARY: "binary_crossentropy",
    MULTICLASS: "sparse_categorical_crossentropy",
}


def input_names(model: keras.Model) -> list[str]:
    """The names of the model's inputs, which are the names of their modalities."""
    return [tensor.name for tensor in model.inputs]


def seed_everything(seed: int, deterministic: bool) -> None:
    """Seed Python, numpy and TensorFlow; make TensorFlow ops deterministic when asked."""
    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()


def reseed_layers(model: keras.Model, seed: int) -> int:
    """Set every random layer's seed state from ``seed``; how many there were.

    Dropout and augmentation layers draw from ``keras.random.SeedGenerator`` states that a
    model loaded from disk gets afresh in each process, whatever the global seed; the
    training node loads its model, so without this two runs with one seed differ. Each
    state is derived from the seed, the layer's position and the attribute's name.
    """
    count = 0
    for position, layer in enumerate(model._flatten_layers()):
        for attribute, value in sorted(vars(layer).items()):
            if isinstance(value, keras.random.SeedGenerator):
                # By position, not name: Keras numbers unnamed layers anew in each model.
                derived = zlib.crc32(f"{seed}/{position}/{attribute}".encode())
                value.state.assign(np.array([derived, 0], dtype=value.state.dtype))
                count += 1
    return count


# Per task, the validation metric that early stopping and the learning-rate schedule watch
# under ``monitor: auto``: the task's headline metric, in Keras' name, and its direction.
MONITORED = {
    BINARY: ("val_auc", "max"),
    MULTICLASS: ("val_accuracy", "max"),
    REGRESSION: ("val_rmse", "min"),
}
# Per task, the validation metrics compile_model makes Keras report.
REPORTED = {
    BINARY: ("val_loss", "val_accuracy", "val_auc"),
    MULTICLASS: ("val_loss", "val_accuracy"),
    REGRESSION: ("val_loss", "val_rmse"),
}
OPTIMIZERS = {"adam": keras.optimizers.Adam, "adamw": keras.optimizers.AdamW}


def batch_size_for(params: Mapping[str, Any], training_rows: int) -> int:
    """``training.batch_size``, or under ``auto`` the power of two nearest to the training
    rows over ``auto_batch.steps_per_epoch``, within ``auto_batch``'s bounds.

    Large tables then take large batches (fewer, cheaper optimizer steps per epoch over
    wide embedding and TF-IDF layers) and small tables keep enough steps to learn.
    """
    setting = params["batch_size"]
    if setting != "auto":
        return int(setting)
    bounds = params["auto_batch"]
    wanted = max(training_rows / float(bounds["steps_per_epoch"]), 1.0)
    size = 2 ** round(math.log2(wanted))
    return int(min(max(size, int(bounds["min"])), int(bounds["max"])))


def pace_batch_norm(model: keras.Model, window: float | None, steps_per_epoch: int) -> None:
    """Set every batch normalisation's momentum so that its moving statistics average over
    about ``window`` of an epoch: ``1 - 1 / (window * steps_per_epoch)``, at least 0.

    A fixed momentum lags the weights by epochs when an epoch has few steps, and follows
    the last few batches only when it has many. ``None`` leaves each layer's own momentum.
    It must run before the first training step: Keras reads the momentum when it traces.
    """
    if window is None:
        return
    momentum = max(1.0 - 1.0 / (float(window) * steps_per_epoch), 0.0)
    for layer in batch_normalisations(model):
        layer.momentum = momentum


def batch_normalisations(model: keras.Model) -> list[keras.layers.BatchNormalization]:
    """The model's batch normalisation layers, nested models and wrapped layers included."""
    # Keras' own walk, as in reseed_layers: nested models and wrapped layers (TimeDistributed).
    return [
        layer
        for layer in model._flatten_layers()
        if isinstance(layer, keras.layers.BatchNormalization)
    ]


def weight_decay_for(params: Mapping[str, Any], model: keras.Model) -> float:
    """``training.weight_decay``, or under ``auto`` ``auto_weight_decay``'s
    ``with_batch_norm`` when the model normalises batches (the image tower's CNN or
    backbone) and its ``without_batch_norm`` otherwise.

    A convolution followed by batch normalisation gives the same output at any scale of its
    kernel, so decay does not shrink what it computes: it keeps the kernel's norm from
    growing, and so the step's effect on it from fading as training goes on.
    """
    setting = params.get("weight_decay", 0.0)
    if setting != "auto":
        return float(setting)
    key = "with_batch_norm" if batch_normalisations(model) else "without_batch_norm"
    return float(params["auto_weight_decay"][key])


def optimizer(params: Mapping[str, Any], model: keras.Model) -> keras.optimizers.Optimizer:
    """Adam, or AdamW with decoupled weight decay, from ``training``'s settings; with
    ``ema_momentum``, it also keeps a moving average of the weights (Keras' ``use_ema``)."""
    name = str(params.get("optimizer", "adam"))
    settings: dict[str, Any] = {"learning_rate": float(params["learning_rate"])}
    if name == "adamw":
        settings["weight_decay"] = weight_decay_for(params, model)
    momentum = params.get("ema_momentum")
    if momentum is not None:
        settings |= {"use_ema": True, "ema_momentum": float(momentum)}
    return OPTIMIZERS[name](**settings)


def ema_momentum_for(params: Mapping[str, Any], steps_per_epoch: int) -> float | None:
    """``training.ema_momentum``, or None (no average) where the average would reach back
    more than ``ema_max_epochs`` epochs.

    The average weighs the weights of about ``1 / (1 - momentum)`` past steps (100 at 0.99).
    Where an epoch has fewer steps than that over ``ema_max_epochs`` (a table of a few
    hundred rows), it lags the training by epochs and keeps the weights of its first ones:
    the penguins' test accuracy fell from 1.000 to 0.986 with it, to 0.957 with a lower
    momentum, so those tables keep their weights as trained.
    """
    momentum = params.get("ema_momentum")
    if momentum is None:
        return None
    most = params.get("ema_max_epochs")
    reach = 1.0 / (1.0 - float(momentum))
    if most is not None and reach > float(most) * steps_per_epoch:
        return None
    return float(momentum)


def best_epoch(history: Mapping[str, list[float]], monitor: str, mode: str) -> int:
    """The epoch (from 1) whose weights early stopping keeps: the first best ``monitor``."""
    values = np.asarray(history[monitor], dtype=np.float64)
    return int(np.argmin(values) if mode == "min" else np.argmax(values)) + 1


def monitored(target: TargetEncoder, params: Mapping[str, Any]) -> tuple[str, str]:
    """The validation metric to watch, and whether lower (min) or higher (max) is better."""
    setting = params.get("monitor", "auto")
    if setting in (None, "auto"):
        return MONITORED[target.task]
    if setting not in REPORTED[target.task]:
        raise MultimodalKerasError(
            f"training.monitor is {setting!r}, but a {target.task} model reports "
            f"{' and '.join(REPORTED[target.task])} on the validation rows; set training.monitor "
            "to one of them or to auto."
        )
    return str(setting), "min" if setting in ("val_loss", "val_rmse") else "max"


def training_callbacks(target: TargetEncoder, params: Mapping[str, Any]) -> list[Any]:
    """Early stopping with the best weights restored, and the learning-rate schedule.

    With ``ema_momentum``, the averaged weights are swapped in to be validated and stay in
    at each epoch's end, before early stopping copies the best epoch's, so the model keeps
    the average it was validated with; training goes on from the raw weights.
    """
    monitor, mode = monitored(target, params)
    callbacks: list[Any] = []
    if params.get("ema_momentum") is not None:
        callbacks.append(keras.callbacks.SwapEMAWeights(swap_on_epoch=True))
    callbacks += [
        keras.callbacks.EarlyStopping(
            monitor=monitor,
            mode=mode,
            patience=int(params["early_stopping_patience"]),
            restore_best_weights=True,
        )
    ]
    schedule = params.get("learning_rate_schedule") or {}
    if schedule.get("kind", "constant") == "plateau":
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor=monitor,
                mode=mode,
                factor=float(schedule["factor"]),
                patience=int(schedule["patience"]),
                min_lr=float(schedule.get("min_learning_rate", 0.0)),
                verbose=0,
            )
        )
    return callbacks


@keras.saving.register_keras_serializable(package="multimodal_keras")
class SmoothedSparseCrossentropy(keras.losses.Loss):
    """Cross-entropy against the class index with its probability spread: 1 - smoothing on
    the class, smoothing shared by all classes (Keras' sparse loss has no label smoothing)."""

    def __init__(self, smoothing: float, name: str = "smoothed_crossentropy", **kwargs: Any):
        super().__init__(name=name, **kwargs)
        self.smoothing = float(smoothing)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        classes = keras.ops.shape(y_pred)[-1]
        labels = keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32")
        return keras.losses.categorical_crossentropy(
            keras.ops.one_hot(labels, classes), y_pred, label_smoothing=self.smoothing
        )

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "smoothing": self.smoothing}


def compile_model(model: keras.Model, target: TargetEncoder, params: Mapping[str, Any]) -> None:
    """Compile with the loss and metrics of the task, and the configured optimizer."""
    if target.task == BINARY:
        metrics = [keras.metrics.BinaryAccuracy(name="accuracy"), keras.metrics.AUC(name="auc")]
    elif target.task == MULTICLASS:
        metrics = [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
    else:
        metrics = [keras.metrics.RootMeanSquaredError(name="rmse")]
    smoothing = float(params.get("label_smoothing", 0.0))
    loss: Any = LOSSES.get(target.task, "mean_squared_error")
    if target.task == MULTICLASS and smoothing:
        loss = SmoothedSparseCrossentropy(smoothing)
    model.compile(
        optimizer=optimizer(params, model),
        loss=loss,
        metrics=metrics,
    )


def class_weights(
    setting: str | Mapping[Any, float] | None, target: TargetEncoder, y_train: np.ndarray
) -> dict[int, float] | None:
    """Class weights from the configuration: none, 'balanced', or a weight per class label.

    'balanced' weighs each class present by the training rows over (classes present times
    its rows), as scikit-learn's ``compute_class_weight`` does, from one count per class;
    classes absent from the training rows weigh 1.
    """
    if not setting or not target.is_classification:
        return None
    if setting == "balanced":
        classes = len(target.classes)
        counts = np.bincount(np.asarray(y_train).astype(np.intp, copy=False), minlength=classes)
        present = np.flatnonzero(counts)
        weights = counts.sum() / (len(present) * counts[present].astype(np.float64))
        by_class = dict(zip(present.tolist(), weights.tolist(), strict=True))
        return {c: float(by_class.get(c, 1.0)) for c in range(classes)}
    labels = {str(label): index for index, label in enumerate(target.classes)}
    return {labels[str(label)]: float(weight) for label, weight in setting.items()}


def dataset(
    inputs: Mapping[str, np.ndarray],
    targets: np.ndarray,
    batch_size: int,
    shuffle_seed: int | None = None,
    shard: distribute.Shard | None = None,
) -> tf.data.Dataset:
    """Batches of (inputs, targets) held in memory, shuffled with a fixed seed for training.

    The rows are shuffled as ``RowBatches`` shuffles them (``inputs.shuffled_rows``), so
    both give the same batches. With a ``shard``, one input pipeline's endless share of
    the rows (``distribute.worker_rows``).
    """
    values = tf.nest.map_structure(tf.convert_to_tensor, (dict(inputs), targets))
    rows = shuffled_rows(np.arange(len(targets)), shuffle_seed)
    rows = distribute.worker_rows(rows, shard)

    def gather(positions: tf.Tensor) -> Any:
        return tf.nest.map_structure(lambda tensor: tf.gather(tensor, positions), values)

    return rows.batch(batch_size).map(gather).prefetch(tf.data.AUTOTUNE)


def as_dataset(
    rows: Rows,
    batch_size: int,
    shuffle_seed: int | None = None,
    shard: distribute.Shard | None = None,
) -> tf.data.Dataset:
    """Batches of (inputs, targets) from rows in memory or from ``RowBatches``."""
    if isinstance(rows, RowBatches):
        return rows.dataset(batch_size, shuffle_seed, shard)
    return dataset(*rows, batch_size, shuffle_seed, shard)


def row_targets(rows: Rows) -> np.ndarray:
    """The targets of the rows, in memory."""
    return rows.row_targets if isinstance(rows, RowBatches) else rows[1]


def row_count(rows: Rows) -> int:
    """How many rows there are, without reading them."""
    return len(rows) if isinstance(rows, RowBatches) else len(rows[1])


def progress_verbosity(setting: str | int) -> int:
    """Keras verbosity: a progress bar in a terminal; under ``auto`` elsewhere, none
    (``EpochLines`` logs each epoch instead)."""
    if setting == "auto":
        return 1 if sys.stdout.isatty() else 0
    return int(setting)


def epoch_line(epoch: int, epochs: int, logs: Mapping[str, float], seconds: float) -> str:
    """One epoch's metrics on one line: ``epoch 3/100: loss 0.41, val_auc 0.95, ...``."""
    shown = ", ".join(
        f"{name} {float(value):.4g}" for name, value in logs.items() if name != "learning_rate"
    )
    rate = logs.get("learning_rate")
    rate_text = f", learning rate {float(rate):.2g}" if rate is not None else ""
    return f"epoch {epoch + 1}/{epochs}: {shown}{rate_text} ({seconds:.1f} s)"


class EpochLines(keras.callbacks.Callback):
    """A log line per epoch, for output that is not a terminal.

    Keras' own line per epoch (``verbose=2``) takes two lines and bypasses logging.
    """

    def __init__(self, epochs: int) -> None:
        super().__init__()
        self._epochs = epochs
        self._started = time.perf_counter()

    def on_epoch_begin(self, epoch: int, logs: Mapping[str, float] | None = None) -> None:
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: Mapping[str, float] | None = None) -> None:
        seconds = time.perf_counter() - self._started
        logger.info(epoch_line(epoch, self._epochs, logs or {}, seconds))


def fit_model(
    model: keras.Model,
    target: TargetEncoder,
    train: Rows,
    validation: Rows,
    params: Mapping[str, Any],
    seed: int,
    callbacks: list[keras.callbacks.Callback] | None = None,
    strategy: tf.distribute.Strategy | None = None,
) -> dict[str, list[float]]:
    """Fit the model in place and return its history, restoring the best validation weights.

    Early stopping and the learning-rate schedule watch the task's validation metric
    (``monitored``); the history records the learning rate of every epoch.

    ``train`` and ``validation`` are (inputs, targets) in memory, or ``RowBatches``. Under
    a distribution ``strategy`` (model/distribute/) the model must have been made in its
    scope (``distribute.replicate``), and ``batch_size`` (``batch_size_for``) is per replica.
    """
    seed_everything(seed, bool(params.get("deterministic", True)))
    reseed_layers(model, seed)
    strategy = strategy or tf.distribute.get_strategy()
    batch_size = batch_size_for(params, row_count(train))
    steps = distribute.steps_per_epoch(row_count(train), batch_size, strategy)
    momentum = ema_momentum_for(params, steps)
    if momentum is None and params.get("ema_momentum") is not None:
        logger.info(
            "No average of the weights: at training.ema_momentum %s it would reach back over "
            "training.ema_max_epochs (%s) epochs of %d steps; the weights are kept as trained.",
            params["ema_momentum"],
            params.get("ema_max_epochs"),
            steps,
        )
    params = {**params, "ema_momentum": momentum}
    with strategy.scope():
        compile_model(model, target, params)
    pace_batch_norm(model, params.get("batch_norm_window"), steps)
    watching = training_callbacks(target, params)
    weighting = params.get("class_weight")
    # The training rows' targets are read only to count the classes, when weights ask it.
    weights = class_weights(weighting, target, row_targets(train)) if weighting else None
    setting = params.get("verbose", "auto")
    verbose = progress_verbosity(setting)
    if setting == "auto" and verbose == 0:
        watching.append(EpochLines(int(params["epochs"])))
    if distribute.is_distributed(strategy):
        return distribute.fit_distributed(
            model,
            strategy,
            lambda shard, size: as_dataset(train, size, shuffle_seed=seed, shard=shard),
            row_count(train),
            batch_size,
            as_dataset(validation, batch_size),
            int(params["epochs"]),
            [*watching, *(callbacks or [])],
            weights,
            verbose,
        )
    history = model.fit(
        as_dataset(train, batch_size, shuffle_seed=seed),
        validation_data=as_dataset(validation, batch_size),
        epochs=int(params["epochs"]),
        callbacks=[*watching, *(callbacks or [])],
        class_weight=weights,
        shuffle=False,  # the training dataset shuffles itself, with the seed
        verbose=verbose,
    )
    return {key: [float(value) for value in values] for key, values in history.history.items()}
