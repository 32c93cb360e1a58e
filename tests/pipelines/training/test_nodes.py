"""Building and training the model from the artifacts of the features pipeline."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner, ThreadRunner

from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.modalities import MODALITIES
from multimodal_keras.pipelines.data_processing.nodes import (
    encode_target,
    fit_target,
    split_rows,
)
from multimodal_keras.pipelines.features.nodes import transform_for
from multimodal_keras.pipelines.training import create_pipeline
from multimodal_keras.pipelines.training.nodes import build_model, train_model
from tests.fitting import fit_preprocessors
from tests.test_pipeline_registry import KeptMemoryDataset


@pytest.fixture
def artifacts(tiny_primary_table: pd.DataFrame, small_parameters) -> dict[str, Any]:
    """What the data processing and features pipelines hand to training, for 60 rows."""
    params = small_parameters
    assignments = split_rows(tiny_primary_table, params["table"], params["split"], seed=0)
    target_encoder = fit_target(tiny_primary_table, assignments, params["table"])
    preprocessors = fit_preprocessors(tiny_primary_table, assignments, params, target_encoder)
    return {
        "params": params,
        "split_assignments": assignments,
        "target_encoder": target_encoder,
        "encoded_target": encode_target(target_encoder, tiny_primary_table),
        "preprocessors": preprocessors,
        "features": {
            name: np.asarray(
                transform_for(name)(preprocessor, tiny_primary_table, params["processing"])
            )
            for name, preprocessor in preprocessors.items()
        },
    }


def build(artifacts: dict[str, Any], seed: int = 0):
    return build_model(
        artifacts["target_encoder"],
        artifacts["split_assignments"],
        artifacts["params"]["model"],
        seed,
        **artifacts["preprocessors"],
    )


def train(artifacts: dict[str, Any], features: dict[str, Any] | None = None):
    return train_model(
        build(artifacts),
        artifacts["target_encoder"],
        artifacts["encoded_target"],
        artifacts["split_assignments"],
        artifacts["params"]["training"],
        0,
        **(features or artifacts["features"]),
    )


def test_same_seed_builds_identical_initial_weights(artifacts):
    first, second = build(artifacts, seed=3), build(artifacts, seed=3)

    for left, right in zip(first.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_array_equal(left, right)
    assert not all(
        np.array_equal(left, right)
        for left, right in zip(first.get_weights(), build(artifacts, 4).get_weights(), strict=True)
    )


@pytest.mark.integration
def test_same_seed_trains_to_the_same_history(artifacts, tiny_primary_table):
    # Tabular towers only: determinism is the seed's doing, and these train fastest.
    for name in ("text", "image"):
        options = {**artifacts["params"][name], "columns": []}
        artifacts["preprocessors"][name] = MODALITIES[name].fit(tiny_primary_table, options)

    _, first, _ = train(artifacts)
    _, second, _ = train(artifacts)

    assert first == second
    assert len(first["loss"]) == artifacts["params"]["training"]["epochs"]


def test_training_refuses_features_out_of_step_with_split_assignments(artifacts):
    stale = dict(artifacts["features"])
    # An array of features holds no row ids: a table changed since shows in its row count.
    stale["numerical"] = stale["numerical"][:-1]

    with pytest.raises(MultimodalKerasError, match="numerical"):
        train(artifacts, stale)


def test_a_split_made_again_after_the_fit_stops_building_and_training(
    artifacts, tiny_primary_table
):
    params = artifacts["params"]
    # `kedro run --nodes split_rows --params seed=1`: the preprocessors and the target
    # encoder were fitted on seed 0's training rows, some of which are now test rows.
    resplit = split_rows(tiny_primary_table, params["table"], params["split"], seed=1)
    assert not resplit["split"].equals(artifacts["split_assignments"]["split"])
    model = build(artifacts)

    with pytest.raises(
        MultimodalKerasError, match="`target_encoder` were fitted on other"
    ) as built:
        build_model(
            artifacts["target_encoder"], resplit, params["model"], 0, **artifacts["preprocessors"]
        )
    with pytest.raises(MultimodalKerasError, match="`target_encoder` was fitted on other"):
        train_model(
            model,
            artifacts["target_encoder"],
            artifacts["encoded_target"],
            resplit,
            params["training"],
            0,
            **artifacts["features"],
        )

    for name in MODALITIES:
        assert f"`{name}.preprocessor`" in str(built.value)


def training_catalog(artifacts: dict[str, Any]) -> DataCatalog:
    params = artifacts["params"]
    catalog = DataCatalog(
        {
            "target_encoder": MemoryDataset(artifacts["target_encoder"]),
            "encoded_target": MemoryDataset(artifacts["encoded_target"]),
            "split_assignments": MemoryDataset(artifacts["split_assignments"]),
            **{f"params:{key}": MemoryDataset(params[key]) for key in ("model", "training")},
            "params:seed": MemoryDataset(0),
            "untrained_model": KeptMemoryDataset(copy_mode="assign"),
            "trained_model": KeptMemoryDataset(copy_mode="assign"),
            "training_history": KeptMemoryDataset(),
            "learning_curves": KeptMemoryDataset(copy_mode="assign"),
        }
    )
    for name in MODALITIES:
        catalog[f"{name}.preprocessor"] = MemoryDataset(artifacts["preprocessors"][name])
        catalog[f"{name}.features"] = MemoryDataset(artifacts["features"][name], copy_mode="assign")
    return catalog


@pytest.mark.integration
@pytest.mark.parametrize("runner", [SequentialRunner, ThreadRunner])
@pytest.mark.parametrize("strategy", ["default", "mirrored"])
def test_the_training_pipeline_runs_with_the_sequential_and_thread_runners(
    artifacts, runner, strategy
):
    # `mirrored` on one device here: logical CPUs need a fresh process (tests/integration).
    artifacts["params"]["training"]["distribution"] = {"strategy": strategy}
    catalog = training_catalog(artifacts)

    runner().run(create_pipeline(), catalog)

    history = catalog.load("training_history")
    assert set(history) == {
        "loss",
        "accuracy",
        "auc",
        "val_loss",
        "val_accuracy",
        "val_auc",
        "learning_rate",
    }
    assert len(history["loss"]) == artifacts["params"]["training"]["epochs"]
    trained = catalog.load("trained_model")  # free of the strategy it was trained under
    assert not any(isinstance(v.value, tf.distribute.DistributedValues) for v in trained.variables)


@pytest.mark.parametrize(
    ("val_loss", "warning_epochs", "warns"),
    [
        ([0.5, 0.6, 0.7, 0.8], 2, True),  # best at epoch 1 of 4
        ([0.6, 0.5, 0.7, 0.8], 2, True),  # best at epoch 2
        ([0.7, 0.6, 0.5, 0.8], 2, False),  # best at epoch 3
        ([0.5, 0.6, 0.7, 0.8], 0, False),  # the warning is off
        ([0.5], 2, False),  # one epoch trained: nothing came after it
    ],
)
def test_an_early_best_epoch_of_a_longer_training_is_reported(
    artifacts, monkeypatch, caplog, val_loss, warning_epochs, warns
):
    history = {"loss": [0.5] * len(val_loss), "val_loss": val_loss}
    monkeypatch.setattr(
        "multimodal_keras.pipelines.training.nodes.fit_model", lambda *args, **kwargs: history
    )
    artifacts["params"]["training"].update(
        monitor="val_loss", early_best_epoch_warning=warning_epochs
    )

    with caplog.at_level("WARNING", logger="multimodal_keras.pipelines.training.nodes"):
        train(artifacts)

    reported = [r.getMessage() for r in caplog.records if "best validation epoch" in r.getMessage()]
    assert bool(reported) == warns
    if warns:
        best = val_loss.index(min(val_loss)) + 1
        assert f"was {best} of {len(val_loss)} (val_loss)" in reported[0]
        assert "table_learning_rate_factor" in reported[0]


def test_the_closing_line_names_the_epoch_kept_by_the_monitored_metric(
    artifacts, monkeypatch, caplog
):
    # The lowest validation loss is at epoch 1, the best ROC AUC at epoch 3: early stopping
    # on val_auc keeps epoch 3, and the line says so rather than quoting epoch 1's loss.
    history = {
        "loss": [0.6, 0.5, 0.4, 0.3],
        "val_loss": [0.40, 0.45, 0.50, 0.55],
        "val_auc": [0.80, 0.85, 0.91, 0.88],
    }
    monkeypatch.setattr(
        "multimodal_keras.pipelines.training.nodes.fit_model", lambda *args, **kwargs: history
    )
    artifacts["params"]["training"].update(monitor="val_auc", early_best_epoch_warning=0)

    with caplog.at_level("INFO", logger="multimodal_keras.pipelines.training.nodes"):
        train(artifacts)

    closing = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Trained for")]
    assert len(closing) == 1
    assert "kept epoch 3, the best by val_auc (0.9100)" in closing[0]
