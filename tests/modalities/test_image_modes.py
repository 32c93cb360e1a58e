"""Every image mode gives the same pixels in the pipeline and the serving model, or is
refused by both."""

from __future__ import annotations

import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.modalities import image
from tests.modalities.test_serving_inputs import frame, image_options, served, transformed

RNG = np.random.default_rng(0)
RGB = Image.fromarray(RNG.integers(0, 256, (12, 10, 3), dtype=np.uint8), "RGB")


def encoded(picture: Image.Image, image_format: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def animated_gif() -> bytes:
    frames = [
        Image.fromarray(RNG.integers(0, 256, (12, 10, 3), dtype=np.uint8), "RGB").convert("P")
        for _ in range(3)
    ]
    return encoded(frames[0], "GIF", save_all=True, append_images=frames[1:])


def exif_rotated_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 degrees to display
    return encoded(RGB, "JPEG", exif=exif)


def sixteen_bit_png() -> bytes:
    return encoded(Image.fromarray(RNG.integers(0, 65536, (12, 10), dtype=np.uint16)))


CASES = {
    "16-bit grey PNG": sixteen_bit_png(),
    "1-bit PNG": encoded(RGB.convert("1")),
    "palette PNG": encoded(RGB.convert("P")),
    "palette PNG with transparency": encoded(RGB.convert("P"), transparency=0),
    "grey and alpha PNG": encoded(RGB.convert("LA")),
    "RGBA PNG": encoded(RGB.convert("RGBA")),
    "grey JPEG": encoded(RGB.convert("L"), "JPEG"),
    "CMYK JPEG": encoded(RGB.convert("CMYK"), "JPEG"),
    "EXIF-rotated JPEG (both ignore the rotation)": exif_rotated_jpeg(),
    "animated GIF (its first frame)": animated_gif(),
}
# TensorFlow decodes these to three channels only, in the pipeline and the serving model.
THREE_CHANNELS_ONLY = {"CMYK JPEG", "animated GIF (its first frame)"}


@pytest.mark.parametrize(
    ("case", "channels"),
    [(case, 3) for case in sorted(CASES)]
    + [(case, 1) for case in sorted(CASES) if case not in THREE_CHANNELS_ONLY],
)
def test_an_image_mode_gives_the_same_pixels_in_the_pipeline_and_the_serving_model(case, channels):
    rows = frame(front=[CASES[case]])
    preprocessor = image.fit(rows, image_options(10**6) | {"channels": channels})

    np.testing.assert_array_equal(
        served(image, preprocessor, rows), transformed(image, preprocessor, rows)
    )


@pytest.mark.parametrize("case", sorted(THREE_CHANNELS_ONLY))
def test_an_image_tensorflow_reads_in_colour_only_is_refused_by_both_in_one_channel(case):
    rows = frame(front=[CASES[case]])
    preprocessor = image.fit(rows, image_options(10**6) | {"channels": 1})

    with pytest.raises(MultimodalKerasError, match="row 0"):
        transformed(image, preprocessor, rows)
    with pytest.raises(tf.errors.InvalidArgumentError):
        served(image, preprocessor, rows)
