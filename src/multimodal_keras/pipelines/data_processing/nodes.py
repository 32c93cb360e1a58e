"""Nodes that check the raw table, split its rows, and encode its target."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pandas as pd

from multimodal_keras import missing_values, tables
from multimodal_keras.modalities.base import ROW_ID
from multimodal_keras.splitting import (
    TRAIN,
    assign_splits,
    split_positions,
    training_rows_digest,
)
from multimodal_keras.tables import TableChunks
from multimodal_keras.targets import TargetEncoder, fit_target_encoder, infer_task
from multimodal_keras.validation import feature_columns, validate_chunks

logger = logging.getLogger(__name__)


def validate_table(
    raw_table: TableChunks | pd.DataFrame,
    table: Mapping[str, Any],
    split: Mapping[str, Any],
    processing: Mapping[str, Any] | None = None,
    **modalities: Mapping[str, Any],
) -> tuple[TableChunks, dict[str, list[str]]]:
    """Check the raw table against the configured columns and add a stable ``row_id``.

    The raw table is read a chunk of rows at a time, twice: once for the checks that need
    every row, which raise before anything is returned, then, lazily, for the rows.

    Args:
        raw_table: The user's table, as the catalog loads it: ``TableChunks``, or a frame.
        table: ``params:table``: the target, the task, the id column, the missing-target
            policy and the missing-value markers.
        split: ``params:split``: only its group column is checked here.
        processing: ``params:processing``: ``chunk_rows``, the slices a frame is read in
            (a frame is read whole without it).
        **modalities: ``params:<modality>`` for each modality, with its configured columns.

    Returns:
        The primary table: ``row_id``, then the configured columns, cells holding a
        missing-value marker missing, rows without a target dropped; and
        ``missing_value_markers``: each feature column and the target with the markers
        read as missing in it (those that have any), which scoring and the serving
        export apply in turn.
    """
    features = feature_columns(modalities)
    columns = [column for names in features.values() for column in names]
    markers = missing_values.resolve(table, [*columns, table["target"]])
    raw = raw_table
    if not isinstance(raw, TableChunks):
        raw = tables.from_frame(raw, processing["chunk_rows"] if processing else max(len(raw), 1))
    primary = validate_chunks(raw, table, split.get("group_column"), modalities, markers)
    logger.info(
        "Validated %d rows and %d columns (%s).",
        len(primary),
        len(primary.columns) - 1,
        ", ".join(f"{name}: {len(cols)}" for name, cols in features.items()),
    )
    return primary, markers


def split_rows(
    primary_table: TableChunks | pd.DataFrame,
    table: Mapping[str, Any],
    split: Mapping[str, Any],
    seed: int,
) -> pd.DataFrame:
    """Assign every row to train, val or test, seeded, stratified, groups kept whole.

    Only the row ids, the target and the group column are read, whole: the split needs
    every row's.

    Args:
        primary_table: The validated table (``TableChunks`` or a frame).
        table: ``params:table``, for the target column and task.
        split: ``params:split``: fractions, stratification, the optional group column and
            the optional split seed, which replaces ``seed`` for the split alone.
        seed: ``params:seed``.

    Returns:
        ``split_assignments``: ``row_id`` and ``split``, in the primary table's row order.
    """
    group_column = split.get("group_column")
    wanted = dict.fromkeys([ROW_ID, table["target"], *([group_column] if group_column else [])])
    keys = tables.select(primary_table, wanted)
    target = keys[table["target"]]
    task = infer_task(target, table.get("task"), int(table["max_classes"]))
    stratify = bool(split.get("stratify", True)) and task != "regression"
    assignments = assign_splits(
        keys[ROW_ID],
        float(split["test_fraction"]),
        float(split["validation_fraction"]),
        int(seed if split.get("seed") is None else split["seed"]),
        labels=target if stratify else None,
        groups=keys[group_column] if group_column else None,
    )
    logger.info("Split rows: %s.", assignments["split"].value_counts().to_dict())
    return assignments


def fit_target(
    primary_table: TableChunks | pd.DataFrame,
    split_assignments: pd.DataFrame,
    table: Mapping[str, Any],
) -> TargetEncoder:
    """Fit the target encoding (classes, or transform, mean and scale) on the training rows only.

    Only the target column of the primary table (``TableChunks`` or a frame) is read.
    """
    target = tables.select(primary_table, [table["target"]])[table["target"]]
    task = infer_task(target, table.get("task"), int(table["max_classes"]))
    train = target.iloc[split_positions(split_assignments, TRAIN)]
    encoder = fit_target_encoder(
        train,
        task,
        table.get("target_transform"),
        float(table.get("target_transform_skewness", 1.0)),
    )
    encoder.training_rows_digest = training_rows_digest(split_assignments)
    logger.info(
        "Target %r: %s task, %d class(es), transform %s.",
        encoder.column,
        task,
        len(encoder.classes),
        encoder.transform,
    )
    return encoder


def encode_target(
    target_encoder: TargetEncoder, primary_table: TableChunks | pd.DataFrame
) -> pd.DataFrame:
    """Encode every row's target: ``row_id`` and ``target`` (class index or scaled value).

    Only the row ids and the target of the primary table (``TableChunks`` or a frame) are read.
    """
    keys = tables.select(primary_table, dict.fromkeys([ROW_ID, target_encoder.column]))
    values = target_encoder.encode(keys[target_encoder.column])
    return pd.DataFrame({ROW_ID: keys[ROW_ID].to_numpy(), "target": values})
