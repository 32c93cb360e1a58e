"""The default pipeline, run end to end by Kedro's SequentialRunner on a tiny in-memory table."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from matplotlib.figure import Figure

from multimodal_keras.modalities import MODALITIES
from multimodal_keras.pipeline_registry import register_pipelines
from multimodal_keras.splitting import TEST
from multimodal_keras.tables import as_frame
from tests.configuration import with_neighbours

CLASSIFICATION_METRICS = {
    "accuracy",
    "balanced_accuracy",
    "macro_f1",
    "log_loss",
    "confusion_matrix",
    "roc_auc",
}
MODELS = {"untrained_model", "trained_model", "serving_model"}


class KeptMemoryDataset(MemoryDataset):
    """A MemoryDataset the runner cannot empty, so that tests can read every artifact."""

    def _release(self) -> None:
        pass


class NothingSaved(MemoryDataset):
    """An optional input no run has written: it loads None, as OptionalParquetDataset does."""

    def load(self) -> None:
        return None


# The default pipeline's inputs that a run reads only when another pipeline wrote them,
# or a hook of the project's session (the model's lineage): these runs have no hooks.
OPTIONAL_INPUTS = {"tuning_trials", "model_lineage"}


def in_memory_catalog(pipeline, raw_table: pd.DataFrame, params: dict[str, Any]) -> DataCatalog:
    catalog = DataCatalog()
    for name in pipeline.datasets():
        if name in OPTIONAL_INPUTS:
            catalog[name] = NothingSaved()
        elif name.startswith("params:"):
            catalog[name] = MemoryDataset(params[name.removeprefix("params:")])
        elif name == "parameters":
            catalog[name] = MemoryDataset(params)
        else:
            # Models are passed on as they are, the way a deep copy could not.
            catalog[name] = KeptMemoryDataset(copy_mode="assign" if name in MODELS else None)
    catalog.save("raw_table", raw_table)
    return catalog


def test_default_pipeline_trains_evaluates_exports_and_reports_but_neither_scores_nor_tunes():
    pipelines = register_pipelines()

    parts = [
        "data_processing",
        "features",
        "training",
        "baseline",
        "evaluation",
        "serving",
        "reporting",
    ]

    assert set(pipelines["__default__"].nodes) == {
        node for name in parts for node in pipelines[name].nodes
    }
    assert pipelines["__default__"].inputs() == {"raw_table", "parameters", *OPTIONAL_INPUTS} | {
        f"params:{name}"
        for name in (
            "table",
            "split",
            "processing",
            "seed",
            "model",
            "training",
            "evaluation",
            "baseline",
            "processing",
            "modality_importance",
            "reporting",
            *MODALITIES,
        )
    }
    assert not set(pipelines["__default__"].nodes) & set(pipelines["inference"].nodes)
    assert not set(pipelines["__default__"].nodes) & set(pipelines["tuning"].nodes)


@pytest.fixture(scope="module")
def default_run(make_tiny_table, shared_small_parameters) -> DataCatalog:
    """The default pipeline run once on 120 rows, a few targets missing, for 2 epochs."""
    raw = make_tiny_table(rows=120, seed=2)
    raw["sold"] = raw["sold"].astype("Int64")
    raw.loc[[5, 50, 99], "sold"] = pd.NA
    pipeline = register_pipelines()["__default__"]
    catalog = in_memory_catalog(pipeline, raw, with_neighbours(shared_small_parameters))

    SequentialRunner().run(pipeline, catalog)

    return catalog


@pytest.mark.integration
def test_primary_table_holds_the_rows_with_a_target_and_split_assignments_follow_it(
    default_run,
):
    primary = as_frame(default_run.load("primary_table"))
    assignments = default_run.load("split_assignments")

    assert len(primary) == 117
    assert not {5, 50, 99} & set(primary["row_id"])
    assert assignments["row_id"].tolist() == primary["row_id"].tolist()
    assert set(assignments["split"]) == {"train", "val", "test"}


@pytest.mark.integration
def test_the_encoded_target_holds_the_primary_tables_rows_in_its_order(default_run):
    primary = as_frame(default_run.load("primary_table"))

    frame = default_run.load("encoded_target")

    assert frame["row_id"].tolist() == primary["row_id"].tolist()


@pytest.mark.integration
@pytest.mark.parametrize("modality", ["categorical", "numerical"])
def test_tabular_features_are_the_primary_tables_model_inputs_in_its_order(default_run, modality):
    primary = as_frame(default_run.load("primary_table"))
    preprocessor = default_run.load(f"{modality}.preprocessor")
    module = MODALITIES[modality]

    encoded = np.asarray(default_run.load(f"{modality}.features"))

    expected = module.model_input(module.transform(preprocessor, primary))
    assert encoded.dtype == expected.dtype
    np.testing.assert_array_equal(encoded, expected)


@pytest.mark.integration
def test_array_artifacts_have_one_entry_per_primary_row(default_run, shared_small_parameters):
    rows = len(as_frame(default_run.load("primary_table")))
    image = shared_small_parameters["image"]

    token_ids = default_run.load("text.features")
    pixels = default_run.load("image.features")
    scores = default_run.load("text.preprocessor").scores

    # The text column, then the folds' row of the linear scores (on by default).
    assert scores is not None
    assert token_ids.shape == (rows, 2, shared_small_parameters["text"]["sequence_length"])
    assert token_ids.dtype == np.int32
    assert pixels.shape == (rows, 1, image["height"], image["width"], image["channels"])
    assert pixels.dtype == np.uint8


@pytest.mark.integration
def test_categorical_features_encode_each_rows_own_category(default_run):
    primary = as_frame(default_run.load("primary_table"))
    names = default_run.load("categorical.preprocessor").output_names
    encoded = default_run.load("categorical.features")

    checked = 0
    for category, values in zip(primary["category"], encoded, strict=True):
        row = dict(zip(names, values, strict=True))
        column = f"category_{category}"
        if column in row:
            assert row[column] == 1.0
            checked += 1
    assert checked > len(primary) // 2


@pytest.mark.integration
@pytest.mark.parametrize("modality", ["text", "image"])
def test_array_features_are_each_rows_own_values(default_run, modality):
    primary = as_frame(default_run.load("primary_table"))
    preprocessor = default_run.load(f"{modality}.preprocessor")
    encoded = default_run.load(f"{modality}.features")

    module = MODALITIES[modality]
    for position in (0, 1, len(primary) // 2, len(primary) - 1):
        row = primary.iloc[[position]]
        alone = module.transform(preprocessor, row)
        if hasattr(module, "out_of_fold"):  # a training row's fold, as the pipeline writes it
            alone = module.out_of_fold(preprocessor, row, alone)
        np.testing.assert_array_equal(encoded[position], alone[0])


@pytest.mark.integration
def test_trained_model_takes_every_modality_and_history_has_both_epochs(default_run):
    model = default_run.load("trained_model")
    history = default_run.load("training_history")

    assert isinstance(model, keras.Model)
    assert sorted(tensor.name for tensor in model.inputs) == sorted(MODALITIES)
    assert len(history["loss"]) == 2
    assert len(history["val_loss"]) == 2
    assert isinstance(default_run.load("learning_curves"), Figure)


@pytest.mark.integration
def test_metrics_have_the_classification_keys_for_the_test_rows(default_run):
    metrics = default_run.load("metrics")
    assignments = default_run.load("split_assignments")

    assert metrics["task"] == "binary"
    assert metrics["test_rows"] == int((assignments["split"] == TEST).sum())
    assert set(metrics["model"]) == CLASSIFICATION_METRICS
    assert 0.0 <= metrics["model"]["roc_auc"] <= 1.0
    assert np.asarray(metrics["model"]["confusion_matrix"]).sum() == metrics["test_rows"]


@pytest.mark.integration
def test_test_predictions_are_the_test_rows_in_primary_table_order(default_run):
    assignments = default_run.load("split_assignments")
    predictions = default_run.load("test_predictions")

    expected = assignments.loc[assignments["split"] == TEST, "row_id"].tolist()
    assert predictions["row_id"].tolist() == expected
    assert list(predictions.columns) == [
        "row_id",
        "actual",
        "prediction",
        "probability_0",
        "probability_1",
    ]
    primary = as_frame(default_run.load("primary_table")).set_index("row_id")
    assert predictions["actual"].tolist() == primary.loc[expected, "sold"].tolist()


@pytest.mark.integration
def test_evaluation_figures_are_the_confusion_matrix_and_roc_curve(default_run):
    figures = default_run.load("evaluation_figures")

    assert set(figures) == {"confusion_matrix.png", "roc_curve.png"}
    assert all(isinstance(figure, Figure) for figure in figures.values())
