"""The image transform streams: pixels chunk by chunk, checked from headers, errors by row."""

from __future__ import annotations

import copy
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from kedro.io import MemoryDataset
from PIL import Image

from multimodal_keras.chunked import ChunkedArray
from multimodal_keras.datasets import NumpyDataset
from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.modalities import image
from multimodal_keras.modalities.image import headers

OPTIONS = {
    "columns": ["front", "back"],
    "source": "bytes",
    "root": None,
    "height": 6,
    "width": 5,
    "channels": 3,
    "interpolation": "bilinear",
    "max_pixels": 10_000,
    "formats": ["PNG", "JPEG"],
    "chunk_size": 3,
}


def png(shade: int, size: tuple[int, int] = (9, 7)) -> bytes:
    buffer = io.BytesIO()
    picture = Image.new("RGB", size, (shade, shade, shade))
    picture.putpixel((0, 0), (255, 0, 0))
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def table(rows: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row_id": np.arange(100, 100 + rows),
            "front": [png(10 * row) for row in range(rows)],
            "back": [png(250 - 10 * row) for row in range(rows)],
        }
    )


def expected(rows: pd.DataFrame) -> np.ndarray:
    """Each image decoded alone with the function the serving model uses."""

    def decoded(cell: bytes) -> np.ndarray:
        return image.decode_and_resize(tf.constant(cell), 6, 5, 3, "bilinear").numpy()

    return np.stack(
        [np.stack([decoded(rows[c].iloc[r]) for c in OPTIONS["columns"]]) for r in range(len(rows))]
    )


def test_transform_is_a_chunked_array_of_every_row_and_column_in_order():
    rows = table(8)
    preprocessor = image.fit(rows, OPTIONS)

    pixels = image.transform(preprocessor, rows)

    assert isinstance(pixels, ChunkedArray)
    assert pixels.shape == (8, 2, 6, 5, 3) and pixels.dtype == np.uint8
    assert [len(chunk) for chunk in pixels.chunks()] == [3, 3, 2]
    np.testing.assert_array_equal(np.asarray(pixels), expected(rows))


def test_saved_pixels_equal_the_pixels_decoded_one_by_one(tmp_path: Path):
    rows = table(7)
    dataset = NumpyDataset(filepath=str(tmp_path / "image_tensors.npy"))

    dataset.save(image.transform(image.fit(rows, OPTIONS), rows))

    np.testing.assert_array_equal(dataset.load(), expected(rows))


def test_memory_dataset_passes_the_pixels_on_to_in_memory_consumers():
    rows = table(4)
    dataset = MemoryDataset()

    dataset.save(image.transform(image.fit(rows, OPTIONS), rows))

    np.testing.assert_array_equal(image.model_input(dataset.load()), expected(rows))


def test_plain_png_is_checked_from_its_header_without_opening_it(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("Pillow opened a plain 8-bit PNG")

    preprocessor = image.fit(table(0), OPTIONS)
    monkeypatch.setattr(Image, "open", refuse)

    assert image.decodable_bytes(png(40), preprocessor) == png(40)


def test_header_check_enforces_the_pixel_limit():
    preprocessor = image.fit(table(0), {**OPTIONS, "max_pixels": 62})

    with pytest.raises(ValueError, match="9x7 pixels exceed the limit of 62"):
        image.decodable_bytes(png(40), preprocessor)


def test_a_16_bit_png_goes_to_tensorflow_as_it_is_not_through_pillow():
    buffer = io.BytesIO()
    Image.new("I;16", (4, 4), 4000).save(buffer, format="PNG")
    sixteen_bit = buffer.getvalue()
    preprocessor = image.fit(table(0), OPTIONS)

    passed = image.decodable_bytes(sixteen_bit, preprocessor)

    # Pillow's conversion would clip 4000 to 255; TensorFlow scales it to 16, as the
    # serving model's decoder does.
    assert passed == sixteen_bit
    assert headers.png_header(sixteen_bit)[2] == 16


def test_unreadable_image_stops_the_transform_at_once_naming_its_row():
    rows = table(5)
    rows.loc[3, "back"] = b"not an image"

    with pytest.raises(MultimodalKerasError, match=r"'back' has 1 unreadable image.*\(row 103:"):
        image.transform(image.fit(rows, OPTIONS), rows)


def test_image_tensorflow_fails_to_decode_is_reported_by_row_and_keeps_the_old_file(
    tmp_path: Path,
):
    rows = table(8)
    dataset = NumpyDataset(filepath=str(tmp_path / "image_tensors.npy"))
    dataset.save(np.zeros((1,), dtype=np.uint8))
    before = (tmp_path / "image_tensors.npy").read_bytes()
    # The header is intact, so the checks pass; the pixel data is cut off.
    rows.loc[7, "front"] = rows.loc[7, "front"][:45]

    pixels = image.transform(image.fit(rows, OPTIONS), rows)
    with pytest.raises(MultimodalKerasError, match="row 107: TensorFlow cannot decode it"):
        dataset.save(copy.deepcopy(pixels))

    assert (tmp_path / "image_tensors.npy").read_bytes() == before
    assert sorted(tmp_path.iterdir()) == [tmp_path / "image_tensors.npy"]


def test_no_image_columns_make_an_empty_block_per_row():
    rows = table(3)
    preprocessor = image.fit(rows, {**OPTIONS, "columns": []})

    assert np.asarray(image.transform(preprocessor, rows)).shape == (3, 0, 6, 5, 3)


@pytest.mark.parametrize("interpolation", ["bilinear", "bicubic", "area", "lanczos3", "gaussian"])
@pytest.mark.parametrize("size", [(7, 9), (4, 5), (12, 3)])
def test_decoding_skips_no_resize_that_would_change_a_pixel(interpolation, size):
    pixels = np.random.default_rng(1).integers(0, 256, (7, 9, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    decoded = tf.io.decode_png(buffer.getvalue(), channels=3)
    resized = tf.image.resize(tf.cast(decoded, tf.float32), size, interpolation, antialias=True)
    always_resized = tf.cast(tf.clip_by_value(tf.round(resized), 0.0, 255.0), tf.uint8)

    got = image.decode_and_resize(tf.constant(buffer.getvalue()), *size, 3, interpolation)

    np.testing.assert_array_equal(got.numpy(), always_resized.numpy())


def at_size_column() -> pd.DataFrame:
    cells = []
    for mode, colour in [("RGB", (9, 99, 199)), ("L", 77), ("RGBA", (1, 2, 3, 4)), ("LA", (5, 6))]:
        buffer = io.BytesIO()
        picture = Image.new(mode, (5, 6), colour)
        picture.putpixel((1, 2), (255,) * len(mode) if len(mode) > 1 else 255)
        picture.save(buffer, format="PNG")
        cells.append(buffer.getvalue())
    buffer = io.BytesIO()
    Image.new("RGB", (5, 6), (40, 50, 60)).convert("P").save(buffer, format="PNG")
    cells.append(buffer.getvalue())
    return pd.DataFrame({"row_id": np.arange(len(cells)), "front": cells, "back": cells[::-1]})


def test_plain_pngs_already_at_size_are_decoded_to_the_same_pixels_without_resizing():
    rows = at_size_column()
    preprocessor = image.fit(rows, OPTIONS)

    assert image.check_images(rows, preprocessor)
    np.testing.assert_array_equal(np.asarray(image.transform(preprocessor, rows)), expected(rows))


def test_images_of_another_size_or_a_blurring_interpolation_take_the_general_path():
    rows = at_size_column()

    assert not image.check_images(rows, image.fit(rows, {**OPTIONS, "height": 7}))
    assert not image.check_images(rows, image.fit(rows, {**OPTIONS, "interpolation": "gaussian"}))
