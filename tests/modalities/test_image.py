"""Image columns: bytes or paths under a root, decoded and resized to uint8 tensors."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.modalities import image

SIZE = 8


def options(**overrides):
    return {
        "columns": ["photo"],
        "source": "bytes",
        "root": None,
        "height": SIZE,
        "width": SIZE,
        "channels": 3,
        "interpolation": "bilinear",
        "max_pixels": 89478485,
        "formats": ["PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF"],
        "chunk_size": 2,
    } | overrides


def encode(picture: Image.Image, format: str = "PNG", **save_args) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format=format, **save_args)
    return buffer.getvalue()


def solid(mode: str, colour, size: tuple[int, int] = (20, 14)) -> Image.Image:
    return Image.new(mode, size, colour)


def rows(**columns: list) -> pd.DataFrame:
    length = len(next(iter(columns.values())))
    return pd.DataFrame({"row_id": np.arange(length), **columns})


def transform(cells: list, **overrides) -> np.ndarray:
    preprocessor = image.fit(rows(photo=cells), options(**overrides))
    return np.asarray(image.transform(preprocessor, rows(photo=cells)))


def test_transform_returns_uint8_rows_by_columns_by_height_width_channels():
    front, back = encode(solid("RGB", (255, 0, 0))), encode(solid("RGB", (0, 0, 255)))
    table = rows(front=[front, back, front], back=[back, back, front])
    preprocessor = image.fit(table, options(columns=["front", "back"], height=6, width=10))

    tensors = np.asarray(image.transform(preprocessor, table))

    assert tensors.dtype == np.uint8
    assert tensors.shape == (3, 2, 6, 10, 3)
    assert tensors[1, 0, 0, 0].tolist() == [0, 0, 255]
    assert tensors[2, 1, 0, 0].tolist() == [255, 0, 0]


def test_rows_beyond_one_chunk_are_all_decoded_in_order():
    shades = [10, 60, 110, 160, 210]
    cells = [encode(solid("L", shade)) for shade in shades]

    tensors = transform(cells, chunk_size=2)

    assert tensors[:, 0, 0, 0, 0].tolist() == shades


def test_grayscale_image_is_converted_to_the_configured_channels():
    tensors = transform([encode(solid("L", 90))])

    assert tensors.shape[-1] == 3
    assert np.all(tensors == 90)


def test_rgba_image_loses_its_alpha_channel_for_three_channels():
    tensors = transform([encode(solid("RGBA", (10, 20, 30, 128)))])

    assert tensors[0, 0].reshape(-1, 3).tolist() == [[10, 20, 30]] * SIZE * SIZE


def test_palette_image_is_converted_to_its_colours():
    picture = solid("RGB", (200, 40, 0)).convert("P", palette=Image.Palette.ADAPTIVE, colors=4)

    tensors = transform([encode(picture)])

    assert tensors[0, 0, 3, 3].tolist() == [200, 40, 0]


def test_single_channel_output_turns_colour_into_grey():
    tensors = transform([encode(solid("RGB", (120, 120, 120)))], channels=1)

    assert tensors.shape == (1, 1, SIZE, SIZE, 1)
    assert np.all(tensors == 120)


@pytest.mark.parametrize(
    ("mode", "colour", "format"),
    [("CMYK", (0, 255, 255, 0), "JPEG"), ("RGB", (255, 0, 0), "WEBP"), ("I;16", 0, "PNG")],
)
def test_images_tensorflow_cannot_decode_as_they_are_are_converted(mode, colour, format):
    expected = solid(mode, colour).convert("RGB").getpixel((0, 0))

    tensors = transform([encode(solid(mode, colour), format)])

    assert np.abs(tensors[0, 0, 4, 4].astype(int) - np.asarray(expected)).max() <= 3


def test_jpeg_bytes_are_decoded():
    tensors = transform([encode(solid("RGB", (30, 160, 40)), "JPEG", quality=95)])

    assert tensors.dtype == np.uint8
    assert np.abs(tensors[0, 0].astype(int) - [30, 160, 40]).max() <= 3


def test_larger_images_are_resized_to_the_configured_size():
    picture = solid("RGB", (0, 0, 0), (64, 48))
    picture.paste((255, 255, 255), (32, 0, 64, 48))

    tensors = transform([encode(picture)])

    assert tensors.shape == (1, 1, SIZE, SIZE, 3)
    assert tensors[0, 0, 4, 0, 0] == 0
    assert tensors[0, 0, 4, SIZE - 1, 0] == 255


def test_bytes_that_are_no_image_are_refused_naming_the_row():
    good = encode(solid("RGB", (1, 2, 3)))

    with pytest.raises(MultimodalKerasError, match="row 1: not an image in a format Pillow"):
        transform([good, b"not an image"])


def test_format_not_configured_is_refused():
    with pytest.raises(MultimodalKerasError, match="format BMP"):
        transform([encode(solid("RGB", (1, 2, 3)), "BMP")], formats=["PNG"])


def test_image_with_more_pixels_than_the_limit_is_refused():
    with pytest.raises(MultimodalKerasError, match="exceed the limit"):
        transform([encode(solid("RGB", (1, 2, 3), (20, 20)))], max_pixels=399)


def test_empty_cell_is_refused():
    with pytest.raises(MultimodalKerasError, match="the cell is empty"):
        transform([encode(solid("RGB", (1, 2, 3))), None])


@pytest.fixture
def image_root(tmp_path: Path) -> Path:
    root = tmp_path / "images"
    (root / "cats").mkdir(parents=True)
    (root / "cats" / "grey.png").write_bytes(encode(solid("L", 77)))
    (tmp_path / "outside.png").write_bytes(encode(solid("L", 200)))
    return root


def test_path_cells_are_read_relative_to_the_image_root(image_root):
    tensors = transform(
        ["cats/grey.png", "./cats/../cats/grey.png"], source="path", root=str(image_root)
    )

    assert np.all(tensors == 77)


def test_symlink_that_stays_under_the_root_is_followed(image_root):
    (image_root / "alias.png").symlink_to(image_root / "cats" / "grey.png")

    tensors = transform(["alias.png"], source="path", root=str(image_root))

    assert np.all(tensors == 77)


def test_absolute_path_is_refused_even_inside_the_root(image_root):
    inside = str(image_root / "cats" / "grey.png")

    with pytest.raises(MultimodalKerasError, match="leaves the image root"):
        transform([inside], source="path", root=str(image_root))


def test_parent_directory_path_leaving_the_root_is_refused(image_root):
    with pytest.raises(MultimodalKerasError, match="leaves the image root"):
        transform(["../outside.png"], source="path", root=str(image_root))


def test_symlink_leaving_the_root_is_refused(image_root):
    (image_root / "escape.png").symlink_to(image_root.parent / "outside.png")

    with pytest.raises(MultimodalKerasError, match="leaves the image root"):
        transform(["escape.png"], source="path", root=str(image_root))


def test_symlinked_folder_leaving_the_root_is_refused(image_root):
    (image_root / "elsewhere").symlink_to(image_root.parent, target_is_directory=True)

    with pytest.raises(MultimodalKerasError, match="leaves the image root"):
        transform(["elsewhere/outside.png"], source="path", root=str(image_root))


def test_path_to_a_missing_file_is_refused(image_root):
    with pytest.raises(MultimodalKerasError, match="no file at"):
        transform(["cats/absent.png"], source="path", root=str(image_root))


def test_resolve_path_refuses_leaving_the_root_directly(image_root):
    with pytest.raises(MultimodalKerasError):
        image.resolve_path(str(image_root), "../outside.png")

    assert (
        image.resolve_path(str(image_root), "cats/grey.png")
        == (image_root / "cats" / "grey.png").resolve()
    )


def test_text_in_a_bytes_column_is_refused_with_a_hint_to_use_paths():
    with pytest.raises(MultimodalKerasError, match="image.source"):
        transform(["cats/grey.png"])


AUTO_SHAPE = {"height": "auto", "width": "auto", "channels": "auto", "auto_max_size": 64}


def test_auto_shape_is_the_commonest_training_size_and_one_channel_for_grey_images():
    cells = [encode(solid("L", 90, (28, 28)))] * 3 + [encode(solid("L", 90, (40, 30)))]

    preprocessor = image.fit(rows(photo=cells), options(**AUTO_SHAPE))

    assert (preprocessor.height, preprocessor.width, preprocessor.channels) == (28, 28, 1)
    assert np.asarray(image.transform(preprocessor, rows(photo=cells))).shape == (4, 1, 28, 28, 1)


def test_auto_shape_keeps_three_channels_when_any_sampled_image_has_colour():
    cells = [encode(solid("L", 90, (16, 12))), encode(solid("RGB", (1, 2, 3), (16, 12)))]

    preprocessor = image.fit(rows(photo=cells), options(**AUTO_SHAPE))

    assert (preprocessor.height, preprocessor.width, preprocessor.channels) == (12, 16, 3)


def test_auto_shape_shrinks_large_images_to_the_cap_keeping_their_aspect():
    cells = [encode(solid("RGB", (1, 2, 3), (256, 128)))]

    preprocessor = image.fit(rows(photo=cells), options(**AUTO_SHAPE))

    assert (preprocessor.height, preprocessor.width) == (32, 64)


def test_auto_shape_comes_from_the_training_rows_given_to_fit_only():
    train = [encode(solid("L", 90, (20, 20)))] * 2
    held_out = [encode(solid("RGB", (1, 2, 3), (50, 50)))] * 5

    preprocessor = image.fit(rows(photo=train), options(**AUTO_SHAPE))
    image.transform(preprocessor, rows(photo=held_out))

    assert (preprocessor.height, preprocessor.width, preprocessor.channels) == (20, 20, 1)


def test_auto_shape_with_no_readable_training_image_asks_for_a_size():
    with pytest.raises(MultimodalKerasError, match="set them explicitly"):
        image.fit(rows(photo=[b"not an image", b""]), options(**AUTO_SHAPE))
