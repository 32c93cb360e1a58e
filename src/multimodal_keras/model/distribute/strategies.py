"""The strategy to train with: made once per process, before TensorFlow starts.

``MultiWorkerMirroredStrategy`` configures collective ops at program start-up, and logical
CPUs must be set before devices are, so ``prepare`` makes the strategy (and splits the
CPU) once and keeps it for the rest of the process; ``strategy_for`` hands it out.
"""

from __future__ import annotations

import logging
import os
import threading

import tensorflow as tf

from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.model.distribute.cluster import TF_CONFIG
from multimodal_keras.model.distribute.settings import DEFAULT, MIRRORED, MULTI_WORKER, Distribution

logger = logging.getLogger(__name__)

# One strategy per setting for the whole process: TensorFlow accepts each only once.
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
    """True for the strategies this package makes, False for TensorFlow's default."""
    return isinstance(
        strategy, tf.distribute.MirroredStrategy | tf.distribute.MultiWorkerMirroredStrategy
    )


def runs_own_steps(strategy: tf.distribute.Strategy) -> bool:
    """True where Keras' ``fit`` does not work and ``fit_in_steps`` trains instead."""
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
