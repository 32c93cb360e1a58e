"""Missing-value markers: the cell values a table writes for "missing" (``?``, ``NA``, ``-999``).

``table.missing_values`` lists them for every column the run reads, and
``table.missing_values_per_column`` replaces that list for a column. ``resolve`` gives
each read column its markers; training records them (``missing_value_markers``), and
validation, scoring and the serving model all apply that record, so a marker means the
same wherever a row goes.

A marker matches a cell whose text, stripped of surrounding white space, equals it (case
counts); in a numerical column a marker that is a number also matches that number, so
``-999`` matches -999.0. ``mark_missing`` turns matching cells into missing values before
any modality sees them, and each modality then reads them as it reads any missing value
(numerical: imputed and flagged; categorical: the missing token; text: empty; image: no
image, as an empty cell). ``MarkersAsMissing`` does the same to a raw input of the serving
model: a marker becomes ``""`` in a string input and NaN in a number input, which is how
a client sends a missing value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

# What TensorFlow's ``tf.strings.strip`` strips: the pipeline strips the same, for parity.
ASCII_WHITESPACE = " \t\n\r\v\f"


def marker_text(value: str | float) -> str:
    """A configured marker as the text cells are compared with (``-999`` as ``"-999"``)."""
    return str(value).strip(ASCII_WHITESPACE)


def resolve(table: Mapping[str, Any], columns: Iterable[str]) -> dict[str, list[str]]:
    """Each of ``columns`` with its markers: its own list when ``missing_values_per_column``
    names it, else ``missing_values``; columns without markers are left out.
    """
    shared = list(table.get("missing_values") or [])
    per_column = dict(table.get("missing_values_per_column") or {})
    resolved = {}
    for column in dict.fromkeys(columns):
        markers = per_column.get(column, shared)
        texts = list(dict.fromkeys(marker_text(marker) for marker in markers))
        if texts:
            resolved[column] = texts
    return resolved


def numbers_of(markers: Sequence[str]) -> list[float]:
    """The markers that are finite numbers, as numbers."""
    numbers = []
    for marker in markers:
        try:
            number = float(marker)
        except ValueError:
            continue
        if math.isfinite(number):
            numbers.append(number)
    return list(dict.fromkeys(numbers))


def _is_bytes(value: Any) -> bool:
    return isinstance(value, bytes | bytearray)


def marked_cells(values: pd.Series, markers: Sequence[str], numeric: bool) -> pd.Series:
    """Which cells of one column hold a marker (booleans, on the column's index).

    Cells of image bytes are compared byte for byte with the markers' UTF-8 bytes.
    """
    if values.dtype == object and values.map(_is_bytes).any():
        encoded = {marker.encode() for marker in markers}
        texts = set(markers)
        found = values.map(
            lambda cell: (
                bytes(cell).strip(ASCII_WHITESPACE.encode()) in encoded
                if _is_bytes(cell)
                else isinstance(cell, str) and cell.strip(ASCII_WHITESPACE) in texts
            )
        ).astype(bool)
    else:
        stripped = values.astype("string").str.strip(ASCII_WHITESPACE)
        found = stripped.isin(list(markers)).fillna(False).astype(bool)
    numbers = numbers_of(markers) if numeric else []
    if numbers:
        found |= pd.to_numeric(values, errors="coerce").isin(numbers).astype(bool)
    return found


def mark_missing(
    table: pd.DataFrame, markers: Mapping[str, Sequence[str]], numeric_columns: Iterable[str]
) -> tuple[pd.DataFrame, dict[str, int]]:
    """The table with every marker cell missing, and how many cells each column had.

    Only the table's columns that ``markers`` names change; ``numeric_columns`` are the
    numerical columns, whose markers also match as numbers.
    """
    numeric = set(numeric_columns)
    table, counts = table.copy(), {}
    for column, column_markers in markers.items():
        if column not in table.columns or not column_markers:
            continue
        found = marked_cells(table[column], column_markers, column in numeric)
        counts[column] = int(found.sum())
        if counts[column]:
            table[column] = table[column].mask(found)
    return table, counts


@keras.saving.register_keras_serializable(package="multimodal_keras")
class MarkersAsMissing(keras.layers.Layer):
    """One raw serving input with its marker values replaced by the input's missing value.

    Strings (categorical, text, image bytes) equal to a marker once stripped become ``""``;
    numbers equal to a marker that is a number become NaN, as ``mark_missing`` does.
    """

    def __init__(self, markers: list[str], **kwargs: Any) -> None:
        super().__init__(autocast=False, **kwargs)
        self.markers = [str(marker) for marker in markers]

    def call(self, values: tf.Tensor) -> tf.Tensor:
        if values.dtype == tf.string:
            stripped = tf.strings.strip(values)
            found = tf.reduce_any(
                tf.equal(stripped[:, None], tf.constant(self.markers, tf.string)[None, :]), axis=1
            )
            return tf.where(found, tf.constant("", tf.string), values)
        numbers = tf.constant(numbers_of(self.markers), values.dtype)
        found = tf.reduce_any(tf.equal(values[:, None], numbers[None, :]), axis=1)
        return tf.where(found, tf.constant(np.nan, values.dtype), values)

    def compute_output_spec(self, values: keras.KerasTensor) -> keras.KerasTensor:
        return keras.KerasTensor(values.shape, dtype=values.dtype)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "markers": self.markers}


def applies_to(markers: Sequence[str], dtype: str) -> bool:
    """Whether ``MarkersAsMissing`` would change some value of an input of this dtype."""
    return bool(markers) if dtype == "string" else bool(numbers_of(markers))
