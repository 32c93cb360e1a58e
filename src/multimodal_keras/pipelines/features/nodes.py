"""Node functions for one modality, made per modality so that each node knows its module.

Both nodes read the primary table chunk by chunk (``tables.TableChunks``; a frame is read
in slices), only the row id and the modality's columns, through ``executors.chunk_map``:
the fit draws a seeded sample of at most ``processing.fit_rows`` training rows, the same
however the rows are chunked and every training row when there are no more, and the
transform returns a ``ChunkedArray`` of model inputs that the catalog's ``NumpyDataset``
writes chunk by chunk. Memory holds a chunk and the sample, whatever the table's size.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from multimodal_keras import tables
from multimodal_keras.chunked import ChunkedArray
from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.executors import chunk_map
from multimodal_keras.modalities import MODALITIES
from multimodal_keras.modalities.base import ROW_ID, candidate_columns
from multimodal_keras.splitting import TRAIN, training_rows_digest
from multimodal_keras.targets import TargetEncoder
from multimodal_keras.terminal import brief

logger = logging.getLogger(__name__)

Table = pd.DataFrame | tables.TableChunks


def training_mask(split_assignments: pd.DataFrame, rows: int) -> np.ndarray:
    """Whether each row of the primary table, by position, is a training row."""
    if len(split_assignments) != rows:
        raise MultimodalKerasError(
            f"split_assignments holds {len(split_assignments)} rows but primary_table holds "
            f"{rows}; the split is out of date: rerun the split, e.g. `kedro run`."
        )
    return split_assignments["split"].to_numpy() == TRAIN


def chunk_sample(
    chunk: pd.DataFrame, train: np.ndarray, size: int, seed: int
) -> tuple[pd.DataFrame, np.ndarray]:
    """One chunk's training rows with the ``size`` smallest sampling keys, and their keys."""
    rows = chunk[train[chunk.index.to_numpy()]]
    return tables.smallest_keys(rows, tables.row_keys(rows[ROW_ID], seed), size)


def training_sample(
    primary_table: Table,
    split_assignments: pd.DataFrame,
    columns: list[str],
    processing: Mapping[str, Any],
    seed: int,
) -> tuple[pd.DataFrame, int]:
    """The rows a preprocessor is fitted on, and how many training rows there are.

    At most ``processing.fit_rows`` training rows, with ``row_id`` and ``columns`` only,
    in primary-table order: every training row when there are no more, else a sample
    seeded by ``seed`` that is the same however the table is chunked
    (``tables.seeded_sample``, drawn chunk by chunk through ``chunk_map``).
    """
    table = tables.as_chunks(primary_table, processing["chunk_rows"])
    train = training_mask(split_assignments, len(table))
    size = int(processing["fit_rows"])
    per_chunk = partial(chunk_sample, train=train, size=size, seed=int(seed))
    samples = chunk_map(per_chunk, table.chunks([ROW_ID, *columns]), processing)
    sample, _ = tables.merge_samples(samples, size)
    return sample.sort_index(kind="stable"), int(train.sum())


def fit_preprocessor_for(modality: str) -> Callable[..., Any]:
    """The ``fit_preprocessor`` node of one modality."""

    def fit_preprocessor(
        primary_table: Table,
        split_assignments: pd.DataFrame,
        options: Mapping[str, Any],
        processing: Mapping[str, Any],
        seed: int,
        target_encoder: TargetEncoder | None = None,
        **sources: Mapping[str, Any],
    ) -> Any:
        """Fit this modality's preprocessor on the training rows only (a seeded sample of
        ``processing.fit_rows`` of them when there are more).

        Args:
            primary_table: The validated table, chunks or a frame.
            split_assignments: Which rows are training rows, in primary-table order.
            options: ``params:<modality>``: the columns and preprocessing options.
            processing: ``params:processing``: ``chunk_rows``, ``fit_rows``, the executor.
            seed: ``params:seed``: draws the sample when the training rows exceed fit_rows,
                and is given to the fit of a modality that reads the targets.
            target_encoder: For a modality that reads the targets (``READS_TARGETS``):
                encodes the sampled training rows' targets for its fit.
            sources: For a modality that may choose other modalities' columns
                (``COLUMNS_FROM``): their parameter blocks, by modality name; under
                ``columns: auto`` its fit is given their columns as ``candidates``.

        Returns:
            The fitted preprocessor, pickled by the catalog.
        """
        candidates = candidate_columns(modality, options, sources)
        columns = list(candidates)
        module = MODALITIES[modality]
        target = [] if target_encoder is None else [target_encoder.column]
        read = list(dict.fromkeys([*columns, *target]))
        sample, count = training_sample(primary_table, split_assignments, read, processing, seed)
        given: dict[str, Any] = {"candidates": candidates} if sources else {}
        if target_encoder is not None:
            given["targets"] = target_encoder.encode(sample[target_encoder.column])
            given["seed"] = int(seed)
            sample = sample[[ROW_ID, *columns]]
        preprocessor = module.fit(sample, options, training_rows=count, **given)
        preprocessor.training_rows_digest = training_rows_digest(split_assignments)
        description = module.describe(preprocessor)
        logger.info(
            "Fitted the %s preprocessor on %s: %s.",
            modality,
            f"all {count} training rows"
            if len(sample) == count
            else f"a seeded sample of {len(sample)} of the {count} training rows",
            brief(description),
        )
        logger.debug("The fitted %s preprocessor: %s.", modality, description)
        return preprocessor

    return fit_preprocessor


def encoded_chunk(
    modality: str, preprocessor: Any, chunk: pd.DataFrame, out_of_fold: bool = False
) -> Any:
    """One chunk's model inputs: an array, or a ``ChunkedArray`` a modality streams itself.

    ``out_of_fold``: the chunk is primary-table rows, so a modality that encodes the
    training rows its fit saw out of fold (its ``out_of_fold``) does so.
    """
    module = MODALITIES[modality]
    encoded = module.transform(preprocessor, chunk)
    if out_of_fold and hasattr(module, "out_of_fold"):
        encoded = module.out_of_fold(preprocessor, chunk, encoded)
    return encoded if isinstance(encoded, ChunkedArray) else module.model_input(encoded)


def encoded_chunks(
    modality: str,
    preprocessor: Any,
    table: tables.TableChunks,
    processing: Mapping[str, Any],
    out_of_fold: bool = False,
) -> Iterator[np.ndarray]:
    """Every row's model inputs, chunk by chunk in primary-table order, reading only the
    row id and the preprocessor's columns."""
    started = time.perf_counter()
    columns = [ROW_ID, *MODALITIES[modality].raw_columns(preprocessor)]
    work = partial(encoded_chunk, modality, preprocessor, out_of_fold=out_of_fold)
    rows = 0
    for encoded in chunk_map(work, table.chunks(columns), processing):
        for chunk in encoded.chunks() if isinstance(encoded, ChunkedArray) else (encoded,):
            rows += len(chunk)
            yield chunk
    logger.info(
        "Encoded %d rows of %s features in %.1f s.", rows, modality, time.perf_counter() - started
    )


def transform_for(modality: str, out_of_fold: bool = False) -> Callable[..., ChunkedArray]:
    """The ``transform`` node of one modality.

    ``out_of_fold``: the node encodes the primary table, whose training rows a modality may
    encode out of fold (the features pipeline); rows to score never are (inference), since
    their ids may repeat a training row's.
    """

    def transform(
        preprocessor: Any, primary_table: Table, processing: Mapping[str, Any]
    ) -> ChunkedArray:
        """Encode every row with this modality's fitted preprocessor, in primary-table order.

        Args:
            preprocessor: The fitted preprocessor.
            primary_table: The rows to encode, chunks or a frame.
            processing: ``params:processing``: ``chunk_rows`` and the executor.

        Returns:
            The model inputs of every row, a ``ChunkedArray`` whose chunks are made as the
            catalog's ``NumpyDataset`` writes them.
        """
        table = tables.as_chunks(primary_table, processing["chunk_rows"])
        row_shape, dtype = MODALITIES[modality].encoded_shape(preprocessor)
        shape = (len(table), *row_shape)
        logger.info(
            "Encoding %d rows of %s features to shape %s, chunk by chunk as they are saved.",
            shape[0],
            modality,
            shape,
        )
        return ChunkedArray(
            shape,
            dtype,
            partial(encoded_chunks, modality, preprocessor, table, processing, out_of_fold),
        )

    return transform
