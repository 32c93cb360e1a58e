"""What an image's header says before it is decoded: its format, its size, whether it is safe.

``checked_bytes`` opens the image with Pillow (validation): an allowed format, a pixel
count within ``max_pixels``, a PNG whose chunks are whole; formats or modes TensorFlow
cannot decode are re-encoded as PNG. ``decodable_bytes`` (the transform) reads a plain
PNG's size from its first 26 bytes instead, and sends anything else through Pillow.
``declared_pixels`` reads the same header fields in TensorFlow, for the serving model.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import tensorflow as tf
from PIL import Image, UnidentifiedImageError

from multimodal_keras.image_formats import PNG_SIGNATURE

if TYPE_CHECKING:
    from multimodal_keras.modalities.image.preprocessor import ImagePreprocessor

# Pillow modes that TensorFlow's PNG, JPEG, GIF and BMP decoders read as they are.
TF_DECODABLE_MODES = {"1", "L", "LA", "P", "RGB", "RGBA"}
TF_DECODABLE_FORMATS = {"PNG", "JPEG", "GIF", "BMP"}
# PNG header fields (PNG spec, IHDR): bit depths, and colour types greyscale, RGB, palette,
# grey+alpha, RGBA.
PNG_IHDR_END = 26
PNG_WIDTH_AT, PNG_HEIGHT_AT = 16, 20  # big-endian 4-byte fields of IHDR
PNG_DEPTH_AT, PNG_COLOUR_AT = 24, 25
PNG_DEPTHS = {1, 2, 4, 8, 16}
PNG_COLOUR_TYPES = {0, 2, 3, 4, 6}
# Little-endian size fields: GIF's logical screen (2 bytes each), BMP's info header (4 each).
GIF_WIDTH_AT, GIF_HEIGHT_AT = 6, 8
BMP_WIDTH_AT, BMP_HEIGHT_AT = 18, 22


def checked_bytes(raw: bytes, preprocessor: ImagePreprocessor) -> bytes:
    """The image's bytes, re-encoded as PNG when TensorFlow could not decode them.

    ``preprocessor`` gives the allowed ``formats`` and ``max_pixels``. Raises
    ``ValueError`` with a short reason when the bytes are not an allowed image.
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


def png_header(raw: bytes) -> tuple[int, int, int, int] | None:
    """Width, height, bit depth and colour type from a PNG's IHDR chunk; None if not a PNG."""
    if len(raw) < PNG_IHDR_END or raw[:8] != PNG_SIGNATURE or raw[12:16] != b"IHDR":
        return None
    return (
        int.from_bytes(raw[PNG_WIDTH_AT : PNG_WIDTH_AT + 4], "big"),
        int.from_bytes(raw[PNG_HEIGHT_AT : PNG_HEIGHT_AT + 4], "big"),
        raw[PNG_DEPTH_AT],
        raw[PNG_COLOUR_AT],
    )


def plain_png_size(raw: bytes, preprocessor: ImagePreprocessor) -> tuple[int, int] | None:
    """(height, width) of a PNG that ``decodable_bytes`` passes on unopened, else None."""
    header = png_header(raw)
    if header is None or "PNG" not in preprocessor.formats:
        return None
    width, height, depth, colour = header
    if depth not in PNG_DEPTHS or colour not in PNG_COLOUR_TYPES:
        return None
    return height, width


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
