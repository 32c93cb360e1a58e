"""The image settings a run records: the columns, where images are, the size they are read at.

Nothing is learnt from pixels; ``auto`` sizes and channels come from the headers of the
first training images.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from PIL import Image, UnidentifiedImageError

from multimodal_keras import options
from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.image_formats import GREY_MODES
from multimodal_keras.modalities.base import configured_columns
from multimodal_keras.modalities.image.sources import cell_bytes, check_cells
from multimodal_keras.splitting import FittedOnTrainingRows

AUTO = "auto"


class Options(options.Options):
    """``image``: the columns, where the images are and the size they are read at."""

    columns: list[str]
    source: Literal["bytes", "path"]
    root: str | None
    height: options.AUTO | options.Positive
    width: options.AUTO | options.Positive
    channels: options.AUTO | Literal[1, 3]
    auto_sample: options.Positive
    auto_max_size: options.Positive
    interpolation: Literal[
        "bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian",
        "mitchellcubic",
    ]  # fmt: skip
    max_pixels: options.Positive
    formats: list[str]
    chunk_size: options.Positive
    invalid_rows: Literal["error", "drop"]


@dataclass
class ImagePreprocessor(FittedOnTrainingRows):
    """How images are read and the size they are brought to; nothing is learnt from pixels."""

    columns: list[str]
    source: str
    root: str | None
    height: int
    width: int
    channels: int
    interpolation: str
    max_pixels: int
    formats: list[str] = field(default_factory=list)
    chunk_size: int = 1


def fit(
    train_rows: pd.DataFrame, options: Mapping[str, Any], training_rows: int | None = None
) -> ImagePreprocessor:
    """Record the image settings; ``auto`` sizes and channels come from the training images
    (the first of ``train_rows``, which may be a sample; no count is recorded)."""
    preprocessor = ImagePreprocessor(
        columns=configured_columns(options),
        source=options["source"],
        root=options.get("root"),
        height=0,
        width=0,
        channels=0,
        interpolation=options["interpolation"],
        max_pixels=int(options["max_pixels"]),
        formats=[str(name).upper() for name in options["formats"]],
        chunk_size=int(options["chunk_size"]),
    )
    shape = [options["height"], options["width"], options["channels"]]
    if AUTO in shape and preprocessor.columns and len(train_rows):
        shape = [
            fixed if fixed != AUTO else derived
            for fixed, derived in zip(
                shape, common_shape(train_rows, preprocessor, options), strict=True
            )
        ]
    if AUTO in shape:
        # No training rows (validation reads images before any split): no size yet.
        shape = [0 if value == AUTO else value for value in shape]
    preprocessor.height, preprocessor.width, preprocessor.channels = (int(v) for v in shape)
    return preprocessor


def common_shape(
    train_rows: pd.DataFrame, preprocessor: ImagePreprocessor, options: Mapping[str, Any]
) -> tuple[int, int, int]:
    """(height, width, channels) for ``auto``: the commonest size among the first
    ``auto_sample`` training images, shrunk to fit ``auto_max_size``, and one channel when
    they are all grey. Only the images' headers are read.
    """

    def header(cell: Any) -> tuple[int, int, str]:
        with Image.open(io.BytesIO(cell_bytes(cell, preprocessor))) as image:
            return image.height, image.width, image.mode

    sample = train_rows.head(int(options.get("auto_sample", 256)))
    # Validation reports unreadable images; the size comes from the rest.
    unreadable = (ValueError, OSError, UnidentifiedImageError, MultimodalKerasError)
    headers = check_cells(sample, preprocessor.columns, header, unreadable).results
    if not headers:
        raise MultimodalKerasError(
            f"image.height/width/channels are 'auto', but none of the first {len(sample)} "
            f"training images in {preprocessor.columns} could be read: set them explicitly."
        )
    sizes = Counter((height, width) for height, width, _ in headers)
    grey = all(mode in GREY_MODES for _, _, mode in headers)
    height, width = max(sizes, key=lambda size: (sizes[size], size))
    scale = min(1.0, int(options.get("auto_max_size", 128)) / max(height, width))
    return max(1, round(height * scale)), max(1, round(width * scale)), 1 if grey else 3


def encoded_shape(preprocessor: ImagePreprocessor) -> tuple[tuple[int, ...], np.dtype]:
    """(image columns, height, width, channels) uint8 pixels per row."""
    size = (preprocessor.height, preprocessor.width, preprocessor.channels)
    return (len(preprocessor.columns), *size), np.dtype(np.uint8)


def describe(preprocessor: ImagePreprocessor) -> dict[str, Any]:
    """Where images come from and the size they are brought to."""
    return {
        "columns": preprocessor.columns,
        "source": preprocessor.source,
        "size": [preprocessor.height, preprocessor.width, preprocessor.channels],
        "interpolation": preprocessor.interpolation,
    }
