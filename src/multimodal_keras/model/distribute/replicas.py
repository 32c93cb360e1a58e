"""A model moved into a strategy's scope and back out, variables and all.

A Keras model belongs to the strategy it was created under, and Keras has no call that
moves one. We keep our own rebuilding: ``keras.models.clone_model`` recurses into nested
models but not into wrappers, so it cannot reach the image tower's ``BatchNormalization``
inside ``TimeDistributed``; the model is rebuilt from its serialised configuration with
``synchronized`` set, and its variables are copied one by one.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from multimodal_keras.model.distribute.strategies import is_distributed


def replicate(model: keras.Model, strategy: tf.distribute.Strategy) -> keras.Model:
    """The model made again in the strategy's scope, with the same variables.

    The untrained model is loaded before the strategy's scope is entered, so it is
    rebuilt inside it from its configuration, and its variables (weights, and the dropout
    layers' seed states) are copied one by one. Its batch normalisation is synchronised
    across replicas: each step normalises with the statistics of the whole global batch,
    as one device would, and the moving statistics stay the same on every replica and
    worker (unsynchronised, each worker keeps its own, and their validation losses drift
    apart). Under TensorFlow's default strategy the model itself is returned.
    """
    if not is_distributed(strategy):
        return model
    with strategy.scope():
        copy = rebuilt(model, synchronized_batch_norm=True)
        copy_variables(model, copy)
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
    copy_variables(model, copy)
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


def copy_variables(source: keras.Model, target: keras.Model) -> None:
    """Assign every variable of ``source`` to the variable in the same place of ``target``."""
    sources, targets = source.variables, target.variables
    if len(sources) != len(targets):
        raise ValueError(f"cannot copy {len(sources)} variables into {len(targets)}")
    for from_variable, to_variable in zip(sources, targets, strict=True):
        to_variable.assign(np.asarray(from_variable))
