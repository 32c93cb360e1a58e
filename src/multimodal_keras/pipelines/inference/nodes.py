"""Nodes that check new rows and predict them; encoding reuses the features pipeline's node."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import keras
import numpy as np
import pandas as pd

from multimodal_keras import tables
from multimodal_keras.modalities.base import ROW_ID
from multimodal_keras.model.evaluate import prediction_table
from multimodal_keras.model.inputs import check_aligned, model_inputs
from multimodal_keras.model.train import input_names
from multimodal_keras.targets import TargetEncoder
from multimodal_keras.validation import validate_new_rows

logger = logging.getLogger(__name__)


def validate_inference_table(
    inference_table: pd.DataFrame | tables.TableChunks,
    table: Mapping[str, Any],
    missing_value_markers: Mapping[str, list[str]],
    **modalities: Mapping[str, Any],
) -> pd.DataFrame:
    """Check the rows to score against the configured feature columns and add ``row_id``.

    Args:
        inference_table: The new rows, as the catalog loads them (a frame, or chunks read
            whole here: the checks, unique ids among them, are over every row); no target
            needed.
        table: ``params:table``: only its id column is used.
        missing_value_markers: Per column, the cell values training read as missing values
            (recorded by training, so scoring reads them as the model was trained).
        **modalities: ``params:<modality>`` for each modality, with its configured columns.

    Returns:
        ``inference_rows``: ``row_id``, then the feature columns, in the table's row order,
        markers read as missing values.
    """
    if isinstance(inference_table, tables.TableChunks):
        inference_table = inference_table.to_pandas()
    rows = validate_new_rows(
        inference_table, table.get("id_column"), modalities, missing_value_markers
    )
    dropped = sorted(set(map(str, inference_table.columns)) - set(map(str, rows.columns)))
    logger.info(
        "Validated %d rows to score; left out columns the model does not read: %s.",
        len(rows),
        dropped or "none",
    )
    return rows


def predict(
    trained_model: keras.Model,
    target_encoder: TargetEncoder,
    inference_rows: pd.DataFrame | tables.TableChunks,
    inference: Mapping[str, Any],
    processing: Mapping[str, Any],
    **features: Any,
) -> pd.DataFrame:
    """Predict every row to score, ``processing.chunk_rows`` rows of model inputs at a time.

    Args:
        trained_model: The model from ``train_model``.
        target_encoder: The fitted target encoding, to decode the outputs.
        inference_rows: The validated rows (chunks or a frame), for their row ids.
        inference: ``params:inference``: the prediction batch size.
        processing: ``params:processing``: how many rows' inputs are read at a time.
        **features: ``<modality>.inference_features`` for each modality, memory-mapped.

    Returns:
        ``predictions``: row id, predicted label or value, and one probability per class.
    """
    row_ids = tables.as_chunks(inference_rows, processing["chunk_rows"]).column(ROW_ID)
    check_aligned(features, row_ids)
    # Memory-mapped features stay on disk; each slice reads its rows only.
    inputs = model_inputs(input_names(trained_model), features)
    step = max(int(processing["chunk_rows"]), 1)
    outputs = np.concatenate(
        [
            trained_model.predict(
                {name: values[start : start + step] for name, values in inputs.items()},
                batch_size=int(inference["batch_size"]),
                verbose=0,
            )
            for start in range(0, len(row_ids), step)
        ]
    )
    predictions = prediction_table(target_encoder, row_ids.to_numpy(), outputs)
    logger.info(
        "Predicted %d rows: %s.",
        len(predictions),
        predictions["prediction"].value_counts().head(10).to_dict()
        if target_encoder.is_classification
        else predictions["prediction"].describe().round(4).to_dict(),
    )
    return predictions
