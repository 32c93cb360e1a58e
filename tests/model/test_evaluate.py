"""Test-set metrics and prediction tables for each task."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from multimodal_keras.model.evaluate import prediction_table, score
from multimodal_keras.targets import BINARY, MULTICLASS, REGRESSION, fit_target_encoder

CLASSIFICATION_KEYS = {
    "accuracy",
    "balanced_accuracy",
    "macro_f1",
    "log_loss",
    "confusion_matrix",
    "roc_auc",
}


def test_binary_metrics_from_sigmoid_outputs():
    target = fit_target_encoder(pd.Series([0, 1]), BINARY)
    outputs = np.array([[0.1], [0.8], [0.4], [0.9]])

    metrics = score(target, np.array([0, 1, 1, 1]), outputs)

    assert set(metrics) == CLASSIFICATION_KEYS
    assert metrics["accuracy"] == pytest.approx(0.75)
    assert metrics["roc_auc"] == pytest.approx(1.0)
    assert metrics["confusion_matrix"] == [[1, 0], [1, 2]]


@pytest.mark.filterwarnings("ignore:F-score is ill-defined")
def test_multiclass_roc_auc_uses_only_the_classes_present_in_the_test_rows():
    target = fit_target_encoder(pd.Series(["a", "b", "c"]), MULTICLASS)
    outputs = np.array([[0.7, 0.2, 0.1], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1]])

    metrics = score(target, np.array([0, 1, 0]), outputs)

    assert metrics["roc_auc"] == pytest.approx(1.0)
    assert np.asarray(metrics["confusion_matrix"]).shape == (3, 3)


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
def test_roc_auc_is_none_when_the_test_rows_hold_one_class():
    target = fit_target_encoder(pd.Series([0, 1]), BINARY)

    metrics = score(target, np.array([1, 1]), np.array([[0.3], [0.9]]))

    assert metrics["roc_auc"] is None


def test_regression_metrics_are_in_the_targets_own_units():
    target = fit_target_encoder(pd.Series([10.0, 20.0, 30.0]), REGRESSION)
    y_encoded = target.encode(pd.Series([10.0, 30.0]))

    metrics = score(target, y_encoded, target.encode(pd.Series([12.0, 30.0])).reshape(-1, 1))

    assert set(metrics) == {"rmse", "mae", "r2"}
    assert metrics["mae"] == pytest.approx(1.0, rel=1e-5)


def test_prediction_table_has_labels_and_one_probability_column_per_class():
    target = fit_target_encoder(pd.Series(["no", "yes"]), BINARY)

    table = prediction_table(target, np.array([7, 3]), np.array([[0.2], [0.6]]))

    assert table["row_id"].tolist() == [7, 3]
    assert table["prediction"].tolist() == ["no", "yes"]
    assert table["probability_yes"].tolist() == pytest.approx([0.2, 0.6])
    assert table["probability_no"].tolist() == pytest.approx([0.8, 0.4])
