"""Decoding images to uint8 pixels: the pipeline's stream and the serving model's layer.

Both decode and resize with the same TensorFlow ops (``decode_and_resize``). ``transform``
first checks every image's header (``check_images``), then returns a ``ChunkedArray``
whose chunks a ``tf.data`` pipeline decodes, several at once, so memory holds one chunk
of pixels whatever the number of rows. ``DecodeImages`` runs the same function in the
exported serving model, behind an in-graph check of each header.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from multimodal_keras.chunked import ChunkedArray
from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.modalities.base import ROW_ID, STRING, raw_inputs, serving_name
from multimodal_keras.modalities.image.headers import (
    declared_pixels,
    decodable_bytes,
    plain_png_size,
)
from multimodal_keras.modalities.image.preprocessor import ImagePreprocessor
from multimodal_keras.modalities.image.sources import (
    UnreadableImagesError,
    cell_bytes,
    check_cells,
    row_major_cells,
    unreadable,
)

# Interpolations for which resizing to the same size returns every pixel exactly.
IDENTITY_AT_SAME_SIZE = {"bilinear", "bicubic", "nearest", "area", "lanczos3", "lanczos5"}


def decode_and_resize(
    encoded: tf.Tensor, height: int, width: int, channels: int, interpolation: str
) -> tf.Tensor:
    """Decode one encoded image and resize it to (height, width, channels) uint8.

    An image already of that size is passed through when the interpolation leaves
    such an image unchanged anyway, which saves most of the per-image work.
    """
    image = tf.io.decode_image(encoded, channels=channels, expand_animations=False)

    def resized() -> tf.Tensor:
        pixels = tf.image.resize(
            tf.cast(image, tf.float32), (height, width), method=interpolation, antialias=True
        )
        return tf.cast(tf.clip_by_value(tf.round(pixels), 0.0, 255.0), tf.uint8)

    if interpolation in IDENTITY_AT_SAME_SIZE:
        size = tf.shape(image)
        same = tf.logical_and(tf.equal(size[0], height), tf.equal(size[1], width))
        image = tf.cond(same, lambda: tf.identity(image), resized)
    else:
        image = resized()
    image.set_shape((height, width, channels))
    return image


def decode_png_at_size(encoded: tf.Tensor, height: int, width: int, channels: int) -> tf.Tensor:
    """``decode_and_resize`` for a plain 8-bit PNG of (height, width): the same pixels, cheaper.

    ``decode_image`` reads a PNG with ``decode_png``, and resizing to the same size is
    skipped there, so only the per-image dispatch is saved (about a third of the work).
    """
    return tf.ensure_shape(tf.io.decode_png(encoded, channels=channels), (height, width, channels))


def check_images(rows: pd.DataFrame, preprocessor: ImagePreprocessor) -> bool:
    """Raise one error listing the rows of the first image column whose images cannot be used.

    Only headers are read (``decodable_bytes``), and no bytes are kept, so the check
    costs a few microseconds per PNG and no memory that grows with the rows. Returns
    whether every image is a PNG of the configured size already, and the
    interpolation leaves such images unchanged.
    """

    def png_size(cell: Any) -> tuple[int, int] | None:
        raw = cell_bytes(cell, preprocessor)
        decodable_bytes(raw, preprocessor)
        return plain_png_size(raw, preprocessor)

    found = check_cells(rows, preprocessor.columns, png_size)
    refused = found.first_column()
    if refused:
        raise MultimodalKerasError(unreadable(*refused))
    target = (preprocessor.height, preprocessor.width)
    at_size = all(size == target for size in found.results)
    return at_size and preprocessor.interpolation in IDENTITY_AT_SAME_SIZE


def undecodable(rows: pd.DataFrame, preprocessor: ImagePreprocessor) -> UnreadableImagesError:
    """The error for rows whose images TensorFlow fails to decode, found one image at a time."""

    def decode(cell: Any) -> None:
        encoded = decodable_bytes(cell_bytes(cell, preprocessor), preprocessor)
        try:
            tf.io.decode_image(encoded, channels=preprocessor.channels, expand_animations=False)
        except tf.errors.OpError as error:
            raise ValueError(f"TensorFlow cannot decode it ({error.message})") from error

    refused = check_cells(rows, preprocessor.columns, decode).first_column()
    if refused is None:
        first, last = rows[ROW_ID].iloc[0], rows[ROW_ID].iloc[-1]
        refused = (preprocessor.columns[0], [f"rows {first} to {last}: an image changed or failed"])
    return UnreadableImagesError(unreadable(*refused))


def pixel_chunks(
    preprocessor: ImagePreprocessor, rows: pd.DataFrame, all_at_size: bool = False
) -> Iterator[np.ndarray]:
    """Pixels of ``chunk_size`` rows at a time, shape (rows, columns, height, width, channels).

    A ``tf.data`` pipeline reads one chunk's checked bytes at a time from the rows and
    decodes its images one after another with ``decode_and_resize`` (or, when
    ``all_at_size`` says every image is a plain PNG of the configured size, with
    ``decode_png_at_size``), as many chunks at once as there are cores. A chunk per
    call rather than an image per call keeps the threads' hand-offs out of the
    per-image cost; nothing grows with the number of rows.
    Raises ``UnreadableImagesError`` naming the rows whose images cannot be decoded.
    """
    columns, chunk_rows = preprocessor.columns, max(1, preprocessor.chunk_size)
    size = (preprocessor.height, preprocessor.width, preprocessor.channels)
    if not columns or not len(rows):
        yield np.zeros((len(rows), len(columns), *size), dtype=np.uint8)
        return

    def chunk_bytes(index: np.int64) -> np.ndarray:
        block = rows.iloc[int(index) * chunk_rows : (int(index) + 1) * chunk_rows]
        return np.asarray(
            [
                decodable_bytes(cell_bytes(cell, preprocessor), preprocessor)
                for _, _, cell in row_major_cells(block, columns)
            ],
            dtype=object,
        )

    if all_at_size:
        decode = partial(decode_png_at_size, height=size[0], width=size[1], channels=size[2])
    else:
        decode = partial(
            decode_and_resize,
            height=size[0],
            width=size[1],
            channels=size[2],
            interpolation=preprocessor.interpolation,
        )

    def decode_chunk(index: tf.Tensor) -> tf.Tensor:
        # Pure given the index, so chunks may be read in parallel under op determinism.
        encoded = tf.numpy_function(chunk_bytes, [index], tf.string, stateful=False)
        encoded.set_shape((None,))
        pixels = tf.TensorSpec(size, tf.uint8)
        return tf.map_fn(decode, encoded, fn_output_signature=pixels, parallel_iterations=1)

    chunks = (
        tf.data.Dataset.range(-(-len(rows) // chunk_rows))
        .map(decode_chunk, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .prefetch(2)  # decoding goes on while the consumer writes a chunk
    )
    done = 0
    try:
        for images in chunks.as_numpy_iterator():
            chunk = images.reshape(-1, len(columns), *size)  # row-major: a row's columns in turn
            done += len(chunk)
            yield chunk
    except tf.errors.OpError:
        raise undecodable(rows.iloc[done : done + chunk_rows], preprocessor) from None


def transform(preprocessor: ImagePreprocessor, rows: pd.DataFrame) -> ChunkedArray:
    """Pixels of shape (rows, image columns, height, width, channels), uint8, made on demand.

    Every image's header is checked first, so unusable images stop the node at once,
    listing their rows. The pixels are a ``ChunkedArray``: the catalog's ``NumpyDataset``
    writes it chunk by chunk, so memory holds one chunk of pixels whatever the rows.
    """
    all_at_size = check_images(rows, preprocessor)
    shape = (
        len(rows),
        len(preprocessor.columns),
        preprocessor.height,
        preprocessor.width,
        preprocessor.channels,
    )
    return ChunkedArray(shape, np.uint8, partial(pixel_chunks, preprocessor, rows, all_at_size))


def model_input(encoded: np.ndarray | ChunkedArray) -> np.ndarray:
    """Pixels as they are stored, uint8, a memory map read in place; the tower rescales them."""
    return np.asarray(encoded)


@keras.saving.register_keras_serializable(package="multimodal_keras")
class DecodeImages(keras.layers.Layer):
    """Encoded image bytes of each column to uint8 pixels, with ``decode_and_resize``.

    Before decoding, each image's header is checked: bytes that are not a PNG, JPEG, GIF or
    BMP, and images declaring more than ``max_pixels`` pixels, stop the call with an error
    naming the input (the pipeline refuses both in validation).
    """

    def __init__(
        self,
        height: int,
        width: int,
        channels: int,
        interpolation: str,
        max_pixels: int,
        names: list[str],
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.height, self.width, self.channels = int(height), int(width), int(channels)
        self.interpolation, self.max_pixels = str(interpolation), int(max_pixels)
        self.names = [str(name) for name in names]

    def decode(self, encoded: tf.Tensor, name: str) -> tf.Tensor:
        pixels = declared_pixels(encoded)
        checks = [
            tf.debugging.assert_non_negative(
                pixels,
                message=f"serving input `{name}` holds bytes that are not a PNG, JPEG, GIF or "
                "BMP image; send the image file's bytes in one of these formats",
            ),
            tf.debugging.assert_less_equal(
                pixels,
                tf.constant(self.max_pixels, tf.int64),
                message=f"serving input `{name}` holds an image of more than {self.max_pixels} "
                "pixels (image.max_pixels); send a smaller image",
            ),
        ]
        # Decoding waits for the header checks: a graph runs independent ops in any order.
        with tf.control_dependencies(checks):
            encoded = tf.identity(encoded)
        return decode_and_resize(
            encoded, self.height, self.width, self.channels, self.interpolation
        )

    def call(self, columns: list[tf.Tensor]) -> tf.Tensor:
        pixels = tf.TensorSpec((self.height, self.width, self.channels), tf.uint8)
        images = [
            tf.map_fn(lambda one, n=name: self.decode(one, n), column, fn_output_signature=pixels)
            for column, name in zip(columns, self.names, strict=True)
        ]
        return tf.stack(images, axis=1)

    def compute_output_spec(self, columns: list[keras.KerasTensor]) -> keras.KerasTensor:
        shape = (columns[0].shape[0], len(columns), self.height, self.width, self.channels)
        return keras.KerasTensor(shape, dtype="uint8")

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "height": self.height,
            "width": self.width,
            "channels": self.channels,
            "interpolation": self.interpolation,
            "max_pixels": self.max_pixels,
            "names": self.names,
        }


def build_serving_input(
    name: str, preprocessor: ImagePreprocessor
) -> tuple[dict[str, keras.KerasTensor], keras.KerasTensor]:
    """One input of encoded bytes (PNG, JPEG, GIF or BMP) per column, decoded in the graph."""
    inputs = raw_inputs(preprocessor.columns, STRING)
    layer = DecodeImages(
        preprocessor.height,
        preprocessor.width,
        preprocessor.channels,
        preprocessor.interpolation,
        preprocessor.max_pixels,
        [serving_name(column) for column in preprocessor.columns],
        name=f"{name}_serving_decode",
    )
    return inputs, layer(list(inputs.values()))
