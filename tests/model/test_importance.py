"""Modality importance: the drop of a test metric when one modality's rows are permuted."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.metrics import log_loss, roc_auc_score

from multimodal_keras.modalities import MODALITIES
from multimodal_keras.model.evaluate import score
from multimodal_keras.model.importance import metric_drop, permutation_importance, with_permuted
from multimodal_keras.model.inputs import model_inputs
from multimodal_keras.model.train import input_names
from multimodal_keras.pipelines.data_processing.nodes import (
    encode_target,
    fit_target,
    split_rows,
    validate_table,
)
from multimodal_keras.pipelines.evaluation.nodes import measure_modality_importance
from multimodal_keras.pipelines.features.nodes import transform_for
from multimodal_keras.pipelines.training.nodes import build_model, train_model
from multimodal_keras.splitting import TEST, split_positions
from multimodal_keras.synthetic import make_table
from tests.configuration import load_conf
from tests.fitting import fit_preprocessors


def sigmoid(values: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-values))


@pytest.fixture
def signal_and_ignored() -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Two inputs; the target depends on ``signal`` only."""
    rng = np.random.default_rng(0)
    inputs = {"signal": rng.normal(size=(300, 2)), "ignored": rng.normal(size=(300, 3))}
    y = (inputs["signal"][:, 0] + 0.3 * rng.normal(size=300) > 0).astype(int)
    return inputs, y


def uses_signal_only(inputs: dict[str, np.ndarray]) -> np.ndarray:
    return sigmoid(3.0 * inputs["signal"][:, 0])


def test_permuting_an_input_reorders_its_rows_and_leaves_the_others_alone():
    inputs = {"a": np.arange(4), "b": np.arange(4) * 10}
    permuted = with_permuted(inputs, "a", np.array([3, 2, 1, 0]))
    assert permuted["a"].tolist() == [3, 2, 1, 0]
    assert permuted["b"] is inputs["b"]


def test_an_input_the_model_ignores_has_no_importance_and_the_one_it_uses_has(
    signal_and_ignored,
):
    inputs, y = signal_and_ignored
    result = permutation_importance(
        uses_signal_only,
        lambda outputs: roc_auc_score(y, outputs),
        inputs,
        "roc_auc",
        repeats=4,
        rng=np.random.default_rng(1),
    )
    assert result["intact"] > 0.9
    assert result["modalities"]["ignored"]["drops"] == [0.0] * 4
    assert result["modalities"]["signal"]["mean_drop"] > 0.3
    assert result["modalities"]["signal"]["std_drop"] > 0.0
    assert len(result["modalities"]["signal"]["drops"]) == 4


def test_the_same_seed_draws_the_same_permutations(signal_and_ignored):
    inputs, y = signal_and_ignored

    def run(seed: int) -> dict[str, Any]:
        return permutation_importance(
            uses_signal_only,
            lambda outputs: roc_auc_score(y, outputs),
            inputs,
            "roc_auc",
            repeats=3,
            rng=np.random.default_rng(seed),
        )

    assert run(5) == run(5)
    assert run(5) != run(6)


def test_a_drop_is_positive_when_the_metric_gets_worse_whichever_way_is_better(
    signal_and_ignored,
):
    assert metric_drop("roc_auc", 0.9, 0.7) == pytest.approx(0.2)
    assert metric_drop("log_loss", 0.3, 0.5) == pytest.approx(0.2)
    inputs, y = signal_and_ignored
    result = permutation_importance(
        uses_signal_only,
        lambda outputs: log_loss(y, outputs),
        inputs,
        "log_loss",
        repeats=2,
        rng=np.random.default_rng(0),
    )
    assert result["modalities"]["signal"]["mean_drop"] > 0.3


def test_fewer_than_one_repeat_is_refused(signal_and_ignored):
    inputs, y = signal_and_ignored
    with pytest.raises(ValueError, match="repeats"):
        permutation_importance(
            uses_signal_only, lambda o: 0.0, inputs, "roc_auc", 0, np.random.default_rng(0)
        )


@pytest.mark.integration
def test_a_planted_modality_of_pure_noise_has_importance_near_zero():
    """The target depends on the categorical columns; the numerical ones are random numbers."""
    params = load_conf("parameters")
    rows, target = 900, params["table"]["target"]
    noise_columns = ["noise_a", "noise_b"]
    table = make_table(
        {"categorical": params["categorical"]["columns"]}, target, rows, params["demo"], seed=11
    )
    rng = np.random.default_rng(12)
    for column in noise_columns:
        table[column] = rng.normal(size=rows)
    modality_params = {name: {**params[name], "columns": []} for name in MODALITIES}
    modality_params["categorical"]["columns"] = params["categorical"]["columns"]
    modality_params["numerical"]["columns"] = noise_columns
    towers = {
        "categorical": {"units": [8], "dropout": 0.0},
        "numerical": {"units": [8], "dropout": 0.0},
    }
    params["model"]["towers"].update(towers)
    params["model"]["fusion"] = {"units": [8], "dropout": 0.0}
    training = {**params["training"], "epochs": 30, "batch_size": 32, "verbose": 0}
    seed = params["seed"]

    primary, _ = validate_table(table, params["table"], params["split"], **modality_params)
    splits = split_rows(primary, params["table"], params["split"], seed)
    encoder = fit_target(primary, splits, params["table"])
    encoded_target = encode_target(encoder, primary)
    preprocessors = fit_preprocessors(primary, splits, params | modality_params, encoder)
    features = {
        name: np.asarray(transform_for(name)(preprocessors[name], primary, params["processing"]))
        for name in MODALITIES
    }
    model = build_model(encoder, splits, params["model"], seed, **preprocessors)
    model, _, _ = train_model(model, encoder, encoded_target, splits, training, seed, **features)
    importance, chart = measure_modality_importance(
        model,
        encoder,
        encoded_target,
        splits,
        {**params["modality_importance"], "repeats": 5},
        seed,
        **features,
    )

    assert set(importance["modalities"]) == {"categorical", "numerical"}
    assert importance["intact"] > 0.75
    noise = importance["modalities"]["numerical"]
    signal = importance["modalities"]["categorical"]
    assert abs(noise["mean_drop"]) < 0.02
    assert signal["mean_drop"] > 0.15
    assert signal["mean_drop"] > 10 * max(abs(noise["mean_drop"]), noise["std_drop"])
    assert chart.axes[0].get_ylabel() == "drop in test roc_auc"


def importance_in_memory(model, encoder, encoded_target, splits, importance, seed, features):
    """Modality importance as the node measured it before it streamed its inputs: every test
    row's inputs copied into memory, the model's ``predict`` on arrays."""
    rows = split_positions(splits, TEST)
    inputs = model_inputs(input_names(model), features, rows)
    y_test = encoded_target["target"].to_numpy()[rows]
    metric = importance["metric"][encoder.task][0]
    return permutation_importance(
        lambda batch: model.predict(batch, batch_size=importance["batch_size"], verbose=0),
        lambda outputs: score(encoder, y_test, outputs)[metric],
        inputs,
        metric,
        importance["repeats"],
        np.random.default_rng(seed),
    )


@pytest.mark.integration
def test_streamed_importance_equals_importance_on_inputs_held_in_memory(
    make_tiny_table, shared_small_parameters
):
    params, seed = shared_small_parameters, 3
    modality_params = {name: params[name] for name in MODALITIES}
    table = make_tiny_table(rows=160, seed=6)
    primary, _ = validate_table(table, params["table"], params["split"], **modality_params)
    splits = split_rows(primary, params["table"], params["split"], seed)
    encoder = fit_target(primary, splits, params["table"])
    encoded_target = encode_target(encoder, primary)
    preprocessors = fit_preprocessors(primary, splits, params | {"seed": seed}, encoder)
    features = {
        name: np.asarray(transform_for(name)(preprocessors[name], primary, params["processing"]))
        for name in MODALITIES
    }
    model = build_model(encoder, splits, params["model"], seed, **preprocessors)
    model, _, _ = train_model(
        model, encoder, encoded_target, splits, params["training"], seed, **features
    )
    # Batches smaller than the test rows, so that both read several.
    importance = {**params["modality_importance"], "batch_size": 8, "repeats": 3}

    streamed, _ = measure_modality_importance(
        model, encoder, encoded_target, splits, importance, seed, **features
    )

    expected = importance_in_memory(
        model, encoder, encoded_target, splits, importance, seed, features
    )
    assert {key: streamed[key] for key in expected} == expected
