"""Each modality's serving input computes, from raw values, what its transform computes.

Raw values are what a serving client sends: strings ("" when missing) for categorical
and text columns, float64 (NaN when missing) for numerical columns, encoded bytes for
images. Equality is exact: the serving layers reuse the fitted artifacts and the same
operations, so nothing may differ, not even in the last bit.
"""

from __future__ import annotations

import io

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from PIL import Image

from multimodal_keras.modalities import categorical, image, numerical, text
from multimodal_keras.modalities.base import ROW_ID
from tests.test_validation import IMAGE_OPTIONS


def served(module, preprocessor, rows: pd.DataFrame) -> np.ndarray:
    """The model input the modality's serving layers compute from the rows' raw values."""
    inputs, output = module.build_serving_input("modality", preprocessor)
    model = keras.Model(inputs, output)
    feed = {}
    for column, tensor in inputs.items():
        if tensor.dtype == "float64":
            feed[column] = rows[column].to_numpy(dtype=np.float64, na_value=np.nan)
        elif rows[column].map(lambda cell: isinstance(cell, bytes)).all():
            feed[column] = np.array(list(rows[column]), dtype=object)
        else:
            feed[column] = rows[column].astype("string").fillna("").to_numpy(dtype=object)
    return keras.ops.convert_to_numpy(model(feed))


def transformed(module, preprocessor, rows: pd.DataFrame) -> np.ndarray:
    """The model input the pipeline computes: ``transform`` then ``model_input``."""
    return module.model_input(module.transform(preprocessor, rows))


def frame(**columns) -> pd.DataFrame:
    rows = pd.DataFrame(columns)
    rows.insert(0, ROW_ID, np.arange(len(rows)))
    return rows


CATEGORICAL_TRAIN = frame(
    colour=["red"] * 6 + ["blue"] * 5 + ["green"] * 2 + [None] * 4 + ["teal"],
    size=["S", "M", "L"] * 6,
)
CATEGORICAL_NEW = frame(
    colour=["red", "teal", "purple", None, "", "green", "blue", "<missing>"],
    size=["XL", "S", "", None, "M", "L", "S", "M"],
)


@pytest.mark.parametrize("encoding", ["one_hot", "embedding", "auto"])
@pytest.mark.parametrize("min_frequency", [None, 3])
@pytest.mark.parametrize("unseen", ["rare", "own"])
def test_categorical_serving_encodes_known_rare_unseen_missing_and_empty_as_transform(
    encoding, min_frequency, unseen
):
    options = {
        "columns": ["colour", "size"],
        "encoding": encoding,
        "min_frequency": min_frequency,
        "unseen": unseen,
        "missing_token": "<missing>",
        # auto: size (3 categories) is one-hot, colour (up to 5) an embedding index.
        "one_hot_max_categories": 3,
    }
    preprocessor = categorical.fit(CATEGORICAL_TRAIN, options)
    expected = transformed(categorical, preprocessor, CATEGORICAL_NEW)
    result = served(categorical, preprocessor, CATEGORICAL_NEW)
    assert result.dtype == expected.dtype
    np.testing.assert_array_equal(result, expected)


def test_an_empty_categorical_string_encodes_as_a_missing_value():
    options = {"columns": ["colour"], "encoding": "one_hot", "missing_token": "<missing>"}
    preprocessor = categorical.fit(CATEGORICAL_TRAIN, options)
    encoded = transformed(categorical, preprocessor, frame(colour=["", None]))
    np.testing.assert_array_equal(encoded[0], encoded[1])


NUMERICAL_TRAIN = frame(
    price=[10.0, np.nan, 12.5, 1e6, -3.25, 7.0, np.nan, 0.1],
    rating=[4.5, 3.0, 2.0, 5.0, 1.0, 3.3333333333333335, 4.0, 2.5],
    empty=[np.nan] * 8,
)
NUMERICAL_NEW = frame(
    price=[np.nan, 0.0, -1e9, 123.456789012345, 1e-300, 10.0],
    rating=[np.nan, 2.2, 7.7, np.nan, 3.0, 1e12],
    empty=[np.nan, 1.0, np.nan, -5.0, np.nan, 0.0],
)


@pytest.mark.parametrize("scaling", sorted(numerical.SCALERS))
@pytest.mark.parametrize("imputation", ["mean", "median", "most_frequent"])
@pytest.mark.parametrize("indicator", [True, False])
def test_numerical_serving_imputes_and_scales_bit_for_bit_as_transform(
    scaling, imputation, indicator
):
    options = {
        "columns": ["price", "rating", "empty"],
        "imputation": imputation,
        "add_missing_indicator": indicator,
        "scaling": scaling,
    }
    preprocessor = numerical.fit(NUMERICAL_TRAIN, options)
    expected = transformed(numerical, preprocessor, NUMERICAL_NEW)
    result = served(numerical, preprocessor, NUMERICAL_NEW)
    assert result.dtype == expected.dtype == np.float32
    np.testing.assert_array_equal(result, expected)


TEXT_TRAIN = frame(
    title=["Hello, world!", "A lovely café", "hello AGAIN world", None, "Stops... here?!"],
    body=["Tabs\tand\nnew lines", "", "world world world", "Ünïcödé words", "lovely"],
)
TEXT_NEW = frame(
    title=["HELLO, World!!", "", None, "  spaced   out  ", "café ÜNÏCÖDÉ", "never seen tokens"],
    body=["new\tlines\nhere", "hello", "", None, "world... lovely!", "a b c d e f g h i j k"],
)


@pytest.mark.parametrize(
    "standardize",
    [
        "lower_and_split_punctuation",
        "lower_and_strip_punctuation",
        "lower",
        "strip_punctuation",
        None,
    ],
)
@pytest.mark.parametrize("ngrams", [None, 2])
@pytest.mark.parametrize("length", [6, "auto"])
@pytest.mark.parametrize("characters_per_id", [2, 64])
def test_text_serving_tokenises_as_transform(standardize, ngrams, length, characters_per_id):
    options = {
        "columns": ["title", "body"],
        "max_tokens": 50,
        "sequence_length": length,
        "length_percentile": 50,
        "min_sequence_length": 1,
        "max_sequence_length": 8,
        "standardize": standardize,
        "split": "whitespace",
        "ngrams": ngrams,
        "characters_per_id": characters_per_id,
        "batch_size": 4,
    }
    preprocessor = text.fit(TEXT_TRAIN, options)
    expected = transformed(text, preprocessor, TEXT_NEW)
    result = served(text, preprocessor, TEXT_NEW)
    assert result.dtype == expected.dtype == np.int32
    np.testing.assert_array_equal(result, expected)


def encoded_image(size: tuple[int, int], mode: str, image_format: str, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(size[1], size[0], 4), dtype=np.uint8)
    picture = Image.fromarray(pixels, "RGBA").convert(mode)
    buffer = io.BytesIO()
    picture.save(buffer, format=image_format)
    return buffer.getvalue()


IMAGES = frame(
    front=[
        encoded_image((31, 17), "RGB", "PNG", 0),
        encoded_image((5, 6), "L", "PNG", 1),
        encoded_image((40, 40), "RGBA", "PNG", 2),
        encoded_image((23, 29), "P", "GIF", 3),
        encoded_image((64, 48), "RGB", "JPEG", 4),
        encoded_image((9, 7), "RGB", "BMP", 5),
    ],
    back=[encoded_image((12, 12), "LA", "PNG", 6 + index) for index in range(6)],
)
GIF_AND_BMP_ROWS = [3, 5]


@pytest.mark.parametrize("interpolation", ["bilinear", "bicubic", "nearest", "area", "lanczos3"])
@pytest.mark.parametrize("channels", [1, 3])
def test_image_serving_decodes_and_resizes_as_transform(interpolation, channels):
    options = {
        "columns": ["front", "back"],
        "source": "bytes",
        "root": None,
        "height": 9,
        "width": 13,
        "channels": channels,
        "interpolation": interpolation,
        "max_pixels": 1_000_000,
        "formats": ["PNG", "JPEG", "GIF", "BMP"],
        "chunk_size": 4,
    }
    # TensorFlow decodes GIF and BMP to three or four channels only, here as in the pipeline.
    rows = IMAGES if channels == 3 else IMAGES.drop(index=GIF_AND_BMP_ROWS)
    preprocessor = image.fit(rows, options)
    expected = transformed(image, preprocessor, rows)
    result = served(image, preprocessor, rows)
    assert result.dtype == expected.dtype == np.uint8
    np.testing.assert_array_equal(result, expected)


def test_a_16_bit_grey_png_gives_the_same_pixels_in_the_pipeline_and_the_serving_model():
    values = np.array([[0, 40000], [65535, 257]], dtype=np.uint16)
    buffer = io.BytesIO()
    Image.fromarray(values).save(buffer, format="PNG")
    rows = frame(front=[buffer.getvalue()])
    options = image_options(max_pixels=100) | {"height": 2, "width": 2, "channels": 1}
    preprocessor = image.fit(rows, options)

    expected = transformed(image, preprocessor, rows)
    result = served(image, preprocessor, rows)

    # Scaled to 8 bits (40000 / 257 is 155.6), not clipped at 255.
    assert expected[0, 0, :, :, 0].tolist() == [[0, 156], [255, 1]]
    np.testing.assert_array_equal(result, expected)


def image_options(max_pixels: int) -> dict:
    return IMAGE_OPTIONS | {
        "columns": ["front"],
        "max_pixels": max_pixels,
        "formats": ["PNG", "JPEG", "GIF", "BMP"],
    }


@pytest.mark.parametrize(
    ("size", "image_format"),
    [((31, 17), "PNG"), ((64, 48), "JPEG"), ((23, 29), "GIF"), ((9, 7), "BMP")],
)
def test_the_serving_graph_reads_each_formats_size_from_its_header(size, image_format):
    mode = "P" if image_format == "GIF" else "RGB"
    encoded = encoded_image(size, mode, image_format, 0)

    pixels = image.declared_pixels(tf.constant(encoded))

    assert int(pixels) == size[0] * size[1]


def test_an_image_declaring_too_many_pixels_is_refused_by_the_serving_graph_naming_it():
    bomb = frame(front=[encoded_image((40, 30), "RGB", "PNG", 0)])
    preprocessor = image.fit(bomb, image_options(max_pixels=1000))

    with pytest.raises(tf.errors.InvalidArgumentError, match="`front` holds an image of more"):
        served(image, preprocessor, bomb)


def test_bytes_that_are_no_image_are_refused_by_the_serving_graph_naming_the_input():
    rows = frame(front=[encoded_image((8, 8), "RGB", "PNG", 0)])
    preprocessor = image.fit(rows, image_options(max_pixels=1000))

    with pytest.raises(tf.errors.InvalidArgumentError, match="`front` holds bytes that are not"):
        served(image, preprocessor, frame(front=[b"plain text, not an image"]))
