"""Model inputs: the encoded artifacts of every active modality, for a subset of rows.

``model_inputs`` copies the rows into memory; ``row_batches`` leaves memory-mapped
arrays on disk and reads them batch by batch for training, validation and evaluation.

Reading rows through a memory map would make the file resident in the process over an
epoch of random rows; the batches read memory-mapped ``.npy`` arrays from their files
instead (``row_reader``, model/mapped_rows.py), so the file stays in the page cache only.
Shuffling draws a permutation of the row positions per pass (``shuffled_rows``), a few
bytes per row, rather than filling a shuffle buffer with one tensor per row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import tensorflow as tf

from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.modalities import MODALITIES
from multimodal_keras.modalities.base import ROW_ID
from multimodal_keras.model import distribute
from multimodal_keras.model.mapped_rows import FileRows, PageRelease


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


def row_reader(array: Any) -> Callable[[np.ndarray], np.ndarray]:
    """A function that reads the rows of ``array`` at some positions into a new array.

    A memory-mapped ``.npy`` array is read from its file (``FileRows``), not through its
    map; any other map is read through and its pages released after each read
    (``PageRelease``); an array in memory is indexed.
    """
    if isinstance(array, ReadThrough):
        through = row_reader(array.array)
        return lambda positions: through(array.sources_of(positions))
    rows = FileRows.of(array)
    if rows is not None:
        return rows.take
    release = PageRelease.of([array])

    def take(positions: np.ndarray) -> np.ndarray:
        values = np.asarray(array[positions])  # a copy: indexing with positions
        release()
        return values

    return take


def index_dtype(size: int) -> np.dtype:
    """The smallest of int32 and int64 that holds positions below ``size``."""
    return np.dtype(np.int32 if size <= np.iinfo(np.int32).max else np.int64)


def shuffled_rows(positions: np.ndarray, shuffle_seed: int | None = None) -> tf.data.Dataset:
    """One element per position: in order, or shuffled anew on every pass from the seed.

    Each pass draws one number from the seeded ``Dataset.random`` (new on every iteration,
    and on every repetition) and permutes the positions with it in one stateless shuffle,
    so the passes are the same given the seed and memory holds the positions twice at most.
    """
    values = np.asarray(positions)
    values = tf.constant(values.astype(index_dtype(int(values.max(initial=0)) + 1)))
    if shuffle_seed is None:
        return tf.data.Dataset.from_tensor_slices(values)
    seed = tf.constant(int(shuffle_seed), tf.int64)

    def permuted(draw: tf.Tensor) -> tf.data.Dataset:
        order = tf.random.experimental.stateless_shuffle(values, seed=tf.stack([seed, draw]))
        return tf.data.Dataset.from_tensor_slices(order)

    passes = tf.data.Dataset.random(seed=int(shuffle_seed), rerandomize_each_iteration=True)
    # flat_map hides the row count; without it Keras finds an epoch's end by running out of
    # rows and warns, on every run, that the input ran out of data.
    count = tf.data.experimental.assert_cardinality(len(values))
    return passes.take(1).flat_map(permuted).apply(count)


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
        order = np.argsort(self.positions, kind="stable")
        sources = self.positions[np.asarray(permutation)]
        reordered = ReadThrough(self.arrays[name], self.positions[order], sources[order])
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

        Rows are shuffled as ``shuffled_rows`` shuffles them, as training in memory does
        (``train.dataset``), so the batches match. Memory-mapped arrays are read from their
        files (``row_reader``), so no epoch makes them resident.
        """
        names = list(self.arrays)
        arrays = [self.arrays[name] for name in names]
        targets = self.targets
        readers = [row_reader(array) for array in [*arrays, targets]]

        def gather(positions: np.ndarray) -> list[np.ndarray]:
            return [read(positions) for read in readers]

        specs = [(array.dtype, array.shape[1:]) for array in [*arrays, targets]]

        def read(positions: tf.Tensor) -> tuple[dict[str, tf.Tensor], tf.Tensor]:
            # Pure given the positions, so parallel calls stay deterministic.
            tensors = tf.numpy_function(
                gather, [positions], [tf.as_dtype(dtype) for dtype, _ in specs], stateful=False
            )
            for tensor, (_, shape) in zip(tensors, specs, strict=True):
                tensor.set_shape((None, *shape))
            return dict(zip(names, tensors[:-1], strict=True)), tensors[-1]

        rows = distribute.worker_rows(shuffled_rows(self.positions, shuffle_seed), shard)
        return (
            rows.batch(batch_size)
            .map(read, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .prefetch(tf.data.AUTOTUNE)
        )


@dataclass(frozen=True)
class ReadThrough:
    """An array whose row ``positions[k]`` is ``array``'s row ``sources[k]``, read only when
    indexed, and only at those (sorted) positions; it holds two numbers per row of the
    subset, none per row of the table."""

    array: np.ndarray
    positions: np.ndarray
    sources: np.ndarray

    @property
    def base(self) -> np.ndarray:
        """The array read through, for ``memory_map``."""
        return self.array

    @property
    def shape(self) -> tuple[int, ...]:
        return self.array.shape

    @property
    def dtype(self) -> np.dtype:
        return self.array.dtype

    def __len__(self) -> int:
        return len(self.array)

    def sources_of(self, positions: np.ndarray) -> np.ndarray:
        """The rows of ``array`` that rows ``positions`` read."""
        return self.sources[np.searchsorted(self.positions, positions)]

    def __getitem__(self, positions: np.ndarray) -> np.ndarray:
        return self.array[self.sources_of(positions)]


def row_batches(
    input_names: list[str], encoded: Mapping[str, Any], targets: np.ndarray, positions: np.ndarray
) -> RowBatches:
    """The rows at ``positions`` of every named model input, to be read batch by batch."""
    arrays = {name: MODALITIES[name].model_input(encoded[name]) for name in input_names}
    return RowBatches(arrays, np.asarray(targets), np.asarray(positions))
