"""The exported SavedModel, loaded where only TensorFlow and numpy are, predicts as the pipeline.

The raw values are sent as a client would send them: strings for categorical and text
columns ("" when missing), float64 for numerical columns (NaN when missing), and the
images' encoded bytes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from multimodal_keras.datasets import ServingModelDataset
from multimodal_keras.model.serving import build_serving_model
from tests.pipelines.inference.conftest import (
    SAMPLE,
    TrainedProject,
    feature_columns,
    score_with_pipeline,
    with_markers,
    with_unseen_and_missing,
)
from tests.scratch_project import subprocess_environment

pytestmark = pytest.mark.integration

CLIENT = Path(__file__).with_name("serving_client.py")
TOLERANCE = 1e-5
CASES = ["test_rows", "unseen_and_missing", "committed_sample", "missing_value_markers"]


def client_feed(rows: pd.DataFrame, columns: dict[str, list[str]]) -> dict[str, np.ndarray]:
    """The raw values a client sends for these rows, per serving input."""
    feed = {}
    for column in columns["numerical"]:
        feed[column] = rows[column].to_numpy(dtype=np.float64, na_value=np.nan)
    for column in [*columns["categorical"], *columns["text"]]:
        feed[column] = rows[column].astype("string").fillna("").to_numpy(dtype=object)
    for column in columns["image"]:
        feed[column] = np.array([bytes(cell) for cell in rows[column]], dtype=object)
    return feed


@pytest.fixture(scope="module")
def parity_cases(trained_project: TrainedProject, tmp_path_factory) -> dict[str, tuple]:
    """Per case, the pipeline's predictions and what the exported model returned in a fresh
    TensorFlow-only process: the test rows as they are, with unseen and missing values,
    the committed sample of new rows, and the test rows with missing-value markers
    (category and text strings, numeric sentinels)."""
    folder = tmp_path_factory.mktemp("serving")
    model_dir = folder / "serving"
    ServingModelDataset(filepath=str(model_dir)).save(
        build_serving_model(
            trained_project.trained_model,
            trained_project.target_encoder,
            trained_project.preprocessors,
            trained_project.missing_value_markers,
        )
    )
    test_rows = trained_project.test_rows()
    cases = {
        "test_rows": test_rows,
        "unseen_and_missing": with_unseen_and_missing(trained_project, test_rows),
        "committed_sample": pd.read_parquet(SAMPLE),
        "missing_value_markers": with_markers(trained_project, test_rows)[0],
    }
    columns = feature_columns(trained_project.params)
    arguments = []
    for name, rows in cases.items():
        np.savez(folder / f"{name}_feed.npz", **client_feed(rows, columns))
        arguments += [str(folder / f"{name}_feed.npz"), str(folder / f"{name}_served.npz")]
    subprocess.run(
        [sys.executable, "-I", str(CLIENT), str(model_dir), *arguments],
        cwd=folder,
        env=subprocess_environment(with_project=False),
        check=True,
        timeout=300,
    )
    return {
        name: (
            score_with_pipeline(trained_project, rows),
            dict(np.load(folder / f"{name}_served.npz", allow_pickle=False)),
        )
        for name, rows in cases.items()
    }


@pytest.mark.parametrize("case", CASES)
def test_served_probabilities_equal_the_pipelines_within_tolerance(parity_cases, case):
    predictions, served = parity_cases[case]
    expected = predictions.filter(like="probability_").to_numpy()
    assert served["probabilities"].shape == expected.shape
    assert np.abs(served["probabilities"] - expected).max() <= TOLERANCE


@pytest.mark.parametrize("case", CASES)
def test_served_labels_equal_the_pipelines(parity_cases, case):
    predictions, served = parity_cases[case]
    assert served["prediction"].tolist() == predictions["prediction"].astype(str).tolist()


def test_the_signature_takes_each_feature_column_raw(parity_cases, trained_project: TrainedProject):
    _, served = parity_cases["test_rows"]
    columns = feature_columns(trained_project.params)
    expected = {column: "float64" for column in columns["numerical"]} | {
        column: "string" for name in ("categorical", "text", "image") for column in columns[name]
    }
    signature = dict(zip(served["input_names"], served["input_dtypes"], strict=True))
    assert signature == expected
