"""Image columns: encoded bytes or file paths, decoded and resized to uint8 tensors.

Pillow checks each image first (known format, pixel-count limit) and re-encodes the
modes TensorFlow cannot decode; TensorFlow's own ops then decode and resize in a
``tf.data`` map over chunks of images, the same ops an exported serving model runs. Pixels
stay uint8 on disk; the tower scales them with a Rescaling layer. ``transform`` streams:
it returns a ``ChunkedArray`` that makes the pixels one chunk of rows at a time.

This package is the modality's module for the registry (``base.Modality``); each concern
has its own module:

- ``preprocessor``: the options, the recorded settings (``fit``, ``auto`` sizes), ``describe``;
- ``sources``: a cell's bytes, path safety under ``image.root``, and ``check_cells``, the
  one loop that checks every cell and collects the rows it refuses;
- ``headers``: what a header says before decoding (Pillow's check, the PNG fast path, the
  serving model's in-graph check);
- ``decoding``: ``decode_and_resize``, the transform's ``tf.data`` stream and the serving
  model's ``DecodeImages`` layer;
- ``tower``: the CNN or backbone, its augmentation and its options;
- ``baseline`` and ``synthetic``: what the classical baseline and the synthetic tables use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.modalities import base
from multimodal_keras.modalities.base import LINEAR, STRING
from multimodal_keras.modalities.image.baseline import baseline_columns, baseline_transformers
from multimodal_keras.modalities.image.decoding import (
    build_serving_input,
    check_images,
    decode_and_resize,
    model_input,
    transform,
)
from multimodal_keras.modalities.image.headers import (
    checked_bytes,
    declared_pixels,
    decodable_bytes,
)
from multimodal_keras.modalities.image.preprocessor import (
    ImagePreprocessor,
    Options,
    describe,
    encoded_shape,
    fit,
)
from multimodal_keras.modalities.image.sources import cell_bytes, check_cells, resolve_path
from multimodal_keras.modalities.image.synthetic import synthetic_column
from multimodal_keras.modalities.image.tower import TowerOptions, TrainingAugmentation, build_tower

RAW_DTYPE = STRING
# Gradient boosting reads no pixels: any image column makes the baseline linear.
BASELINE_KINDS = frozenset({LINEAR})


def invalid_rows(rows: pd.DataFrame, options: Mapping[str, Any]) -> pd.Series:
    """Rows whose image cells are empty, unreadable, too large, or outside the image root."""
    preprocessor = fit(rows.iloc[:0], options)

    def usable(cell: Any) -> bytes:
        return checked_bytes(cell_bytes(cell, preprocessor), preprocessor)

    refused = (ValueError, MultimodalKerasError)
    return check_cells(rows, preprocessor.columns, usable, refused).reasons_by_row()


is_active = base.is_active
raw_columns = base.raw_columns
# Image cells are bytes or paths, read as they are.
normalise_column = base.unchanged
synthetic_gaps = base.no_synthetic_gaps
synthetic_new_rows = base.synthetic_rows_unchanged

# The modality interface (base.Modality), then helpers callers reach through the package.
__all__ = [
    "BASELINE_KINDS",
    "RAW_DTYPE",
    "Options",
    "TowerOptions",
    "baseline_columns",
    "baseline_transformers",
    "build_serving_input",
    "build_tower",
    "describe",
    "encoded_shape",
    "fit",
    "invalid_rows",
    "is_active",
    "model_input",
    "normalise_column",
    "raw_columns",
    "synthetic_column",
    "synthetic_gaps",
    "synthetic_new_rows",
    "transform",
    "ImagePreprocessor",
    "TrainingAugmentation",
    "check_images",
    "decodable_bytes",
    "declared_pixels",
    "decode_and_resize",
    "resolve_path",
]
