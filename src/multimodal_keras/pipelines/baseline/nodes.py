"""Nodes that fit the classical baseline on the training rows and score it on the test rows."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pandas as pd

from multimodal_keras.modalities.base import ROW_ID
from multimodal_keras.model import baseline as classical
from multimodal_keras.model.evaluate import score
from multimodal_keras.model.inputs import check_aligned
from multimodal_keras.pipelines import check_fitted_on_split
from multimodal_keras.splitting import TEST, TRAIN, split_positions
from multimodal_keras.tables import TableChunks, as_chunks
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
    primary_table: pd.DataFrame | TableChunks,
    split_assignments: pd.DataFrame,
    encoded_target: pd.DataFrame,
    target_encoder: TargetEncoder,
    baseline: Mapping[str, Any],
    processing: Mapping[str, Any],
    seed: int,
    **modalities: Any,
) -> classical.Baseline:
    """Fit the classical baseline on the training rows only, at most ``baseline.fit_rows``.

    Args:
        primary_table: The validated table, for the raw columns; read chunk by chunk, the
            baseline's columns only.
        split_assignments: Which rows are training rows.
        encoded_target: Every row's encoded target.
        target_encoder: The fitted target encoding.
        baseline: ``params:baseline``: how many training rows to fit on, gradient-boosting
            and linear settings.
        processing: ``params:processing``: the rows read per chunk.
        seed: ``params:seed``, which also draws the training rows to fit on when there are
            more than ``fit_rows``.
        **modalities: ``<modality>_preprocessor`` (which modalities are in use, and their
            raw columns) and ``<modality>_features`` (read by images only) per modality.

    Returns:
        The fitted baseline, pickled by the catalog.
    """
    features = _by_modality(modalities, FEATURES_SUFFIX)
    check_aligned(features | {"target": encoded_target}, split_assignments[ROW_ID])
    preprocessors = _by_modality(modalities, PREPROCESSOR_SUFFIX)
    check_fitted_on_split(split_assignments, preprocessors, target_encoder)
    train = split_positions(split_assignments, TRAIN)
    rows = classical.training_sample(
        as_chunks(primary_table, int(processing["chunk_rows"])),
        classical.raw_columns(preprocessors),
        train,
        int(baseline["fit_rows"]),
        int(seed),
    )
    positions = rows.index.to_numpy()
    fitted = classical.fit(
        train_rows=rows,
        features=features,
        positions=positions,
        y_train=encoded_target["target"].to_numpy()[positions],
        preprocessors=preprocessors,
        target=target_encoder,
        params=baseline,
        seed=int(seed),
    )
    logger.info(
        "Fitted the baseline on %d of %d training rows: %s.",
        len(rows),
        len(train),
        fitted.describe(),
    )
    return fitted


def evaluate_baseline(
    baseline_model: classical.Baseline,
    target_encoder: TargetEncoder,
    encoded_target: pd.DataFrame,
    split_assignments: pd.DataFrame,
    primary_table: pd.DataFrame | TableChunks,
    processing: Mapping[str, Any],
    **features: Any,
) -> dict[str, Any]:
    """Score the baseline on the test rows with the Keras model's metrics.

    Args:
        baseline_model: The fitted baseline.
        target_encoder: The fitted target encoding.
        encoded_target: Every row's encoded target.
        split_assignments: Which rows are test rows.
        primary_table: The validated table, for the raw columns; the test rows are read
            and predicted chunk by chunk.
        processing: ``params:processing``: the rows read per chunk.
        **features: ``<modality>.features`` for each modality.

    Returns:
        The task, the number of test rows, the baseline's description and its metrics.
    """
    check_aligned(features | {"target": encoded_target}, split_assignments[ROW_ID])
    rows = split_positions(split_assignments, TEST)
    table = as_chunks(primary_table, int(processing["chunk_rows"]))
    outputs = classical.predict_rows(baseline_model, table, features, rows)
    metrics = score(target_encoder, encoded_target["target"].to_numpy()[rows], outputs)
    return {
        "task": target_encoder.task,
        "test_rows": len(rows),
        "estimator": baseline_model.describe(),
        "baseline": metrics,
    }
