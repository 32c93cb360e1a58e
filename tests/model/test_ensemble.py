"""The ensemble of heads: one output, the members' mean, and each member on its own loss."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from multimodal_keras.modalities import MODALITIES, active
from multimodal_keras.model.build import assemble_model
from multimodal_keras.model.ensemble import MemberMean
from multimodal_keras.model.train import compile_model
from multimodal_keras.targets import BINARY, MULTICLASS, REGRESSION, fit_target_encoder
from multimodal_keras.validation import with_row_ids
from tests.configuration import with_neighbours
from tests.fitting import fit_all

MEMBERS = 4
ROWS = 24
LOSSES = {
    REGRESSION: keras.losses.MeanSquaredError(),
    BINARY: keras.losses.BinaryCrossentropy(from_logits=True),
    MULTICLASS: keras.losses.SparseCategoricalCrossentropy(from_logits=True),
}
TARGETS = {
    BINARY: pd.Series([0, 1] * (ROWS // 2), name="sold"),
    MULTICLASS: pd.Series(["low", "mid", "high"] * (ROWS // 3), name="sold"),
    REGRESSION: pd.Series(np.linspace(-2.0, 5.0, ROWS), name="sold"),
}


def with_members(parameters: dict, members: int, **ensemble: object) -> dict:
    """The model's parameters with ``members`` members (and other ensemble settings)."""
    ensemble = dict(parameters["model"]["ensemble"], members=members, **ensemble)
    return dict(parameters["model"], ensemble=ensemble)


def members_targets(task: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    units = 3 if task == MULTICLASS else 1
    logits = rng.normal(scale=2.0, size=(ROWS, MEMBERS, units)).astype("float32")
    if task == REGRESSION:
        return logits, rng.normal(size=(ROWS, 1)).astype("float32")
    if task == BINARY:
        return logits, rng.integers(0, 2, size=(ROWS, 1)).astype("float32")
    return logits, rng.integers(0, 3, size=ROWS)


@pytest.mark.parametrize("task", list(LOSSES))
def test_the_loss_of_the_mean_plus_the_gap_is_the_members_mean_loss(task):
    logits, y = members_targets(task, np.random.default_rng(3))
    layer = MemberMean(task)
    loss = LOSSES[task]

    mean = layer(logits)
    members = np.mean([float(loss(y, logits[:, k])) for k in range(MEMBERS)])
    through_the_mean = float(loss(y, mean)) + float(keras.ops.mean(layer.gap(logits, mean)))

    np.testing.assert_allclose(np.asarray(mean), logits.mean(axis=1), rtol=1e-6)
    assert through_the_mean == pytest.approx(members, rel=1e-5)


def test_the_gap_is_added_in_training_only():
    logits, _ = members_targets(REGRESSION, np.random.default_rng(4))
    inputs = keras.Input((MEMBERS, 1))
    model = keras.Model(inputs, MemberMean(REGRESSION)(inputs))

    model(logits, training=False)
    assert not model.losses
    model(logits, training=True)
    assert len(model.losses) == 1
    assert float(model.losses[0]) == pytest.approx(float(logits.var(axis=1).mean()), rel=1e-5)


@pytest.fixture(scope="module")
def fitted(shared_small_parameters, make_tiny_table):
    table = with_row_ids(make_tiny_table(rows=ROWS, seed=6), None)
    parameters = with_neighbours(shared_small_parameters)
    preprocessors = fit_all(parameters, table)
    arrays = {
        name: MODALITIES[name].model_input(MODALITIES[name].transform(preprocessor, table))
        for name, preprocessor in active(preprocessors).items()
    }
    return preprocessors, arrays, parameters


def member_logits(
    model: keras.Model, arrays: dict[str, np.ndarray], training: bool = False
) -> np.ndarray:
    """Each member's logits, read from the layer before their mean."""
    heads = keras.Model(model.inputs, model.get_layer("member_mean").input)
    return np.asarray(heads(arrays, training=training))


@pytest.mark.parametrize("task", list(TARGETS))
def test_the_model_predicts_the_activated_mean_of_its_members(fitted, task):
    preprocessors, arrays, parameters = fitted
    target = fit_target_encoder(TARGETS[task], task)
    model = assemble_model(preprocessors, target, with_members(parameters, 5))

    logits = member_logits(model, arrays)
    outputs = model.predict(arrays, verbose=0)

    assert logits.shape == (ROWS, 5, target.output_units)
    activate = {BINARY: tf.sigmoid, MULTICLASS: tf.nn.softmax}.get(task, tf.identity)
    np.testing.assert_allclose(outputs, activate(logits.mean(axis=1)), rtol=1e-5, atol=1e-6)
    assert np.ptp(logits, axis=1).max() > 0  # the members differ


@pytest.mark.parametrize("task", list(TARGETS))
def test_the_training_loss_is_the_members_mean_loss(fitted, task):
    preprocessors, arrays, parameters = fitted
    # The towers without random layers in training but dropout, which is switched off.
    tabular = {name: preprocessors[name] for name in ("categorical", "numerical")}
    arrays = {name: arrays[name] for name in tabular}
    target = fit_target_encoder(TARGETS[task], task)
    model = assemble_model(tabular, target, parameters["model"])
    compile_model(model, target, parameters["training"])
    for layer in model.layers:
        if isinstance(layer, keras.layers.Dropout):
            layer.rate = 0.0
    y = target.encode(TARGETS[task]).astype("float32")
    y = y if task == MULTICLASS else y.reshape(-1, 1)

    predicted = model(arrays, training=True)
    trained_on = float(model.compute_loss(arrays, y, predicted, training=True))

    logits = member_logits(model, arrays, training=True)
    loss = LOSSES[task]
    if task == MULTICLASS:  # the members' own loss, with the configured label smoothing
        smoothing = parameters["training"]["label_smoothing"]
        loss = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=smoothing)
        y = keras.ops.one_hot(y.astype("int32"), target.output_units)
    members = np.mean([float(loss(y, logits[:, k])) for k in range(logits.shape[1])])
    assert trained_on == pytest.approx(members, rel=1e-4)


def test_members_own_the_towers_listed_and_share_the_others(fitted):
    preprocessors, arrays, parameters = fitted
    target = fit_target_encoder(TARGETS[BINARY], BINARY)
    single = assemble_model(preprocessors, target, with_members(parameters, 1))

    model = assemble_model(
        preprocessors, target, with_members(parameters, 3, own_towers=["numerical"])
    )

    names = [layer.name for layer in model.layers]
    assert [name for name in names if name.endswith("_numerical")] == [
        f"member_{member}_numerical" for member in range(3)
    ]
    for shared in ("categorical", "text", "image"):
        # One tower, as in a single network, read by every member's fusion layers.
        assert [n for n in names if n.startswith(shared)] == [
            layer.name for layer in single.layers if layer.name.startswith(shared)
        ]
    towers = [model.get_layer(f"member_{member}_numerical") for member in range(3)]
    weights = [np.concatenate([w.ravel() for w in tower.get_weights()]) for tower in towers]
    assert not np.allclose(weights[0], weights[1])


def test_one_member_is_a_single_network(fitted):
    preprocessors, arrays, parameters = fitted
    target = fit_target_encoder(TARGETS[BINARY], BINARY)

    model = assemble_model(preprocessors, target, with_members(parameters, 1))

    names = [layer.name for layer in model.layers]
    assert not [name for name in names if name.startswith("member")]
    assert model.get_layer("prediction").units == 1
