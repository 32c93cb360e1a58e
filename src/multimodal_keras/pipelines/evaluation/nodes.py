"""Nodes that score the trained model on the test rows only."""

from __future__ import annotations

import logging
from typing import Any

import keras
import pandas as pd
from matplotlib.figure import Figure

from multimodal_keras.model import figures
from multimodal_keras.model.evaluate import prediction_table, score
from multimodal_keras.model.inputs import check_aligned, row_batches
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
    y = encoded_target["target"].to_numpy()
    test = row_batches(input_names(trained_model), features, y, rows)
    outputs = trained_model.predict(test.dataset(int(evaluation["batch_size"])), verbose=0)
    y_test = test.row_targets
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


def _headline(values: dict[str, Any]) -> str:
    return ", ".join(
        f"{name} {value:.4f}" for name, value in values.items() if isinstance(value, float)
    )
