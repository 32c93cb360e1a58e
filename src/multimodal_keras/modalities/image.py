"""Image columns: encoded bytes or file paths, decoded and resized to uint8 tensors.

Pillow checks each image first (known format, pixel-count limit) and re-encodes the
modes TensorFlow cannot decode; TensorFlow's own ops then decode and resize in a
``tf.data`` map over chunks of images, the same ops an exported serving model runs. Pixels stay
uint8 on disk; the tower scales them with a Rescaling layer. ``transform`` streams:
it returns a ``ChunkedArray`` that makes the pixels one chunk of rows at a time.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Annotated, Any, Literal

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from PIL import Image, ImageDraw, UnidentifiedImageError
from pydantic import Field
from sklearn.preprocessing import FunctionTransformer

from multimodal_keras import options
from multimodal_keras.chunked import ChunkedArray
from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.image_formats import GREY_MODES, PNG_SIGNATURE
from multimodal_keras.modalities import base
from multimodal_keras.modalities.base import (
    LINEAR,
    ROW_ID,
    STRING,
    BaselineBlock,
    configured_columns,
    dense_block,
    raw_inputs,
    serving_name,
)


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


class Augmentation(options.Options):
    """``model.towers.image.augmentation``: 0 or false (or leaving it out) skips a step."""

    horizontal_flip: bool = False
    translation: Annotated[float, Field(ge=0, lt=1)] = 0.0
    rotation: Annotated[float, Field(ge=0, le=1)] = 0.0
    zoom: Annotated[float, Field(ge=0, lt=1)] = 0.0
    fill_mode: Literal["reflect", "constant", "nearest", "wrap"] = "reflect"


class TowerOptions(options.Options):
    """``model.towers.image``: the small CNN, its augmentation, or a backbone."""

    conv_filters: options.Units
    convs_per_block: options.Positive
    kernel_size: options.Positive
    pool_until: options.Positive
    batch_norm_momentum: Annotated[float, Field(ge=0, lt=1)] | None
    pooled_dropout: options.Dropout
    units: options.Units
    dropout: options.Dropout
    augmentation: Augmentation | None
    backbone: str | None
    backbone_weights: str | None
    backbone_trainable: bool
    backbone_input_size: options.Positive
    backbone_input_range: tuple[float, float]

RAW_DTYPE = STRING
# Gradient boosting reads no pixels: any image column makes the baseline linear.
BASELINE_KINDS = frozenset({LINEAR})

BYTES = "bytes"
PATH = "path"
# Pillow modes that TensorFlow's PNG, JPEG, GIF and BMP decoders read as they are.
TF_DECODABLE_MODES = {"1", "L", "LA", "P", "RGB", "RGBA"}
TF_DECODABLE_FORMATS = {"PNG", "JPEG", "GIF", "BMP"}
# Interpolations for which resizing to the same size returns every pixel exactly.
IDENTITY_AT_SAME_SIZE = {"bilinear", "bicubic", "nearest", "area", "lanczos3", "lanczos5"}
# PNG header fields (PNG spec, IHDR): bit depths, and colour types greyscale, RGB, palette,
# grey+alpha, RGBA.
PNG_IHDR_END = 26
PNG_WIDTH_AT, PNG_HEIGHT_AT = 16, 20  # big-endian 4-byte fields of IHDR
PNG_DEPTHS = {1, 2, 4, 8, 16}
PNG_COLOUR_TYPES = {0, 2, 3, 4, 6}
# Little-endian size fields: GIF's logical screen (2 bytes each), BMP's info header (4 each).
GIF_WIDTH_AT, GIF_HEIGHT_AT = 6, 8
BMP_WIDTH_AT, BMP_HEIGHT_AT = 18, 22
AUTO = "auto"


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
    """Record the image settings; ``auto`` sizes and channels come from the training images."""
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
    sizes: dict[tuple[int, int], int] = {}
    grey = True
    sample = train_rows.head(int(options.get("auto_sample", 256)))
    for _, _, cell in _row_major_cells(sample, preprocessor.columns):
        try:
            with Image.open(io.BytesIO(_cell_bytes(cell, preprocessor))) as image:
                sizes[(image.height, image.width)] = sizes.get((image.height, image.width), 0) + 1
                grey = grey and image.mode in GREY_MODES
        except (ValueError, OSError, UnidentifiedImageError, MultimodalKerasError):
            continue  # validation reports unreadable images; the size comes from the rest
    if not sizes:
        raise MultimodalKerasError(
            f"image.height/width/channels are 'auto', but none of the first {len(sample)} "
            f"training images in {preprocessor.columns} could be read: set them explicitly."
        )
    height, width = max(sizes, key=lambda size: (sizes[size], size))
    scale = min(1.0, int(options.get("auto_max_size", 128)) / max(height, width))
    return max(1, round(height * scale)), max(1, round(width * scale)), 1 if grey else 3


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
            if image.format == "PNG":
                # Reads every chunk and checks its CRC without decoding: a truncated file
                # is refused here, in validation, not halfway through the transform.
                image.verify()
            # TensorFlow decodes every PNG (16-bit ones scaled to 8 bits) and JPEG (CMYK
            # included) as the serving model will; Pillow's conversion would clip 16-bit
            # values and convert CMYK its own way.
            if image.format in {"PNG", "JPEG"} or (
                image.format in TF_DECODABLE_FORMATS and image.mode in TF_DECODABLE_MODES
            ):
                return raw
            converted = image.convert("RGBA" if "A" in image.getbands() else "RGB")
            buffer = io.BytesIO()
            converted.save(buffer, format="PNG")
            return buffer.getvalue()
    except UnidentifiedImageError as error:
        raise ValueError("not an image in a format Pillow recognises") from error
    except Image.DecompressionBombError as error:
        raise ValueError(f"a decompression bomb ({error})") from error
    except (OSError, SyntaxError) as error:  # Pillow raises SyntaxError for a broken chunk
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


def _png_header(raw: bytes) -> tuple[int, int, int, int] | None:
    """Width, height, bit depth and colour type from a PNG's IHDR chunk; None if not a PNG."""
    if len(raw) < PNG_IHDR_END or raw[:8] != PNG_SIGNATURE or raw[12:16] != b"IHDR":
        return None
    return (
        int.from_bytes(raw[PNG_WIDTH_AT : PNG_WIDTH_AT + 4], "big"),
        int.from_bytes(raw[PNG_HEIGHT_AT : PNG_HEIGHT_AT + 4], "big"),
        raw[24],
        raw[25],
    )


def decodable_bytes(raw: bytes, preprocessor: ImagePreprocessor) -> bytes:
    """``checked_bytes``, with a header-only fast path for PNGs, which TensorFlow decodes as-is.

    Validation has already opened every image with Pillow; on the transform's hot path a
    PNG needs only its format and pixel count, read from the first 26 bytes.
    Anything else takes Pillow's path. Raises ``ValueError`` like ``checked_bytes``.
    """
    size = plain_png_size(raw, preprocessor)
    if size is None:
        return checked_bytes(raw, preprocessor)
    height, width = size
    if width * height > preprocessor.max_pixels:
        raise ValueError(f"{width}x{height} pixels exceed the limit of {preprocessor.max_pixels}")
    return raw


class UnreadableImagesError(MultimodalKerasError):
    """Images found unusable while pixels were being made, listed by row id."""


def _unreadable(column: str, problems: list[str]) -> str:
    shown = "; ".join(problems[:5])
    return (
        f"Image column {column!r} has {len(problems)} unreadable image(s) ({shown}); "
        "fix or remove these rows."
    )


def plain_png_size(raw: bytes, preprocessor: ImagePreprocessor) -> tuple[int, int] | None:
    """(height, width) of a PNG that ``decodable_bytes`` passes on unopened, else None."""
    header = _png_header(raw)
    if header is None or "PNG" not in preprocessor.formats:
        return None
    width, height, depth, colour = header
    if depth not in PNG_DEPTHS or colour not in PNG_COLOUR_TYPES:
        return None
    return height, width


def check_images(rows: pd.DataFrame, preprocessor: ImagePreprocessor) -> bool:
    """Raise one error listing the rows of the first image column whose images cannot be used.

    Only headers are read (``decodable_bytes``), and no bytes are kept, so the check
    costs a few microseconds per PNG and no memory that grows with the rows. Returns
    whether every image is a PNG of the configured size already, and the
    interpolation leaves such images unchanged.
    """
    target, at_size = (preprocessor.height, preprocessor.width), True
    for column in preprocessor.columns:
        problems = []
        for row_id, cell in zip(rows[ROW_ID], rows[column], strict=True):
            try:
                raw = _cell_bytes(cell, preprocessor)
                decodable_bytes(raw, preprocessor)
            except ValueError as error:
                problems.append(f"row {row_id}: {error}")
                continue
            at_size = at_size and plain_png_size(raw, preprocessor) == target
        if problems:
            raise MultimodalKerasError(_unreadable(column, problems))
    return at_size and preprocessor.interpolation in IDENTITY_AT_SAME_SIZE


def decode_png_at_size(encoded: tf.Tensor, height: int, width: int, channels: int) -> tf.Tensor:
    """``decode_and_resize`` for a plain 8-bit PNG of (height, width): the same pixels, cheaper.

    ``decode_image`` reads a PNG with ``decode_png``, and resizing to the same size is
    skipped there, so only the per-image dispatch is saved (about a third of the work).
    """
    return tf.ensure_shape(tf.io.decode_png(encoded, channels=channels), (height, width, channels))


def _row_major_cells(rows: pd.DataFrame, columns: list[str]) -> list[tuple[Any, str, Any]]:
    """(row id, column, cell) for every image cell, row by row, columns in order."""
    return [
        (row_id, column, cell)
        for row_id, *cells in zip(rows[ROW_ID], *(rows[c] for c in columns), strict=True)
        for column, cell in zip(columns, cells, strict=True)
    ]


def _undecodable(rows: pd.DataFrame, preprocessor: ImagePreprocessor) -> UnreadableImagesError:
    """The error for rows whose images TensorFlow fails to decode, found one image at a time."""
    problems: dict[str, list[str]] = {}
    for row_id, column, cell in _row_major_cells(rows, preprocessor.columns):
        try:
            encoded = decodable_bytes(_cell_bytes(cell, preprocessor), preprocessor)
            tf.io.decode_image(encoded, channels=preprocessor.channels, expand_animations=False)
        except ValueError as error:
            problems.setdefault(column, []).append(f"row {row_id}: {error}")
        except tf.errors.OpError as error:
            reason = f"row {row_id}: TensorFlow cannot decode it ({error.message})"
            problems.setdefault(column, []).append(reason)
    column, found = next(iter(problems.items()), (preprocessor.columns[0], []))
    first, last = rows[ROW_ID].iloc[0], rows[ROW_ID].iloc[-1]
    return UnreadableImagesError(
        _unreadable(column, found or [f"rows {first} to {last}: an image changed or failed"])
    )


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
                decodable_bytes(_cell_bytes(cell, preprocessor), preprocessor)
                for _, _, cell in _row_major_cells(block, columns)
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
        raise _undecodable(rows.iloc[done : done + chunk_rows], preprocessor) from None


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


# keras.applications backbones were trained on RGB, so grey images are repeated to three.
BACKBONE_CHANNELS = 3


@keras.saving.register_keras_serializable(package="multimodal_keras")
class TrainingAugmentation(keras.layers.Layer):
    """Random flips, shifts, rotations and zooms of each image, applied only while training.

    Keras' random preprocessing layers augment whenever ``training`` is not passed (their
    default is True), so a model called directly, as ``model.export`` does, would augment
    its predictions. This layer defaults to False and runs them only when training is on.
    Each factor is a fraction as Keras' layers take it; 0 or False leaves that step out.
    """

    def __init__(
        self,
        horizontal_flip: bool = False,
        translation: float = 0.0,
        rotation: float = 0.0,
        zoom: float = 0.0,
        fill_mode: str = "reflect",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.horizontal_flip, self.fill_mode = bool(horizontal_flip), fill_mode
        self.translation, self.rotation = float(translation), float(rotation)
        self.zoom = float(zoom)
        self.steps: list[keras.layers.Layer] = []
        if self.horizontal_flip:
            self.steps.append(keras.layers.RandomFlip("horizontal"))
        if self.translation:
            self.steps.append(
                keras.layers.RandomTranslation(
                    self.translation, self.translation, fill_mode=fill_mode
                )
            )
        if self.rotation:
            self.steps.append(keras.layers.RandomRotation(self.rotation, fill_mode=fill_mode))
        if self.zoom:
            self.steps.append(keras.layers.RandomZoom(self.zoom, fill_mode=fill_mode))

    @property
    def active(self) -> bool:
        """Whether any augmentation step is configured."""
        return bool(self.steps)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        for step in self.steps:
            step.build(input_shape)

    def call(self, images: Any, training: bool = False) -> Any:
        if not training:
            return images
        for step in self.steps:
            images = step(images, training=True)
        return images

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return super().get_config() | {
            "horizontal_flip": self.horizontal_flip,
            "translation": self.translation,
            "rotation": self.rotation,
            "zoom": self.zoom,
            "fill_mode": self.fill_mode,
        }


AUGMENTATION_KEYS = ("horizontal_flip", "translation", "rotation", "zoom", "fill_mode")


def augmentation(settings: Mapping[str, Any] | None, name: str) -> TrainingAugmentation | None:
    """The configured training-only augmentation, or None when every step is off."""
    settings = dict(settings or {})
    unknown = sorted(set(settings) - set(AUGMENTATION_KEYS))
    if unknown:
        raise MultimodalKerasError(
            f"Unknown image augmentation setting(s) {unknown} in "
            f"model.towers.image.augmentation; use only {list(AUGMENTATION_KEYS)}."
        )
    layer = TrainingAugmentation(**settings, name=f"{name}_augmentation")
    return layer if layer.active else None


# What a tower block written before these keys means: as near the tower of then as can be.
TOWER_FALLBACKS = {
    "convs_per_block": 1,
    "pool_until": 1,
    "pooled_dropout": 0.0,
    "backbone_trainable": True,
}


def _setting(tower: Mapping[str, Any], key: str) -> Any:
    """The tower's setting, or its fallback when the key is absent or null."""
    value = tower.get(key)
    return TOWER_FALLBACKS[key] if value is None else value


def conv_blocks(images: keras.KerasTensor, tower: Mapping[str, Any]) -> keras.KerasTensor:
    """Convolution blocks with batch normalisation and pooling, then global average pooling.

    Per ``conv_filters`` entry, ``convs_per_block`` times (convolution without bias, batch
    norm, ReLU), then 2x2 max pooling, left out once the map is ``pool_until`` pixels or
    fewer across, so 8x8 inputs still go through several blocks. Without
    ``batch_norm_momentum``, Keras' default is used.
    """
    # Few steps per epoch (small image sets) need a lower momentum for the moving statistics.
    momentum = tower.get("batch_norm_momentum")
    norm = {} if momentum is None else {"momentum": float(momentum)}
    pool_until = int(_setting(tower, "pool_until"))
    for filters in tower["conv_filters"]:
        for _ in range(int(_setting(tower, "convs_per_block"))):
            # No bias: batch normalisation's offset takes its place.
            images = keras.layers.Conv2D(
                int(filters), int(tower["kernel_size"]), padding="same", use_bias=False
            )(images)
            images = keras.layers.BatchNormalization(**norm)(images)
            images = keras.layers.Activation("relu")(images)
        if min(images.shape[1:3]) > pool_until:
            images = keras.layers.MaxPooling2D(padding="same")(images)
    return keras.layers.GlobalAveragePooling2D()(images)


def backbone_features(images: keras.KerasTensor, tower: Mapping[str, Any]) -> keras.KerasTensor:
    """A ``keras.applications`` model, headless and average-pooled, with its input adapted.

    Images smaller than ``backbone_input_size`` are resized up to it, grey images are
    repeated to three channels, and the [0, 1] pixels are mapped to ``backbone_input_range``
    (0 to 255 for backbones that carry their own preprocessing: MobileNetV3, EfficientNet,
    ConvNeXt; -1 to 1 for MobileNetV2, ResNetV2, Xception).
    """
    name, weights = str(tower["backbone"]), tower.get("backbone_weights")
    application = getattr(keras.applications, name, None)
    if not callable(application) or isinstance(application, type(keras.applications)):
        raise MultimodalKerasError(
            f"Unknown image backbone {name!r} in model.towers.image.backbone; set it to null "
            "for the small CNN or to a keras.applications model name such as "
            "MobileNetV3Small or EfficientNetB0."
        )
    if weights not in (None, "imagenet") and not Path(str(weights)).is_file():
        raise MultimodalKerasError(
            f"No backbone weights file at {weights!r} (model.towers.image.backbone_weights); "
            "give the path of a .weights.h5 file saved from the same headless backbone, "
            "imagenet, or null."
        )
    height, width, channels = images.shape[1:]
    if channels not in (1, BACKBONE_CHANNELS):
        raise MultimodalKerasError(
            f"The image backbone {name} reads 1 or {BACKBONE_CHANNELS} channels but "
            f"image.channels is {channels}; set image.channels to 1 or {BACKBONE_CHANNELS}."
        )
    smallest = int(tower["backbone_input_size"])
    size = (max(height, smallest), max(width, smallest))
    if size != (height, width):
        images = keras.layers.Resizing(*size)(images)
    if channels == 1:
        images = keras.layers.Concatenate()([images] * BACKBONE_CHANNELS)
    low, high = (float(bound) for bound in tower["backbone_input_range"])
    images = keras.layers.Rescaling(high - low, offset=low)(images)
    try:
        backbone = application(
            include_top=False,
            weights=weights,
            input_shape=(*size, BACKBONE_CHANNELS),
            pooling="avg",
        )
    except Exception as error:  # Keras raises a bare Exception when a download fails
        raise MultimodalKerasError(
            f"The image backbone {name} with weights {weights!r} could not be built ({error}); "
            "check model.towers.image.backbone_* (imagenet weights need internet: offline, "
            "give a local weights file path or null)."
        ) from error
    backbone.trainable = bool(_setting(tower, "backbone_trainable"))
    return backbone(images)


def build_tower(
    name: str, preprocessor: ImagePreprocessor, tower: Mapping[str, Any]
) -> tuple[keras.KerasTensor, keras.KerasTensor]:
    """A CNN (or a keras.applications backbone) shared by every image column, then dense layers.

    Per image: rescale to [0, 1], augment while training (``augmentation``), then either
    convolution blocks with batch normalisation and pooling (``conv_blocks``) or, when
    ``backbone`` names one, a ``keras.applications`` model (``backbone_features``); both
    end in global average pooling. The columns' pooled features are concatenated, dropped
    out (``pooled_dropout``) and go through the dense block. Every layer is a built-in
    Keras layer or registered, so the model saves and loads with ``safe_mode`` on.
    """
    size = (preprocessor.height, preprocessor.width, preprocessor.channels)
    inputs = keras.Input(shape=(len(preprocessor.columns), *size), name=name, dtype="uint8")
    image = keras.Input(shape=size, dtype="uint8")
    pixels = keras.layers.Rescaling(1.0 / 255.0)(image)
    augment = augmentation(tower.get("augmentation"), name)
    if augment is not None:
        pixels = augment(pixels)
    if tower.get("backbone"):
        pooled = backbone_features(pixels, tower)
    else:
        pooled = conv_blocks(pixels, tower)
    cnn = keras.Model(image, pooled, name=f"{name}_cnn")
    features = keras.layers.TimeDistributed(cnn, name=f"{name}_cnn_per_column")(inputs)
    flat = keras.layers.Flatten(name=f"{name}_flatten")(features)
    pooled_dropout = float(_setting(tower, "pooled_dropout"))
    if pooled_dropout:
        flat = keras.layers.Dropout(pooled_dropout, name=f"{name}_pooled_dropout")(flat)
    return inputs, dense_block(flat, list(tower["units"]), float(tower["dropout"]), name)


def _header_number(padded: tf.Tensor, offset: int, size: int, big_endian: bool) -> tf.Tensor:
    """The unsigned integer of ``size`` bytes at ``offset`` of a byte string, as int64."""
    octets = tf.cast(tf.io.decode_raw(tf.strings.substr(padded, offset, size), tf.uint8), tf.int64)
    order = range(size - 1, -1, -1) if big_endian else range(size)
    weights = tf.constant([256**power for power in order], tf.int64)
    return tf.reduce_sum(octets * weights)


def declared_pixels(encoded: tf.Tensor) -> tf.Tensor:
    """Width x height as the header of a PNG, JPEG, GIF or BMP declares it, read without
    decoding; -1 for bytes of any other format. TensorFlow reads JPEG headers itself
    (``extract_jpeg_shape``); PNG (IHDR), GIF and BMP headers are read at their fixed offsets.
    """
    padded = tf.strings.join([encoded, tf.constant(b"\0" * PNG_IHDR_END)])

    def starts(prefix: bytes) -> tf.Tensor:
        return tf.equal(tf.strings.substr(padded, 0, len(prefix)), prefix)

    def png() -> tf.Tensor:
        width = _header_number(padded, PNG_WIDTH_AT, 4, True)
        return width * _header_number(padded, PNG_HEIGHT_AT, 4, True)

    def gif() -> tf.Tensor:
        width = _header_number(padded, GIF_WIDTH_AT, 2, False)
        return width * _header_number(padded, GIF_HEIGHT_AT, 2, False)

    def bmp() -> tf.Tensor:
        # A negative (top-down) height is stored as its two's complement.
        height = _header_number(padded, BMP_HEIGHT_AT, 4, False)
        height = tf.where(height >= 2**31, 2**32 - height, height)
        return _header_number(padded, BMP_WIDTH_AT, 4, False) * height

    def jpeg() -> tf.Tensor:
        return tf.reduce_prod(tf.cast(tf.io.extract_jpeg_shape(encoded)[:2], tf.int64))

    return tf.case(
        [
            (starts(PNG_SIGNATURE), png),
            (starts(b"GIF8"), gif),
            (starts(b"BM"), bmp),
            (tf.io.is_jpeg(encoded), jpeg),
        ],
        default=lambda: tf.constant(-1, tf.int64),
    )


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
        self.height, self.width, self.channels = height, width, channels
        self.interpolation, self.max_pixels, self.names = interpolation, max_pixels, names

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


def build_serving_input(
    name: str, preprocessor: ImagePreprocessor
) -> tuple[dict[str, keras.KerasTensor], keras.KerasTensor]:
    """One input of encoded bytes (PNG, JPEG, GIF or BMP) per column, decoded in the graph."""
    inputs = raw_inputs(preprocessor.columns, RAW_DTYPE)
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


def describe(preprocessor: ImagePreprocessor) -> dict[str, Any]:
    """Where images come from and the size they are brought to."""
    return {
        "columns": preprocessor.columns,
        "source": preprocessor.source,
        "size": [preprocessor.height, preprocessor.width, preprocessor.channels],
        "interpolation": preprocessor.interpolation,
    }


is_active = base.is_active
raw_columns = base.raw_columns
# Image cells are bytes or paths, read as they are.
normalise_column = base.unchanged


# The classical baseline (model/baseline.py): each image's pixels averaged down to a few.

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
    return [BaselineBlock(FunctionTransformer(downscaled_cells, kw_args={"size": size}), columns)]


# Synthetic tables (synthetic.py): a shape on a grey background, its colour the signal.


def _png(rng: np.random.Generator, size: int, colour: tuple[int, ...], spec) -> bytes:
    background = int(rng.integers(*spec["background_range"]))
    image = Image.new("RGB", (size, size), (background,) * 3)
    extent = int(rng.integers(size // 3, size // 2 + 1))
    left, top = (int(v) for v in rng.integers(0, size - extent, size=2))
    shape = ImageDraw.Draw(image).ellipse if rng.random() < 0.5 else ImageDraw.Draw(image).rectangle
    shape((left, top, left + extent, top + extent), fill=colour)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def synthetic_column(
    rng: np.random.Generator, column: str, position: int, rows: int, spec: Mapping[str, Any]
) -> tuple[pd.Series, np.ndarray]:
    """PNG bytes of a circle or square of one of ``colours``, each colour with its effect."""
    colours = [tuple(int(c) for c in colour) for colour in spec["colours"]]
    effects = np.asarray(spec["colour_effects"], dtype=float)
    codes = rng.integers(0, len(colours), size=rows)
    images = [_png(rng, int(spec["size"]), colours[code], spec) for code in codes]
    return pd.Series(images, dtype=object), effects[codes]


synthetic_gaps = base.no_synthetic_gaps
synthetic_new_rows = base.synthetic_rows_unchanged
