"""What the classical baseline (model/baseline.py) reads of image columns: each image's
pixels, as ``transform`` wrote them, averaged down to a few and flattened.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import tensorflow as tf
from sklearn.preprocessing import FunctionTransformer

from multimodal_keras.modalities.base import BaselineBlock
from multimodal_keras.modalities.image.decoding import model_input

# Images are downscaled this many at a time, to bound memory on large tables.
_IMAGE_CHUNK = 4096


def downscale(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """uint8 images (images, height, width, channels) averaged down to ``size``, as [0, 1]
    features (images, features)."""
    resized = tf.image.resize(tf.cast(pixels, tf.float32), size, method="area").numpy()
    return (resized / 255.0).reshape(len(pixels), -1).astype(np.float32)


def downscaled_cells(frame: pd.DataFrame, size: tuple[int, int]) -> np.ndarray:
    """Each column's images (cells of uint8 pixels) downscaled, the columns side by side."""
    blocks = []
    for column in frame.columns:
        cells = frame[column].to_list()
        chunks = [
            downscale(np.stack(cells[start : start + _IMAGE_CHUNK]), size)
            for start in range(0, len(cells), _IMAGE_CHUNK)
        ]
        blocks.append(np.concatenate(chunks) if chunks else np.zeros((0, 0), np.float32))
    return np.hstack(blocks) if blocks else np.zeros((len(frame), 0), np.float32)


def baseline_columns(
    columns: list[str], rows: pd.DataFrame, encoded: Any, positions: np.ndarray
) -> pd.DataFrame:
    """One cell per image: its pixels as ``transform`` wrote them, read at ``positions``.

    The baseline reads the decoded pixels rather than the raw cells: decoding every image
    again would double the slowest step of a run, and ``fit`` learns nothing from pixels.
    Each cell is a view of the (memory-mapped) array, read one chunk at a time.
    """
    pixels = model_input(encoded)
    return pd.DataFrame(
        {
            column: pd.Series([pixels[row, index] for row in positions], dtype=object)
            for index, column in enumerate(columns)
        }
    ).set_axis(rows.index)


def baseline_transformers(
    columns: list[str], kind: str, params: Mapping[str, Any]
) -> list[BaselineBlock]:
    """The images averaged down to ``image_size`` and flattened (linear only)."""
    size = tuple(int(side) for side in params["image_size"])
    downscaled = FunctionTransformer(downscaled_cells, kw_args={"size": size})
    return [BaselineBlock(downscaled, list(columns))]
