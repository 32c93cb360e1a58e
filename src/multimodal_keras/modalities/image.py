"""Image columns: encoded bytes or file paths, decoded and resized to uint8 tensors.

Pillow checks each image first (known format, pixel-count limit) and re-encodes the
modes TensorFlow cannot decode; TensorFlow's own ops then decode and resize in a
parallel ``tf.data`` map, the same ops an exported serving model runs. Pixels stay
uint8 on disk; the tower scales them with a Rescaling layer.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from PIL import Image, UnidentifiedImageError

from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.modalities.base import ROW_ID, configured_columns, dense_block, raw_inputs

BYTES = "bytes"
PATH = "path"
# Pillow modes that TensorFlow's PNG, JPEG, GIF and BMP decoders read as they are.
TF_DECODABLE_MODES = {"1", "L", "LA", "P", "RGB", "RGBA"}
TF_DECODABLE_FORMATS = {"PNG", "JPEG", "GIF", "BMP"}


@dataclass
class ImagePreprocessor:
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


def fit(train_rows: pd.DataFrame, options: Mapping[str, Any]) -> ImagePreprocessor:
    """Record the image settings; images need no statistics from the training rows."""
    return ImagePreprocessor(
        columns=configured_columns(options),
        source=options["source"],
        root=options.get("root"),
        height=int(options["height"]),
        width=int(options["width"]),
        channels=int(options["channels"]),
        interpolation=options["interpolation"],
        max_pixels=int(options["max_pixels"]),
        formats=[str(name).upper() for name in options["formats"]],
        chunk_size=int(options["chunk_size"]),
    )


def decode_and_resize(
    encoded: tf.Tensor, height: int, width: int, channels: int, interpolation: str
) -> tf.Tensor:
    """Decode one encoded image and resize it to (height, width, channels) uint8."""
    image = tf.io.decode_image(encoded, channels=channels, expand_animations=False)
    image = tf.image.resize(image, (height, width), method=interpolation, antialias=True)
    # Nearest-neighbour resizing keeps uint8; every other method returns float32.
    image = tf.cast(image, tf.float32)
    image = tf.cast(tf.clip_by_value(tf.round(image), 0.0, 255.0), tf.uint8)
    image.set_shape((height, width, channels))
    return image


def resolve_path(root: str | None, relative: str) -> Path:
    """The file a path cell names, refused when it would leave the image root."""
    base = Path(root or ".").resolve()
    candidate = (base / relative).resolve()
    if Path(relative).is_absolute() or not candidate.is_relative_to(base):
        raise MultimodalKerasError(
            f"Image path {relative!r} leaves the image root {str(base)!r}; "
            "store paths relative to the root configured under image.root."
        )
    return candidate


def checked_bytes(raw: bytes, preprocessor: ImagePreprocessor) -> bytes:
    """The image's bytes, re-encoded as PNG when TensorFlow could not decode them.

    Raises ``ValueError`` with a short reason when the bytes are not an allowed image.
    """
    try:
        with Image.open(io.BytesIO(raw)) as image:
            if image.format not in preprocessor.formats:
                raise ValueError(f"format {image.format} is not one of {preprocessor.formats}")
            if image.width * image.height > preprocessor.max_pixels:
                raise ValueError(
                    f"{image.width}x{image.height} pixels exceed the limit of "
                    f"{preprocessor.max_pixels}"
                )
            if image.format in TF_DECODABLE_FORMATS and image.mode in TF_DECODABLE_MODES:
                return raw
            converted = image.convert("RGBA" if "A" in image.getbands() else "RGB")
            buffer = io.BytesIO()
            converted.save(buffer, format="PNG")
            return buffer.getvalue()
    except UnidentifiedImageError as error:
        raise ValueError("not an image in a format Pillow recognises") from error
    except Image.DecompressionBombError as error:
        raise ValueError(f"a decompression bomb ({error})") from error
    except OSError as error:
        raise ValueError(f"a truncated or corrupt image ({error})") from error


def _cell_bytes(cell: Any, preprocessor: ImagePreprocessor) -> bytes:
    """The raw bytes a cell holds or points to."""
    if cell is None or (not isinstance(cell, bytes | bytearray | str) and pd.isna(cell)):
        raise ValueError("the cell is empty")
    if preprocessor.source == PATH:
        path = resolve_path(preprocessor.root, str(cell))
        if not path.is_file():
            raise ValueError(f"no file at {path}")
        return path.read_bytes()
    if isinstance(cell, str):
        raise ValueError("the cell holds text, not image bytes (set image.source to 'path'?)")
    return bytes(cell)


def invalid_rows(rows: pd.DataFrame, options: Mapping[str, Any]) -> pd.Series:
    """Rows whose image cells are empty, unreadable, too large, or outside the image root."""
    preprocessor = fit(rows.iloc[:0], options)
    reasons = {}
    for column in preprocessor.columns:
        for row_id, cell in zip(rows[ROW_ID], rows[column], strict=True):
            if row_id in reasons:
                continue
            try:
                checked_bytes(_cell_bytes(cell, preprocessor), preprocessor)
            except (ValueError, MultimodalKerasError) as error:
                reasons[row_id] = f"{column}: {error}"
    return pd.Series(reasons, dtype="string", index=pd.Index(list(reasons), name=ROW_ID))


def encoded_images(
    rows: pd.DataFrame, column: str, preprocessor: ImagePreprocessor
) -> list[bytes]:
    """Every row's image as bytes TensorFlow can decode; one error lists all bad rows."""
    images, problems = [], []
    for row_id, cell in zip(rows[ROW_ID], rows[column], strict=True):
        try:
            images.append(checked_bytes(_cell_bytes(cell, preprocessor), preprocessor))
        except ValueError as error:
            problems.append(f"row {row_id}: {error}")
    if problems:
        shown = "; ".join(problems[:5])
        raise MultimodalKerasError(
            f"Image column {column!r} has {len(problems)} unreadable image(s) ({shown}); "
            "fix or remove these rows."
        )
    return images


def transform(preprocessor: ImagePreprocessor, rows: pd.DataFrame) -> np.ndarray:
    """Pixels of shape (rows, image columns, height, width, channels), uint8."""
    shape = (preprocessor.height, preprocessor.width, preprocessor.channels)
    tensors = np.zeros((len(rows), len(preprocessor.columns), *shape), dtype=np.uint8)
    for position, column in enumerate(preprocessor.columns):
        images = encoded_images(rows, column, preprocessor)
        if not images:
            continue
        dataset = (
            tf.data.Dataset.from_tensor_slices(tf.constant(images, dtype=tf.string))
            .map(
                lambda encoded: decode_and_resize(
                    encoded, *shape[:2], preprocessor.channels, preprocessor.interpolation
                ),
                num_parallel_calls=tf.data.AUTOTUNE,
                deterministic=True,
            )
            .batch(preprocessor.chunk_size)
            .prefetch(tf.data.AUTOTUNE)
        )
        start = 0
        for batch in dataset.as_numpy_iterator():
            tensors[start : start + len(batch), position] = batch
            start += len(batch)
    return tensors


def model_input(encoded: np.ndarray) -> np.ndarray:
    """Pixels as they are stored: uint8; the tower rescales them."""
    return encoded


def build_tower(
    name: str, preprocessor: ImagePreprocessor, tower: Mapping[str, Any]
) -> tuple[keras.KerasTensor, keras.KerasTensor]:
    """A small CNN shared by every image column, pooled per image, then dense layers."""
    shape = (
        len(preprocessor.columns),
        preprocessor.height,
        preprocessor.width,
        preprocessor.channels,
    )
    inputs = keras.Input(shape=shape, name=name, dtype="uint8")
    layers: list[keras.layers.Layer] = [keras.layers.Rescaling(1.0 / 255.0)]
    for filters in tower["conv_filters"]:
        layers += [
            keras.layers.Conv2D(int(filters), int(tower["kernel_size"]), padding="same"),
            keras.layers.BatchNormalization(),
            keras.layers.Activation("relu"),
            keras.layers.MaxPooling2D(),
        ]
    layers.append(keras.layers.GlobalAveragePooling2D())
    cnn = keras.Sequential(layers, name=f"{name}_cnn")
    features = keras.layers.TimeDistributed(cnn, name=f"{name}_cnn_per_column")(inputs)
    flat = keras.layers.Flatten(name=f"{name}_flatten")(features)
    return inputs, dense_block(flat, list(tower["units"]), float(tower["dropout"]), name)


class DecodeImages(keras.layers.Layer):
    """Encoded image bytes of each column to uint8 pixels, with ``decode_and_resize``."""

    def __init__(
        self, height: int, width: int, channels: int, interpolation: str, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.height, self.width, self.channels = height, width, channels
        self.interpolation = interpolation

    def decode(self, encoded: tf.Tensor) -> tf.Tensor:
        return decode_and_resize(
            encoded, self.height, self.width, self.channels, self.interpolation
        )

    def call(self, columns: list[tf.Tensor]) -> tf.Tensor:
        pixels = tf.TensorSpec((self.height, self.width, self.channels), tf.uint8)
        images = [tf.map_fn(self.decode, column, fn_output_signature=pixels) for column in columns]
        return tf.stack(images, axis=1)

    def compute_output_spec(self, columns: list[keras.KerasTensor]) -> keras.KerasTensor:
        shape = (columns[0].shape[0], len(columns), self.height, self.width, self.channels)
        return keras.KerasTensor(shape, dtype="uint8")


def build_serving_input(
    name: str, preprocessor: ImagePreprocessor
) -> tuple[dict[str, keras.KerasTensor], keras.KerasTensor]:
    """One input of encoded bytes (PNG, JPEG, GIF or BMP) per column, decoded in the graph."""
    inputs = raw_inputs(preprocessor.columns, "string")
    layer = DecodeImages(
        preprocessor.height,
        preprocessor.width,
        preprocessor.channels,
        preprocessor.interpolation,
        name=f"{name}_serving_decode",
    )
    return inputs, layer(list(inputs.values()))


def describe(preprocessor: ImagePreprocessor) -> dict[str, Any]:
    """Where images come from and the size they are brought to."""
    return {
        "columns": preprocessor.columns,
        "source": preprocessor.source,
        "size": [preprocessor.height, preprocessor.width, preprocessor.channels],
        "interpolation": preprocessor.interpolation,
    }
