"""A tiny trained project, made once for the inference and serving tests.

The parameters are the small project's (``tests/configuration.py``: conf/base, so no
column is named here, shrunk so that fitting, training and exporting take seconds); the
nodes are the project's own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from multimodal_keras.modalities import MODALITIES  # noqa: E402
from multimodal_keras.modalities.base import configured_columns  # noqa: E402
from multimodal_keras.pipelines.data_processing.nodes import (  # noqa: E402
    encode_target,
    fit_target,
    split_rows,
    validate_table,
)
from multimodal_keras.pipelines.features.nodes import (  # noqa: E402
    transform_for,
)
from multimodal_keras.pipelines.training.nodes import build_model, train_model  # noqa: E402
from multimodal_keras.splitting import TEST, split_positions  # noqa: E402
from multimodal_keras.targets import TargetEncoder  # noqa: E402
from tests.configuration import small_parameters, small_table  # noqa: E402
from tests.fitting import fit_preprocessors

PROJECT_ROOT = Path(__file__).resolve().parents[3]
# The committed sample of new rows that `kedro run --pipelines inference` scores by default.
SAMPLE = PROJECT_ROOT / "data" / "01_raw" / "demo_new_rows.parquet"
# Cell values the tiny project reads as missing: the table's list, and a text column's own.
MARKERS = ["?", "-999"]
TEXT_MARKERS = ["n/a"]


def tiny_parameters() -> dict[str, Any]:
    """The small project's parameters, trained for one epoch, with the missing-value markers
    ``MARKERS`` (``TEXT_MARKERS`` for the first text column) and the numbers smoothly
    clipped (so the serving parity covers ``SmoothClip`` too)."""
    params = small_parameters({"training": {"epochs": 1, "verbose": 0}})
    params["table"]["missing_values"] = list(MARKERS)
    first_text = configured_columns(params["text"])[0]
    params["table"]["missing_values_per_column"] = {first_text: list(TEXT_MARKERS)}
    # Tables and rows to score are read, encoded and predicted a few rows at a time.
    params["processing"]["chunk_rows"] = 7
    params["model"]["towers"]["numerical"]["smooth_clip"] = 3.0
    # The neighbours read the categories and a text column again: one serving input each.
    params["neighbours"]["columns"] = [*configured_columns(params["categorical"]), first_text]
    return params


def feature_columns(params: dict[str, Any]) -> dict[str, list[str]]:
    """The configured columns of each modality."""
    return {name: configured_columns(params.get(name)) for name in MODALITIES}


@dataclass
class TrainedProject:
    """What the default run leaves on disk, in memory: enough to score and to export."""

    params: dict[str, Any]
    raw_table: pd.DataFrame
    primary_table: pd.DataFrame
    test_positions: np.ndarray
    features: dict[str, Any]
    preprocessors: dict[str, Any]
    target_encoder: TargetEncoder
    trained_model: keras.Model
    missing_value_markers: dict[str, list[str]]

    def modality_params(self) -> dict[str, Any]:
        return {name: self.params[name] for name in MODALITIES}

    def test_rows(self) -> pd.DataFrame:
        """The raw test rows, without the target, as new rows to score would come."""
        rows = self.raw_table.iloc[self.primary_table["row_id"].to_numpy()[self.test_positions]]
        return rows.drop(columns=[self.params["table"]["target"]]).reset_index(drop=True)


def train_tiny_project() -> TrainedProject:
    """A 160-row table put through the training run's nodes, trained for one epoch."""
    params = tiny_parameters()
    modality_params = {name: params[name] for name in MODALITIES}
    raw = small_table(params, rows=160, seed=3)
    primary, markers = validate_table(raw, params["table"], params["split"], **modality_params)
    primary = primary.to_pandas()
    split = split_rows(primary, params["table"], params["split"], params["seed"])
    target_encoder = fit_target(primary, split, params["table"])
    preprocessors = fit_preprocessors(primary, split, params, target_encoder)
    features = {
        name: np.asarray(transform_for(name)(preprocessors[name], primary, params["processing"]))
        for name in MODALITIES
    }
    model = build_model(target_encoder, split, params["model"], params["seed"], **preprocessors)
    trained, _, _ = train_model(
        model,
        target_encoder,
        encode_target(target_encoder, primary),
        split,
        params["training"],
        params["seed"],
        **features,
    )
    return TrainedProject(
        params,
        raw,
        primary,
        split_positions(split, TEST),
        features,
        preprocessors,
        target_encoder,
        trained,
        markers,
    )


@pytest.fixture(scope="session")
def trained_project() -> TrainedProject:
    """The tiny trained project, shared by the inference and serving tests."""
    return train_tiny_project()


def score_with_pipeline(project: TrainedProject, new_rows: pd.DataFrame) -> pd.DataFrame:
    """``predictions`` of the registered inference pipeline, run by Kedro on in-memory data."""
    from kedro.io import DataCatalog, MemoryDataset
    from kedro.runner import SequentialRunner

    from multimodal_keras.pipeline_registry import register_pipelines

    pipeline = register_pipelines()["inference"]
    data = {
        "inference_table": new_rows,
        "trained_model": project.trained_model,
        "target_encoder": project.target_encoder,
        "missing_value_markers": project.missing_value_markers,
        **{f"{name}.preprocessor": value for name, value in project.preprocessors.items()},
        **{f"params:{name}": project.params[name] for name in ("table", "inference", "processing")},
        **{f"params:{name}": project.params[name] for name in MODALITIES},
    }
    catalog = DataCatalog(
        {name: MemoryDataset(value, copy_mode="assign") for name, value in data.items()}
    )
    outputs = SequentialRunner().run(pipeline, catalog)
    return outputs["predictions"].load()


def with_unseen_and_missing(project: TrainedProject, rows: pd.DataFrame) -> pd.DataFrame:
    """The rows with every kind of value training never saw, alternating over the rows.

    Categorical cells: a new category, missing, or ""; numerical cells: missing; text
    cells: missing or ""; the columns in reverse order, and one extra column.
    """
    rows = rows.copy()
    columns = feature_columns(project.params)
    every_other = np.arange(len(rows)) % 2 == 0
    for position, column in enumerate(columns["categorical"]):
        choice = np.arange(len(rows)) % 3
        rows[column] = rows[column].astype("object")
        rows.loc[choice == 0, column] = f"unseen_{position}"
        rows.loc[choice == 1, column] = None
        rows.loc[(choice == 2) & every_other, column] = ""
    for position, column in enumerate(columns["numerical"]):
        rows.loc[(np.arange(len(rows)) + position) % 2 == 0, column] = np.nan
    for column in columns["text"]:
        rows[column] = rows[column].astype("object")
        rows.loc[every_other, column] = None
        rows.loc[~every_other & (np.arange(len(rows)) % 4 == 1), column] = ""
    rows["not_a_feature"] = "ignored"
    return rows[rows.columns[::-1]]


def with_markers(project: TrainedProject, rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows with missing-value markers in every other row, and the same rows with those
    cells empty instead.

    Categorical cells: ``MARKERS[0]``, with spaces around it in every fourth row; numerical
    cells: ``MARKERS[1]`` as a number; the first text column: its own ``TEXT_MARKERS[0]``.
    """
    marked, emptied = rows.copy(), rows.copy()
    columns = feature_columns(project.params)
    positions = np.arange(len(rows))
    chosen = positions % 2 == 0
    for column in columns["categorical"]:
        values = np.where(positions % 4 == 0, f"  {MARKERS[0]} ", MARKERS[0])
        marked[column] = marked[column].astype("object").where(~chosen, values)
        emptied[column] = emptied[column].astype("object").where(~chosen, None)
    for column in columns["numerical"]:
        marked[column] = marked[column].where(~chosen, float(MARKERS[1]))
        emptied[column] = emptied[column].where(~chosen, np.nan)
    text = columns["text"][0]
    marked[text] = marked[text].astype("object").where(~chosen, TEXT_MARKERS[0])
    emptied[text] = emptied[text].astype("object").where(~chosen, None)
    return marked, emptied
