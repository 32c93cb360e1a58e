"""Model inputs: the encoded artifacts of every active modality, for a subset of rows.

``model_inputs`` copies the rows into memory; ``row_batches`` leaves memory-mapped
arrays on disk and reads them batch by batch for training, validation and evaluation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import tensorflow as tf

from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.modalities import MODALITIES
from multimodal_keras.modalities.base import ROW_ID
from multimodal_keras.model import distribute


def check_aligned(encoded: Mapping[str, Any], row_ids: pd.Series) -> None:
    """Raise when an encoded artifact does not hold the same rows, in the same order."""
    expected = row_ids.to_numpy()
    for name, artifact in encoded.items():
        if len(artifact) != len(expected) or (
            isinstance(artifact, pd.DataFrame)
            and not np.array_equal(artifact[ROW_ID].to_numpy(), expected)
        ):
            raise MultimodalKerasError(
                f"The encoded {name} features do not hold the rows of split_assignments "
                f"({len(artifact)} rows against {len(expected)}); they are out of date: "
                f"rerun the {name} namespace, e.g. `kedro run --namespaces {name}`."
            )


def model_inputs(
    input_names: list[str], encoded: Mapping[str, Any], positions: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """The arrays the model's named inputs take, for the rows at ``positions`` (all if None)."""
    arrays = {}
    for name in input_names:
        values = MODALITIES[name].model_input(encoded[name])
        arrays[name] = values if positions is None else values[positions]
    return arrays


@dataclass(frozen=True)
class RowBatches:
    """Some rows of every model input and of the target, read one batch at a time.

    The arrays hold every row of the primary table and may be memory maps (image
    pixels, token ids): a batch reads only its own rows from them, in a ``tf.data``
    pipeline that prepares the next batches while the model trains on this one.
    """

    arrays: Mapping[str, np.ndarray]
    targets: np.ndarray
    positions: np.ndarray

    def __len__(self) -> int:
        return len(self.positions)

    @property
    def row_targets(self) -> np.ndarray:
        """The targets of these rows only."""
        return self.targets[self.positions]

    def permuted(self, name: str, permutation: np.ndarray) -> RowBatches:
        """These rows with input ``name``'s values reordered among them by ``permutation``
        (as ``values[positions][permutation]``), the other inputs and the targets intact.

        Nothing is read: a batch reads each of its rows from the row the permutation puts
        there, as it reads any other row.
        """
        source = np.arange(len(self.targets))
        source[self.positions] = self.positions[np.asarray(permutation)]
        reordered = ReadThrough(self.arrays[name], source)
        return replace(self, arrays={**self.arrays, name: reordered})

    def dataset(
        self,
        batch_size: int,
        shuffle_seed: int | None = None,
        shard: distribute.Shard | None = None,
    ) -> tf.data.Dataset:
        """Batches of (inputs, targets); shuffled anew every epoch from the seed when given.

        With a ``shard``, one input pipeline's endless share of the rows, taken as row
        positions before any row is read (``distribute.worker_rows``).

        Shuffling row positions with ``Dataset.shuffle`` draws the same order as
        shuffling the rows themselves would, so batches match in-memory training's.
        """
        names = list(self.arrays)
        arrays = [self.arrays[name] for name in names]
        targets = self.targets

        def gather(positions: np.ndarray) -> list[np.ndarray]:
            return [array[positions] for array in arrays] + [targets[positions]]

        specs = [(array.dtype, array.shape[1:]) for array in [*arrays, targets]]

        def read(positions: tf.Tensor) -> tuple[dict[str, tf.Tensor], tf.Tensor]:
            # Pure given the positions, so parallel calls stay deterministic.
            tensors = tf.numpy_function(
                gather, [positions], [tf.as_dtype(dtype) for dtype, _ in specs], stateful=False
            )
            for tensor, (_, shape) in zip(tensors, specs, strict=True):
                tensor.set_shape((None, *shape))
            return dict(zip(names, tensors[:-1], strict=True)), tensors[-1]

        rows = tf.data.Dataset.from_tensor_slices(self.positions.astype(np.int64))
        if shuffle_seed is not None:
            rows = rows.shuffle(len(self), seed=shuffle_seed, reshuffle_each_iteration=True)
        rows = distribute.worker_rows(rows, shard)
        return (
            rows.batch(batch_size)
            .map(read, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .prefetch(tf.data.AUTOTUNE)
        )


@dataclass(frozen=True)
class ReadThrough:
    """An array whose row ``i`` is ``array``'s row ``source[i]``, read only when indexed."""

    array: np.ndarray
    source: np.ndarray

    @property
    def shape(self) -> tuple[int, ...]:
        return self.array.shape

    @property
    def dtype(self) -> np.dtype:
        return self.array.dtype

    def __len__(self) -> int:
        return len(self.array)

    def __getitem__(self, positions: np.ndarray) -> np.ndarray:
        return self.array[self.source[positions]]


def row_batches(
    input_names: list[str], encoded: Mapping[str, Any], targets: np.ndarray, positions: np.ndarray
) -> RowBatches:
    """The rows at ``positions`` of every named model input, to be read batch by batch."""
    arrays = {name: MODALITIES[name].model_input(encoded[name]) for name in input_names}
    return RowBatches(arrays, np.asarray(targets), np.asarray(positions))
