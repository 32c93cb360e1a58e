"""Label smoothing of multiclass targets: the loss, its reach, and a model that reloads."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest

from multimodal_keras.model.ensemble import MemberMean
from multimodal_keras.model.train import SmoothedSparseCrossentropy, compile_model
from multimodal_keras.targets import BINARY, MULTICLASS, REGRESSION, fit_target_encoder

CLASSES = 4
TARGETS = {
    BINARY: pd.Series([0, 1], name="y"),
    MULTICLASS: pd.Series(["a", "b", "c", "d"], name="y"),
    REGRESSION: pd.Series([1.0, 2.0], name="y"),
}


def logits_and_labels(
    rows: int = 32, members: int | None = None, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Random logits (per member, when ``members`` is given) and class indices."""
    rng = np.random.default_rng(seed)
    shape = (rows, CLASSES) if members is None else (rows, members, CLASSES)
    return rng.normal(scale=2.0, size=shape).astype("float32"), rng.integers(0, CLASSES, rows)


def smoothed_by_hand(labels: np.ndarray, probabilities: np.ndarray, smoothing: float) -> float:
    """The mean cross-entropy against 1 - s + s/K on the class and s/K elsewhere."""
    wanted = np.full(probabilities.shape, smoothing / CLASSES)
    wanted[np.arange(len(labels)), labels] += 1.0 - smoothing
    return float(np.mean(-np.sum(wanted * np.log(probabilities), axis=1)))


def test_the_loss_is_cross_entropy_against_the_smoothed_labels():
    logits, labels = logits_and_labels()
    probabilities = np.asarray(keras.ops.softmax(logits))

    loss = SmoothedSparseCrossentropy(0.2)(labels, probabilities)

    assert float(loss) == pytest.approx(smoothed_by_hand(labels, probabilities, 0.2), rel=1e-5)
    plain = keras.losses.SparseCategoricalCrossentropy()(labels, probabilities)
    assert float(SmoothedSparseCrossentropy(0.0)(labels, probabilities)) == pytest.approx(
        float(plain), rel=1e-5
    )


def test_class_weights_weigh_each_row():
    logits, labels = logits_and_labels()
    probabilities = np.asarray(keras.ops.softmax(logits))
    weights = np.where(labels == 0, 3.0, 1.0).astype("float32")
    loss = SmoothedSparseCrossentropy(0.1, reduction="sum")

    weighted = float(loss(labels, probabilities, sample_weight=weights))

    rows = [loss(labels[i : i + 1], probabilities[i : i + 1]) for i in range(len(labels))]
    assert weighted == pytest.approx(float(np.dot(weights, np.ravel(rows))), rel=1e-5)


def test_each_ensemble_member_still_trains_on_its_own_smoothed_loss():
    # Smoothing adds a term linear in the logits, which the members' mean keeps whole.
    logits, labels = logits_and_labels(members=3, seed=1)
    layer = MemberMean(MULTICLASS)
    loss = SmoothedSparseCrossentropy(0.1)

    mean = layer(logits)
    through_the_mean = float(loss(labels, keras.ops.softmax(mean))) + float(
        keras.ops.mean(layer.gap(logits, mean))
    )

    members = [float(loss(labels, keras.ops.softmax(logits[:, k]))) for k in range(3)]
    assert through_the_mean == pytest.approx(np.mean(members), rel=1e-5)


@pytest.mark.parametrize("task", list(TARGETS))
def test_only_multiclass_models_smooth_their_labels(task):
    target = fit_target_encoder(TARGETS[task], task)
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(target.output_units)(inputs))

    compile_model(model, target, {"learning_rate": 0.01, "label_smoothing": 0.1})

    assert isinstance(model.loss, SmoothedSparseCrossentropy) == (task == MULTICLASS)


def test_a_saved_model_reloads_with_its_smoothed_loss(tmp_path):
    target = fit_target_encoder(TARGETS[MULTICLASS], MULTICLASS)
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(CLASSES, activation="softmax")(inputs))
    compile_model(model, target, {"learning_rate": 0.01, "label_smoothing": 0.1})
    model.save(tmp_path / "model.keras")

    loaded = keras.saving.load_model(tmp_path / "model.keras")

    assert isinstance(loaded.loss, SmoothedSparseCrossentropy)
    assert loaded.loss.smoothing == pytest.approx(0.1)
