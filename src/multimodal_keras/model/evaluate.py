"""Test-set metrics and prediction tables, computed with scikit-learn."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics

from multimodal_keras.modalities.base import ROW_ID
from multimodal_keras.targets import TargetEncoder


def classification_metrics(
    y_true: np.ndarray, probabilities: np.ndarray, n_classes: int
) -> dict[str, Any]:
    """Accuracy, balanced accuracy, ROC AUC, log loss, macro F1 and the confusion matrix.

    ``y_true`` holds class indices; ``probabilities`` one column per class.
    """
    labels = np.arange(n_classes)
    y_pred = probabilities.argmax(axis=1)
    result: dict[str, Any] = {
        "accuracy": float(metrics.accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(metrics.balanced_accuracy_score(y_true, y_pred)),
        "macro_f1": float(metrics.f1_score(y_true, y_pred, average="macro", labels=labels)),
        "log_loss": float(metrics.log_loss(y_true, probabilities, labels=labels)),
        "confusion_matrix": metrics.confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }
    present = np.unique(y_true)
    if len(present) < 2:
        result["roc_auc"] = None
    elif n_classes == 2:
        result["roc_auc"] = float(metrics.roc_auc_score(y_true, probabilities[:, 1]))
    else:
        # One-vs-rest over the classes present in the test rows, renormalised to sum to one.
        scores = probabilities[:, present]
        scores = scores / scores.sum(axis=1, keepdims=True)
        result["roc_auc"] = float(
            metrics.roc_auc_score(y_true, scores, multi_class="ovr", labels=present)
            if len(present) > 2
            else metrics.roc_auc_score(y_true == present[1], scores[:, 1])
        )
    return result


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """RMSE, MAE and R², in the target's own units."""
    return {
        "rmse": float(np.sqrt(metrics.mean_squared_error(y_true, y_pred))),
        "mae": float(metrics.mean_absolute_error(y_true, y_pred)),
        "r2": float(metrics.r2_score(y_true, y_pred)),
    }


def score(target: TargetEncoder, y_encoded: np.ndarray, outputs: np.ndarray) -> dict[str, Any]:
    """The task's metrics from encoded targets and raw model outputs."""
    if target.is_classification:
        return classification_metrics(y_encoded, target.probabilities(outputs), len(target.classes))
    return regression_metrics(target.decode(y_encoded), target.decode(outputs))


def prediction_table(
    target: TargetEncoder, row_ids: np.ndarray, outputs: np.ndarray
) -> pd.DataFrame:
    """Row id, predicted label or value, and one probability column per class."""
    table = pd.DataFrame({ROW_ID: row_ids, "prediction": target.decode(outputs)})
    if target.is_classification:
        probabilities = target.probabilities(outputs)
        for index, label in enumerate(target.classes):
            table[f"probability_{label}"] = probabilities[:, index].astype(np.float64)
    return table


def headline(values: Mapping[str, Any]) -> str:
    """Scores for a log line: ``roc_auc 0.9410, accuracy 0.8800``."""
    return ", ".join(
        f"{name} {value:.4f}" for name, value in values.items() if isinstance(value, float)
    )
