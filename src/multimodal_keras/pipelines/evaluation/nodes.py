"""Nodes that score the trained model on the test rows only."""

from __future__ import annotations

import logging
from typing import Any

import keras
import pandas as pd
from matplotlib.figure import Figure

from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.model import figures
from multimodal_keras.model.evaluate import prediction_table, score
from multimodal_keras.model.inputs import check_aligned, model_inputs
from multimodal_keras.model.train import input_names
from multimodal_keras.splitting import TEST, split_positions
from multimodal_keras.targets import TargetEncoder

logger = logging.getLogger(__name__)


def evaluate_model(
    trained_model: keras.Model,
    target_encoder: TargetEncoder,
    encoded_target: pd.DataFrame,
    split_assignments: pd.DataFrame,
    evaluation: dict[str, Any],
    **features: Any,
) -> tuple[dict[str, Any], pd.DataFrame, dict[str, Figure]]:
    """Score the trained model on the test rows.

    Args:
        trained_model: The model from ``train_model``.
        target_encoder: The fitted target encoding.
        encoded_target: Every row's encoded target.
        split_assignments: Which rows are test rows.
        evaluation: ``params:evaluation``: the prediction batch size.
        **features: ``<modality>.features`` for each modality.

    Returns:
        The metrics, the test predictions (row id, prediction, probabilities), and the figures.
    """
    check_aligned(features | {"target": encoded_target}, split_assignments["row_id"])
    rows = split_positions(split_assignments, TEST)
    inputs = model_inputs(input_names(trained_model), features, rows)
    outputs = trained_model.predict(inputs, batch_size=int(evaluation["batch_size"]), verbose=0)
    y_test = encoded_target["target"].to_numpy()[rows]
    metrics = {
        "task": target_encoder.task,
        "test_rows": len(rows),
        "model": score(target_encoder, y_test, outputs),
    }
    predictions = prediction_table(
        target_encoder, split_assignments["row_id"].to_numpy()[rows], outputs
    )
    predictions.insert(1, "actual", target_encoder.decode_targets(y_test))
    if target_encoder.is_classification:
        plots = {
            "confusion_matrix.png": figures.confusion_matrix(
                metrics["model"]["confusion_matrix"], target_encoder.classes
            ),
            "roc_curve.png": figures.roc_curves(
                y_test, target_encoder.probabilities(outputs), target_encoder.classes
            ),
        }
    else:
        plots = {
            "predicted_against_actual.png": figures.predicted_against_actual(
                predictions["actual"].to_numpy(float), predictions["prediction"].to_numpy(float)
            )
        }
    logger.info("Test metrics on %d rows: %s.", len(rows), _headline(metrics["model"]))
    return metrics, predictions, plots


def collect_metrics(
    model_metrics: dict[str, Any], baseline_metrics: dict[str, Any]
) -> dict[str, Any]:
    """The Keras model's test metrics beside the classical baseline's, in one report.

    Args:
        model_metrics: From ``evaluate_model``: the task, the test rows and ``model``.
        baseline_metrics: From ``evaluate_baseline``: the same, with ``baseline``.

    Returns:
        ``{"task", "test_rows", "model", "baseline", "baseline_estimator"}``.
    """
    if baseline_metrics["test_rows"] != model_metrics["test_rows"]:
        raise MultimodalKerasError(
            f"The baseline metrics come from {baseline_metrics['test_rows']} test rows and the "
            f"model's from {model_metrics['test_rows']}, so one of them is out of date; rerun "
            "both, e.g. `kedro run --pipelines baseline,evaluation`."
        )
    metrics = {
        **model_metrics,
        "baseline": baseline_metrics["baseline"],
        "baseline_estimator": baseline_metrics["estimator"],
    }
    logger.info(
        "Test metrics of the model: %s; of the %s baseline: %s.",
        _headline(metrics["model"]),
        metrics["baseline_estimator"]["estimator"],
        _headline(metrics["baseline"]),
    )
    return metrics


def _headline(values: dict[str, Any]) -> str:
    return ", ".join(
        f"{name} {value:.4f}" for name, value in values.items() if isinstance(value, float)
    )
