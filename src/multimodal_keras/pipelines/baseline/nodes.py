"""Nodes that fit the classical baseline on the training rows and score it on the test rows."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pandas as pd

from multimodal_keras import tables
from multimodal_keras.modalities.base import ROW_ID
from multimodal_keras.model import baseline as classical
from multimodal_keras.model.evaluate import score
from multimodal_keras.model.inputs import check_aligned
from multimodal_keras.splitting import TEST, TRAIN, split_positions
from multimodal_keras.targets import TargetEncoder

logger = logging.getLogger(__name__)

PREPROCESSOR_SUFFIX = "_preprocessor"
FEATURES_SUFFIX = "_features"


def _by_modality(inputs: Mapping[str, Any], suffix: str) -> dict[str, Any]:
    """The inputs named ``<modality><suffix>``, keyed by modality."""
    return {
        key.removesuffix(suffix): value for key, value in inputs.items() if key.endswith(suffix)
    }


def fit_baseline(
    primary_table: pd.DataFrame,
    split_assignments: pd.DataFrame,
    encoded_target: pd.DataFrame,
    target_encoder: TargetEncoder,
    baseline: Mapping[str, Any],
    seed: int,
    **modalities: Any,
) -> classical.Baseline:
    """Fit the classical baseline on the training rows only.

    Args:
        primary_table: The validated table, for the raw columns.
        split_assignments: Which rows are training rows.
        encoded_target: Every row's encoded target.
        target_encoder: The fitted target encoding.
        baseline: ``params:baseline``: gradient-boosting and linear settings.
        seed: ``params:seed``.
        **modalities: ``<modality>_preprocessor`` (which modalities are in use, and their
            raw columns) and ``<modality>_features`` (read by images only) per modality.

    Returns:
        The fitted baseline, pickled by the catalog.
    """
    features = _by_modality(modalities, FEATURES_SUFFIX)
    check_aligned(features | {"target": encoded_target}, split_assignments[ROW_ID])
    rows = split_positions(split_assignments, TRAIN)
    primary_table = tables.as_frame(primary_table)
    fitted = classical.fit(
        train_rows=primary_table.iloc[rows],
        features=features,
        positions=rows,
        y_train=encoded_target["target"].to_numpy()[rows],
        preprocessors=_by_modality(modalities, PREPROCESSOR_SUFFIX),
        target=target_encoder,
        params=baseline,
        seed=int(seed),
    )
    logger.info("Fitted the baseline on %d training rows: %s.", len(rows), fitted.describe())
    return fitted


def evaluate_baseline(
    baseline_model: classical.Baseline,
    target_encoder: TargetEncoder,
    encoded_target: pd.DataFrame,
    split_assignments: pd.DataFrame,
    primary_table: pd.DataFrame,
    **features: Any,
) -> dict[str, Any]:
    """Score the baseline on the test rows with the Keras model's metrics.

    Args:
        baseline_model: The fitted baseline.
        target_encoder: The fitted target encoding.
        encoded_target: Every row's encoded target.
        split_assignments: Which rows are test rows.
        primary_table: The validated table, for the raw columns.
        **features: ``<modality>.features`` for each modality.

    Returns:
        The task, the number of test rows, the baseline's description and its metrics.
    """
    check_aligned(features | {"target": encoded_target}, split_assignments[ROW_ID])
    rows = split_positions(split_assignments, TEST)
    primary_table = tables.as_frame(primary_table)
    outputs = classical.predict(baseline_model, primary_table.iloc[rows], features, rows)
    metrics = score(target_encoder, encoded_target["target"].to_numpy()[rows], outputs)
    return {
        "task": target_encoder.task,
        "test_rows": len(rows),
        "estimator": baseline_model.describe(),
        "baseline": metrics,
    }
