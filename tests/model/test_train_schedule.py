"""Training watches the task's validation metric, with AdamW and a plateau schedule."""

from __future__ import annotations

import logging

import keras
import numpy as np
import pandas as pd
import pytest

from multimodal_keras.model.train import (
    ema_momentum_for,
    fit_model,
    monitored,
    optimizer,
    reseed_layers,
    training_callbacks,
    weight_decay_for,
)
from multimodal_keras.targets import BINARY, MULTICLASS, REGRESSION, fit_target_encoder

TARGETS = {
    BINARY: pd.Series([0, 1], name="y"),
    MULTICLASS: pd.Series(["a", "b", "c"], name="y"),
    REGRESSION: pd.Series([1.0, 2.0], name="y"),
}
PARAMS = {
    "epochs": 6,
    "batch_size": 16,
    "learning_rate": 0.01,
    "optimizer": "adamw",
    "weight_decay": 0.001,
    "monitor": "auto",
    "learning_rate_schedule": {"kind": "plateau", "factor": 0.5, "patience": 1},
    "early_stopping_patience": 50,
    "verbose": 0,
}


AUTO_DECAY = {"with_batch_norm": 0.01, "without_batch_norm": 0.0001}


def dense_model() -> keras.Model:
    inputs = keras.Input((3,), name="numerical")
    return keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Dense(4)(inputs)))


def test_auto_weight_decay_is_the_one_for_models_without_batch_norm_unless_a_number_is_set():
    auto = PARAMS | {"weight_decay": "auto", "auto_weight_decay": AUTO_DECAY}

    assert weight_decay_for(auto, dense_model()) == pytest.approx(0.0001)
    assert optimizer(auto, dense_model()).weight_decay == pytest.approx(0.0001)
    assert weight_decay_for(auto | {"weight_decay": 0.02}, dense_model()) == pytest.approx(0.02)


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        (BINARY, ("val_auc", "max")),
        (MULTICLASS, ("val_accuracy", "max")),
        (REGRESSION, ("val_rmse", "min")),
    ],
)
def test_auto_monitor_is_the_tasks_headline_metric(task, expected):
    assert monitored(fit_target_encoder(TARGETS[task], task), PARAMS) == expected


def test_an_explicit_loss_monitor_is_minimised():
    target = fit_target_encoder(TARGETS[BINARY], BINARY)
    assert monitored(target, PARAMS | {"monitor": "val_loss"}) == ("val_loss", "min")


def test_adamw_decays_weights_and_the_schedule_is_a_plateau_callback():
    target = fit_target_encoder(TARGETS[BINARY], BINARY)

    built = optimizer(PARAMS, dense_model())
    callbacks = training_callbacks(target, PARAMS)

    assert isinstance(built, keras.optimizers.AdamW)
    assert built.weight_decay == pytest.approx(0.001)
    assert [type(callback).__name__ for callback in callbacks] == [
        "EarlyStopping",
        "ReduceLROnPlateau",
    ]
    assert all(callback.monitor == "val_auc" for callback in callbacks)
    constant = training_callbacks(target, PARAMS | {"learning_rate_schedule": None})
    assert [type(callback).__name__ for callback in constant] == ["EarlyStopping"]


@pytest.mark.integration
def test_the_learning_rate_halves_when_the_validation_metric_stalls():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    weights = np.array([1.0, -2.0, 0.5], dtype=np.float32)
    # Validation targets run against the training ones: the better the fit, the worse the
    # validation RMSE, so it never improves after the first epoch and the plateau acts.
    y = np.concatenate([x[:48] @ weights, -(x[48:] @ weights)])
    target = fit_target_encoder(pd.Series(y, name="y"), REGRESSION)
    inputs = keras.Input((3,), name="numerical")
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))

    history = fit_model(
        model,
        target,
        ({"numerical": x[:48]}, y[:48]),
        ({"numerical": x[48:]}, y[48:]),
        PARAMS | {"epochs": 6},
        seed=1,
    )

    rates = history["learning_rate"]
    assert rates[0] == pytest.approx(0.01)
    assert rates[-1] < rates[0]


def test_random_layers_of_a_loaded_model_follow_the_seed(tmp_path):
    """A model loaded from disk draws its dropout masks from the run's seed, not the process."""
    inputs = keras.Input(shape=(4,))
    model = keras.Model(inputs, keras.layers.Dropout(0.5, name="drop")(inputs))
    model.save(tmp_path / "model.keras")
    first, second = (keras.models.load_model(tmp_path / "model.keras") for _ in range(2))

    def states(loaded):
        return [
            tuple(np.asarray(value.state).tolist())
            for layer in loaded._flatten_layers()
            for value in vars(layer).values()
            if isinstance(value, keras.random.SeedGenerator)
        ]

    assert states(first) != states(second)  # each load draws its own
    assert reseed_layers(first, 7) == reseed_layers(second, 7) == 1
    assert states(first) == states(second)
    reseed_layers(second, 8)
    assert states(first) != states(second)


def test_a_moving_average_of_the_weights_is_kept_by_the_optimizer_when_a_momentum_is_set():
    target = fit_target_encoder(TARGETS[BINARY], BINARY)
    averaged = PARAMS | {"ema_momentum": 0.99}

    built = optimizer(averaged, dense_model())
    callbacks = training_callbacks(target, averaged)

    assert built.use_ema
    assert built.ema_momentum == pytest.approx(0.99)
    # First: the average is in the model when it is validated and when early stopping
    # copies the best epoch's weights.
    assert [type(callback).__name__ for callback in callbacks] == [
        "SwapEMAWeights",
        "EarlyStopping",
        "ReduceLROnPlateau",
    ]
    assert not optimizer(PARAMS | {"ema_momentum": None}, dense_model()).use_ema


def regression_rows(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(96, 3)).astype(np.float32)
    y = x @ np.array([1.0, -2.0, 0.5], dtype=np.float32) + rng.normal(0, 0.3, 96)
    return x, y.astype(np.float32)


@pytest.mark.integration
def test_the_model_keeps_the_averaged_weights_it_was_validated_with():
    x, y = regression_rows(0)
    target = fit_target_encoder(pd.Series(y, name="y"), REGRESSION)
    train, validation = ({"numerical": x[:64]}, y[:64]), ({"numerical": x[64:]}, y[64:])
    scores = {}
    for momentum in (None, 0.9):
        keras.utils.set_random_seed(3)
        model = dense_model()
        history = fit_model(
            model, target, train, validation, PARAMS | {"ema_momentum": momentum}, seed=3
        )
        predicted = keras.ops.convert_to_numpy(model(x[64:]))[:, 0]
        kept = float(np.sqrt(np.mean((predicted - y[64:]) ** 2)))
        # The model's own validation RMSE is the best epoch's, as the history recorded it.
        assert kept == pytest.approx(min(history["val_rmse"]), rel=1e-5)
        scores[momentum] = history["val_rmse"]

    assert scores[0.9] != pytest.approx(scores[None], rel=1e-3)


def test_no_average_where_it_would_reach_back_more_than_ema_max_epochs():
    averaged = PARAMS | {"ema_momentum": 0.99, "ema_max_epochs": 2}

    # 0.99 averages about 100 steps: 8 steps an epoch (a table of a few hundred rows) would
    # reach back 12 epochs; 50 steps an epoch reach back two.
    assert ema_momentum_for(averaged, 8) is None
    assert ema_momentum_for(averaged, 50) == pytest.approx(0.99)
    assert ema_momentum_for(averaged, 256) == pytest.approx(0.99)
    assert ema_momentum_for(averaged | {"ema_max_epochs": None}, 8) == pytest.approx(0.99)
    assert ema_momentum_for(averaged | {"ema_momentum": None}, 256) is None


@pytest.mark.integration
def test_training_decides_on_the_average_from_its_own_steps_per_epoch(caplog):
    x, y = regression_rows(1)
    target = fit_target_encoder(pd.Series(y, name="y"), REGRESSION)
    averaged = PARAMS | {"epochs": 2, "ema_momentum": 0.5, "ema_max_epochs": 1}
    train, validation = ({"numerical": x[:64]}, y[:64]), ({"numerical": x[64:]}, y[64:])

    # 64 rows in batches of 16: 4 steps an epoch. Momentum 0.5 averages about 2 steps.
    short = dense_model()
    fit_model(short, target, train, validation, averaged, seed=1)
    # Momentum 0.9 would average about 10 steps, more than the epoch's 4: no average.
    long = dense_model()
    with caplog.at_level(logging.INFO, logger="multimodal_keras.model.train"):
        fit_model(long, target, train, validation, averaged | {"ema_momentum": 0.9}, seed=1)

    assert short.optimizer.use_ema
    assert short.optimizer.ema_momentum == pytest.approx(0.5)
    assert not long.optimizer.use_ema
    assert "No average of the weights" in caplog.text
    assert "epochs of 4 steps" in caplog.text
