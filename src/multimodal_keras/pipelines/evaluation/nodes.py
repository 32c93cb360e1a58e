"""Nodes that score the trained model on the test rows only."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import keras
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.model import figures
from multimodal_keras.model.evaluate import headline, prediction_table, score
from multimodal_keras.model.importance import permutation_importance
from multimodal_keras.model.inputs import RowBatches, check_aligned, row_batches
from multimodal_keras.model.train import input_names
from multimodal_keras.search_space import TUNED_RECORD
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
    logger.info("Test metrics on %d rows: %s.", len(rows), headline(metrics["model"]))
    return metrics, predictions, plots


def collect_metrics(
    model_metrics: dict[str, Any],
    baseline_metrics: dict[str, Any],
    parameters: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The Keras model's test metrics beside the classical baseline's, in one report.

    Args:
        model_metrics: From ``evaluate_model``: the task, the test rows and ``model``.
        baseline_metrics: From ``evaluate_baseline``: the same, with ``baseline``.
        parameters: The run's parameters; under ``training.use_tuned`` they hold the
            version and settings of the tuned parameters the model trained with
            (``tuned_parameters``, recorded by the project's hook).

    Returns:
        ``{"task", "test_rows", "model", "baseline", "baseline_estimator"}``, and
        ``tuned_parameters`` when the model trained with tuned settings.
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
    tuned = (parameters or {}).get(TUNED_RECORD)
    if tuned:
        metrics[TUNED_RECORD] = dict(tuned)
    logger.info(
        "Test metrics of the model: %s; of the %s baseline: %s.",
        headline(metrics["model"]),
        metrics["baseline_estimator"]["estimator"],
        headline(metrics["baseline"]),
    )
    return metrics


def _first_defined(preferred: str | list[str], values: Mapping[str, Any], rows: int) -> str:
    """The first metric of the preference list that the test rows define (a finite number)."""
    names = [preferred] if isinstance(preferred, str) else list(preferred)
    for name in names:
        value = values.get(name)
        if isinstance(value, float) and np.isfinite(value):
            if name != names[0]:
                logger.warning(
                    "Test metric %r is not defined on %d test row(s); importance uses %r.",
                    names[0],
                    rows,
                    name,
                )
            return name
    raise MultimodalKerasError(
        f"None of the metrics {names} is defined on the {rows} test rows; add rows or list "
        "another metric under modality_importance.metric."
    )


def measure_modality_importance(
    trained_model: keras.Model,
    target_encoder: TargetEncoder,
    encoded_target: pd.DataFrame,
    split_assignments: pd.DataFrame,
    importance: Mapping[str, Any],
    seed: int,
    **features: Any,
) -> tuple[dict[str, Any], Figure]:
    """Measure how much the test metric drops when each modality's inputs are permuted.

    Args:
        trained_model: The model from ``train_model``.
        target_encoder: The fitted target encoding.
        encoded_target: Every row's encoded target.
        split_assignments: Which rows are test rows.
        importance: ``params:modality_importance``: repeats, batch size, the metric per task.
        seed: ``params:seed``, which seeds the permutations.
        **features: ``<modality>.features`` for each modality.

    Returns:
        The importance per modality (mean and spread of the drop) and its bar chart.
    """
    started = time.perf_counter()
    check_aligned(features | {"target": encoded_target}, split_assignments["row_id"])
    rows = split_positions(split_assignments, TEST)
    y = encoded_target["target"].to_numpy()
    # The test rows read batch by batch, as evaluate_model reads them; permuting one
    # input's rows reorders which row each batch reads, not the (memory-mapped) arrays.
    test = row_batches(input_names(trained_model), features, y, rows)
    y_test = test.row_targets
    batch_size = int(importance["batch_size"])

    def predict(batches: RowBatches) -> np.ndarray:
        return trained_model.predict(batches.dataset(batch_size), verbose=0)

    intact = score(target_encoder, y_test, predict(test))
    metric = _first_defined(importance["metric"][target_encoder.task], intact, len(rows))

    def evaluate(outputs: np.ndarray) -> float:
        return score(target_encoder, y_test, outputs)[metric]

    result = permutation_importance(
        predict,
        evaluate,
        test,
        metric,
        int(importance["repeats"]),
        np.random.default_rng(int(seed)),
        intact=intact[metric],
    )
    result["test_rows"] = len(rows)
    logger.info(
        "Modality importance (drop in test %s from %.4f, %d permutations each, %.1f s): %s.",
        metric,
        result["intact"],
        result["repeats"],
        time.perf_counter() - started,
        ", ".join(
            f"{name} {values['mean_drop']:.4f} ± {values['std_drop']:.4f}"
            for name, values in result["modalities"].items()
        ),
    )
    return result, figures.modality_importance(result)
