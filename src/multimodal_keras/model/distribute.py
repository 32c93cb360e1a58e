"""Training on TensorFlow's distribution strategies: one device, all local devices, or a cluster.

``training.distribution.strategy`` picks one:

- ``default``: one device, TensorFlow's default strategy; training as without this module.
- ``mirrored``: ``tf.distribute.MirroredStrategy`` over every local GPU, or every logical
  CPU when there is none (``training.distribution.logical_cpus`` splits the CPU, to
  rehearse on one machine); Keras' ``fit`` splits each global batch across them.
- ``multi_worker``: ``tf.distribute.MultiWorkerMirroredStrategy`` over the machines that
  ``TF_CONFIG`` lists, each running ``kedro run --nodes train_model``. Keras 3's ``fit``
  fails under it (keras-team/keras#20585: it reduces an input batch in cross-replica
  context), so ``fit_in_steps`` runs Keras' own ``train_step`` with ``strategy.run``,
  reduces with ``strategy.reduce``, and drives the same callbacks (early stopping,
  history) and compiled metrics as ``fit``.

``training.batch_size`` is per replica: the global batch is that times the replicas.
Under either strategy (``fit_distributed``) the training rows repeat without end, in
epochs of a fixed number of full global batches, and every worker evaluates all the
validation rows itself after each epoch (``ValidationOnEachWorker``).

Some of this must happen before TensorFlow starts: ``MultiWorkerMirroredStrategy``
configures collective ops at program start-up, and logical CPUs must be set before
devices are. In a Kedro run the untrained model's loading starts TensorFlow before the
node runs, so ``DistributionHooks`` (hooks.py) calls ``prepare`` before the pipeline
runs, and the node's ``strategy_for`` returns the prepared strategy.

Each worker reads its own rows: the inputs are arrays (in memory or memory-mapped), not
files, so TensorFlow's auto-sharding is turned off and ``worker_rows`` shards the rows
before they are batched and read (see its docstring). Only the chief writes:
``is_chief`` reads ``TF_CONFIG``, and the hook keeps a non-chief worker's outputs in
memory.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from multimodal_keras.errors import MultimodalKerasError

logger = logging.getLogger(__name__)

DEFAULT = "default"
MIRRORED = "mirrored"
MULTI_WORKER = "multi_worker"
STRATEGIES = (DEFAULT, MIRRORED, MULTI_WORKER)
TF_CONFIG = "TF_CONFIG"


@dataclass(frozen=True)
class Distribution:
    """How training is spread: the strategy's name, and how many logical CPUs to make."""

    strategy: str = DEFAULT
    logical_cpus: int | None = None

    @classmethod
    def from_training(cls, training: Mapping[str, Any]) -> Distribution:
        """The ``distribution`` block of ``params:training``; ``default`` when it is absent."""
        settings = training.get("distribution") or {}
        strategy = settings.get("strategy") or DEFAULT
        if strategy not in STRATEGIES:
            raise MultimodalKerasError(
                f"training.distribution.strategy is {strategy!r}, which is not a strategy; "
                f"set it to one of {', '.join(STRATEGIES)} in "
                "conf/base/parameters_training.yml or with --params."
            )
        logical_cpus = settings.get("logical_cpus")
        if logical_cpus is not None and (
            isinstance(logical_cpus, bool) or not isinstance(logical_cpus, int) or logical_cpus < 1
        ):
            raise MultimodalKerasError(
                f"training.distribution.logical_cpus is {logical_cpus!r}; set it to a whole "
                "number of at least 1, or to null to leave the CPU whole."
            )
        return cls(strategy, logical_cpus)


_prepared: dict[Distribution, tf.distribute.Strategy] = {}
_lock = threading.Lock()


def prepare(distribution: Distribution) -> tf.distribute.Strategy:
    """Split the CPU as configured and create the strategy, once per process.

    Call it before TensorFlow starts (the project hook does, before a run loads any data).
    """
    with _lock:
        if distribution not in _prepared:
            if distribution.logical_cpus:
                split_cpu(distribution.logical_cpus)
            _prepared[distribution] = make_strategy(distribution.strategy)
        return _prepared[distribution]


def strategy_for(distribution: Distribution) -> tf.distribute.Strategy:
    """The strategy to train with: TensorFlow's default, or the one ``prepare`` made."""
    if distribution.strategy == DEFAULT and not distribution.logical_cpus:
        return tf.distribute.get_strategy()
    return prepare(distribution)


def split_cpu(count: int) -> None:
    """Make ``count`` logical devices of the first CPU, so that ``mirrored`` has replicas."""
    cpu = tf.config.list_physical_devices("CPU")[0]
    current = tf.config.get_logical_device_configuration(cpu) or []
    if len(current) == count:
        return
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
        )
    except RuntimeError as error:
        raise MultimodalKerasError(
            "training.distribution.logical_cpus cannot split the CPU once TensorFlow has "
            "started in this process; train through `kedro run` (its hook splits it first) "
            "or call multimodal_keras.model.distribute.prepare before any TensorFlow work."
        ) from error


def local_devices() -> list[str]:
    """Every local GPU, or every logical CPU when there is no GPU."""
    devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    return [device.name for device in devices]


def make_strategy(name: str) -> tf.distribute.Strategy:
    """A new strategy of the named kind."""
    if name == MIRRORED:
        return tf.distribute.MirroredStrategy(devices=local_devices())
    if name == MULTI_WORKER:
        if not os.environ.get(TF_CONFIG):
            logger.warning("TF_CONFIG is not set: multi_worker trains on this machine alone.")
        try:
            return tf.distribute.MultiWorkerMirroredStrategy()
        except RuntimeError as error:
            raise MultimodalKerasError(
                "The multi_worker strategy must be created before TensorFlow starts in this "
                "process; train through `kedro run` (its hook creates it first) or call "
                "multimodal_keras.model.distribute.prepare before any TensorFlow work."
            ) from error
    return tf.distribute.get_strategy()


def is_distributed(strategy: tf.distribute.Strategy) -> bool:
    """True for the strategies this module makes, False for TensorFlow's default."""
    return isinstance(
        strategy, tf.distribute.MirroredStrategy | tf.distribute.MultiWorkerMirroredStrategy
    )


def runs_own_steps(strategy: tf.distribute.Strategy) -> bool:
    """True where Keras' ``fit`` does not work and ``fit_in_steps`` trains instead."""
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def global_batch_size(batch_size: int, strategy: tf.distribute.Strategy) -> int:
    """The rows of one step across all replicas, from the per-replica batch size."""
    return batch_size * strategy.num_replicas_in_sync


def is_chief(tf_config: str | None = None) -> bool:
    """Whether this process writes the run's outputs: no cluster, its chief, or worker 0.

    ``tf_config`` defaults to the ``TF_CONFIG`` environment variable. A cluster with a
    ``chief`` task has that task write; without one, worker 0 is the chief, as
    TensorFlow's multi-worker strategy has it.
    """
    tf_config = os.environ.get(TF_CONFIG) if tf_config is None else tf_config
    if not tf_config:
        return True
    config = json.loads(tf_config)
    task = config.get("task") or {}
    if task.get("type") == "chief":
        return True
    if "chief" in (config.get("cluster") or {}):
        return False
    return task.get("type", "worker") == "worker" and int(task.get("index", 0)) == 0


def describe_task(tf_config: str | None = None) -> str:
    """This process's task in ``TF_CONFIG``, e.g. ``worker 1``, for logs."""
    tf_config = os.environ.get(TF_CONFIG) if tf_config is None else tf_config
    task = (json.loads(tf_config) if tf_config else {}).get("task") or {}
    return f"{task.get('type', 'worker')} {task.get('index', 0)}"


@dataclass(frozen=True)
class Shard:
    """One input pipeline's share of the rows: ``index`` of ``count`` pipelines."""

    count: int
    index: int

    @classmethod
    def of(cls, context: tf.distribute.InputContext) -> Shard:
        """The share of the input pipeline TensorFlow describes with ``context``."""
        return cls(context.num_input_pipelines, context.input_pipeline_id)


def worker_rows(rows: tf.data.Dataset, shard: Shard | None) -> tf.data.Dataset:
    """The rows one input pipeline reads: all of them, or an endless share of them.

    ``rows`` holds one element per row, already shuffled with the seed every worker
    shares (row positions, or the rows themselves), and is sharded before it is batched,
    so that a worker reads only its own rows from memory-mapped arrays. It repeats before
    sharding so that every pipeline yields full batches forever and each epoch is a
    fixed number of steps: pipelines whose shares end at different steps would leave a
    replica an empty batch, which turns Keras' running loss into NaN. Each pass over the
    rows is shuffled anew, so no row is left out for good.
    """
    if shard is None:
        return rows
    return rows.repeat().shard(shard.count, shard.index)


def unsharded(data: tf.data.Dataset) -> tf.data.Dataset:
    """``data`` with TensorFlow's auto-sharding off: rows are arrays, not files to split."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
    return data.with_options(options)


def steps_per_epoch(rows: int, batch_size: int, strategy: tf.distribute.Strategy) -> int:
    """Steps that show every row once on average, full global batches each."""
    return max(1, math.ceil(rows / global_batch_size(batch_size, strategy)))


def replicate(model: keras.Model, strategy: tf.distribute.Strategy) -> keras.Model:
    """The model made again in the strategy's scope, with the same variables.

    A Keras model belongs to the strategy it was created under; the untrained model is
    loaded before the strategy's scope is entered, so it is rebuilt inside it from its
    configuration, and its variables (weights, and the dropout layers' seed states) are
    copied one by one. Its batch normalisation is synchronised across replicas: each
    step normalises with the statistics of the whole global batch, as one device would,
    and the moving statistics stay the same on every replica and worker (unsynchronised,
    each worker keeps its own, and their validation losses drift apart). Under
    TensorFlow's default strategy the model itself is returned.
    """
    if not is_distributed(strategy):
        return model
    with strategy.scope():
        copy = rebuilt(model, synchronized_batch_norm=True)
        _copy_variables(model, copy)
    return copy


def detach(model: keras.Model) -> keras.Model:
    """A copy of ``model`` outside any strategy, compiled alike, with the same variables.

    What the trained model's later users (evaluation, the serving export, a non-chief
    worker's in-memory outputs) see: a model like one trained without a strategy, its
    batch normalisation unsynchronised again. Call it outside every strategy's scope.
    The optimizer's state is not copied: nothing resumes training from the trained model.
    """
    copy = rebuilt(model, synchronized_batch_norm=False)
    if model.compiled:
        copy.compile_from_config(model.get_compile_config())
    _copy_variables(model, copy)
    return copy


def rebuilt(model: keras.Model, synchronized_batch_norm: bool) -> keras.Model:
    """A new model from ``model``'s configuration, its variables newly initialised.

    Every ``BatchNormalization``, nested ones too (the image tower's, inside
    ``TimeDistributed``), gets ``synchronized`` set as asked.
    """
    config = keras.saving.serialize_keras_object(model)
    _set_batch_norm_synchronized(config, synchronized_batch_norm)
    return keras.saving.deserialize_keras_object(config)


def _set_batch_norm_synchronized(config: Any, synchronized: bool) -> None:
    if isinstance(config, dict):
        if config.get("class_name") == "BatchNormalization" and isinstance(
            config.get("config"), dict
        ):
            config["config"]["synchronized"] = synchronized
        for value in config.values():
            _set_batch_norm_synchronized(value, synchronized)
    elif isinstance(config, list):
        for value in config:
            _set_batch_norm_synchronized(value, synchronized)


def _copy_variables(source: keras.Model, target: keras.Model) -> None:
    sources, targets = source.variables, target.variables
    if len(sources) != len(targets):
        raise ValueError(f"cannot copy {len(sources)} variables into {len(targets)}")
    for from_variable, to_variable in zip(sources, targets, strict=True):
        to_variable.assign(np.asarray(from_variable))


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


class ValidationOnEachWorker(keras.callbacks.Callback):
    """Adds ``val_`` metrics to each epoch's logs, from every validation row, on this worker.

    The rows are evaluated by a detached copy of the model (``detach``) with the epoch's
    weights, outside the strategy, so that no replica is ever handed an empty last batch
    (which the image tower's ``TimeDistributed`` convolution cannot take). Under
    ``multi_worker`` the workers then agree on the mean of their metrics, which are the
    same up to rounding: workers that differed in the last bit could stop at different
    epochs, and the one still training would wait for the others forever. Put it before
    the callbacks that read ``val_`` metrics, such as early stopping.
    """

    def __init__(self, validation: tf.data.Dataset) -> None:
        super().__init__()
        self._validation = validation
        self._evaluator: keras.Model | None = None
        self._agree: Callable[[tf.Tensor], tf.Tensor] | None = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._evaluator = detach(self.model)
        strategy = self.model.distribute_strategy
        if runs_own_steps(strategy):

            @tf.function
            def agree(values: tf.Tensor) -> tf.Tensor:
                per_replica = strategy.run(tf.identity, args=(values,))
                return strategy.reduce(tf.distribute.ReduceOp.MEAN, per_replica, axis=None)

            self._agree = agree

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is None or self._evaluator is None:
            return
        _copy_variables(self.model, self._evaluator)
        scores = self._evaluator.evaluate(self._validation, verbose=0, return_dict=True)
        names = sorted(scores)
        values = np.array([float(scores[name]) for name in names], dtype=np.float32)
        if self._agree is not None:
            values = self._agree(tf.constant(values)).numpy()
        agreed = zip(names, values.tolist(), strict=True)
        logs.update({f"val_{name}": float(value) for name, value in agreed})


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
    steps = steps_per_epoch(rows, batch_size, strategy)
    callbacks = [ValidationOnEachWorker(validation), *callbacks]
    if runs_own_steps(strategy):
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
