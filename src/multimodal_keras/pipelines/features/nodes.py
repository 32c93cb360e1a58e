"""Node functions for one modality, made per modality so that each node knows its module."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from multimodal_keras import tables
from multimodal_keras.chunked import ChunkedArray
from multimodal_keras.modalities import MODALITIES
from multimodal_keras.splitting import TRAIN, split_positions
from multimodal_keras.terminal import brief

logger = logging.getLogger(__name__)


def training_rows(primary_table: pd.DataFrame, split_assignments: pd.DataFrame) -> pd.DataFrame:
    """The primary table's training rows only: the only rows any preprocessor may see."""
    return primary_table.iloc[split_positions(split_assignments, TRAIN)]


def fit_preprocessor_for(modality: str) -> Callable[..., Any]:
    """The ``fit_preprocessor`` node of one modality."""

    def fit_preprocessor(
        primary_table: pd.DataFrame, split_assignments: pd.DataFrame, options: Mapping[str, Any]
    ) -> Any:
        """Fit this modality's preprocessor on the training rows only.

        Args:
            primary_table: The validated table.
            split_assignments: Which rows are training rows.
            options: ``params:<modality>``: the columns and preprocessing options.

        Returns:
            The fitted preprocessor, pickled by the catalog.
        """
        primary_table = tables.as_frame(primary_table)
        train = training_rows(primary_table, split_assignments)
        preprocessor = MODALITIES[modality].fit(train, options)
        description = MODALITIES[modality].describe(preprocessor)
        logger.info(
            "Fitted the %s preprocessor on %d training rows: %s.",
            modality,
            len(train),
            brief(description),
        )
        logger.debug("The fitted %s preprocessor: %s.", modality, description)
        return preprocessor

    return fit_preprocessor


def transform_for(modality: str) -> Callable[..., Any]:
    """The ``transform`` node of one modality."""

    def transform(preprocessor: Any, primary_table: pd.DataFrame) -> pd.DataFrame | np.ndarray:
        """Encode every row with this modality's fitted preprocessor, in primary-table order.

        Args:
            preprocessor: The fitted preprocessor.
            primary_table: The rows to encode.

        Returns:
            A Parquet-ready frame (tabular modalities), an array (text), or a ``ChunkedArray``
            (image) that the catalog's dataset writes chunk by chunk.
        """
        started = time.perf_counter()
        primary_table = tables.as_frame(primary_table)
        encoded = MODALITIES[modality].transform(preprocessor, primary_table)
        if isinstance(encoded, ChunkedArray):
            logger.info(
                "Encoding %d rows of %s features to shape %s, chunk by chunk as they are saved.",
                len(primary_table),
                modality,
                encoded.shape,
            )
            return encoded
        logger.info(
            "Encoded %d rows of %s features to shape %s in %.1f s.",
            len(primary_table),
            modality,
            encoded.shape,
            time.perf_counter() - started,
        )
        return encoded

    return transform
