"""Every way a table can be unusable gets one exact, actionable message; usable rows survive."""

from __future__ import annotations

import io
import logging

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.splitting import assign_splits
from multimodal_keras.validation import validate, with_row_ids

IMAGE_OPTIONS = {
    "source": "bytes",
    "root": None,
    "height": 8,
    "width": 8,
    "channels": 3,
    "interpolation": "bilinear",
    "max_pixels": 10_000,
    "formats": ["PNG", "JPEG"],
    "chunk_size": 4,
}


def png(mode: str = "RGB", size: tuple[int, int] = (8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size).save(buffer, format="PNG")
    return buffer.getvalue()


def modalities(**columns: list[str]) -> dict[str, dict]:
    options = {
        name: {"columns": columns.get(name, [])}
        for name in ("categorical", "numerical", "text", "image")
    }
    options["image"].update(IMAGE_OPTIONS)
    return options


def table(rows: int = 6, **extra) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "colour": ["red", "blue"] * (rows // 2),
            "size": np.arange(rows, dtype=float),
            "label": [0, 1] * (rows // 2),
        }
    )
    for name, values in extra.items():
        frame[name] = values
    return frame


TABULAR = modalities(categorical=["colour"], numerical=["size"])

ERROR_CASES = [
    (
        "missing column",
        table(),
        {"target": "label"},
        modalities(categorical=["colour", "shape"], numerical=["size"]),
        "The raw table lacks the configured column(s) 'shape' (categorical); its columns are "
        "['colour', 'size', 'label']. Fix the column names in conf/ (parameters) or in the table.",
    ),
    (
        "empty table",
        table(0),
        {"target": "label"},
        TABULAR,
        "The raw table has no rows; point it in the catalog at a table with data.",
    ),
    (
        "duplicate column names",
        pd.concat([table(), table()[["size"]]], axis=1),
        {"target": "label"},
        TABULAR,
        "The raw table has duplicate column names ['size']; rename them so that each column "
        "name is unique.",
    ),
    (
        "target all missing",
        table(label=[None] * 6),
        {"target": "label"},
        TABULAR,
        "The target column 'label' is empty in every row; point table.target at the column "
        "that holds the labels.",
    ),
    (
        "target with one class",
        table(label=[1] * 6),
        {"target": "label"},
        TABULAR,
        "The target column 'label' has one value only (1); a model needs at least two "
        "classes, or varying values for regression: check table.target.",
    ),
    (
        "missing target as an error",
        table(label=[0, None, 1, None, 0, 1]),
        {"target": "label", "missing_target": "error"},
        TABULAR,
        "2 row(s) have no value in target column 'label' (row ids [1, 3]...); fill them, or set "
        "table.missing_target to 'drop'.",
    ),
    (
        "non-numeric strings in a numerical column",
        table(size=["1", "two", "3", "4", "five", None]),
        {"target": "label"},
        TABULAR,
        "2 row(s) have numerical values that cannot be used (row 1: size='two' is not a finite "
        "number; row 4: size='five' is not a finite number); fix them, or set "
        "numerical.invalid_rows to 'drop' to leave such rows out.",
    ),
    (
        "a feature that is also the target",
        table(),
        {"target": "label"},
        modalities(categorical=["colour", "label"]),
        "Column 'label' is configured as a categorical feature and as the target; remove it from "
        "categorical.columns.",
    ),
    (
        "a column under two modalities",
        table(),
        {"target": "label"},
        modalities(categorical=["size"], numerical=["size"]),
        "Column 'size' is configured under both categorical and numerical; keep it under one "
        "modality.",
    ),
    (
        "no feature columns",
        table(),
        {"target": "label"},
        modalities(),
        "No feature columns are configured; list columns under at least one of categorical, "
        "numerical, text, image in conf/base/parameters_features.yml.",
    ),
    (
        "an undecodable image",
        table(photo=[png(), b"not an image", png(), png(), png(), png()]),
        {"target": "label"},
        modalities(numerical=["size"], image=["photo"]),
        "1 row(s) have image values that cannot be used (row 1: photo: not an image in a format "
        "Pillow recognises); fix them, or set image.invalid_rows to 'drop' to leave such rows out.",
    ),
    (
        "a decompression bomb",
        table(photo=[png(), png(size=(200, 200)), png(), png(), png(), png()]),
        {"target": "label"},
        modalities(numerical=["size"], image=["photo"]),
        "1 row(s) have image values that cannot be used (row 1: photo: 200x200 pixels exceed the "
        "limit of 10000); fix them, or set image.invalid_rows to 'drop' to leave such rows out.",
    ),
    (
        "an empty image cell",
        table(photo=[png(), None, png(), png(), png(), png()]),
        {"target": "label"},
        modalities(numerical=["size"], image=["photo"]),
        "1 row(s) have image values that cannot be used (row 1: photo: the cell is empty); fix "
        "them, or set image.invalid_rows to 'drop' to leave such rows out.",
    ),
]


@pytest.mark.parametrize(
    ("raw", "table_params", "options", "message"),
    [case[1:] for case in ERROR_CASES],
    ids=[case[0] for case in ERROR_CASES],
)
def test_unusable_table_stops_with_one_exact_message(raw, table_params, options, message):
    with pytest.raises(MultimodalKerasError) as raised:
        validate(raw, table_params, None, options)
    assert str(raised.value) == message


def test_rows_without_target_are_dropped_and_counted(caplog):
    raw = table(label=[0, None, 1, None, 0, 1])
    with caplog.at_level(logging.WARNING):
        primary = validate(raw, {"target": "label"}, None, TABULAR)
    assert primary["row_id"].tolist() == [0, 2, 4, 5]
    assert "Dropped 2 of 6 rows with no value in target column 'label'." in caplog.text


def test_non_numeric_rows_are_dropped_when_configured(caplog):
    options = modalities(categorical=["colour"], numerical=["size"])
    options["numerical"]["invalid_rows"] = "drop"
    raw = table(size=["1", "two", "3", "4", "5", None])
    with caplog.at_level(logging.WARNING):
        primary = validate(raw, {"target": "label"}, None, options)
    assert primary["row_id"].tolist() == [0, 2, 3, 4, 5]
    assert primary["size"].dtype == np.float64
    assert "Dropped 1 of 6 rows with unusable numerical values" in caplog.text


def test_mixed_type_categorical_column_is_read_as_strings(caplog):
    raw = table(colour=["red", 1, "red", 2.5, "blue", "blue"])
    with caplog.at_level(logging.WARNING):
        primary = validate(raw, {"target": "label"}, None, TABULAR)
    assert primary["colour"].tolist() == ["red", "1", "red", "2.5", "blue", "blue"]
    assert "Column 'colour' mixes value types (float, int, str)" in caplog.text


def test_bad_images_are_dropped_and_counted_when_configured(caplog):
    options = modalities(numerical=["size"], image=["photo"])
    options["image"]["invalid_rows"] = "drop"
    truncated = png()[:-20]  # its last chunk cut: the header reads fine, the data does not
    raw = table(photo=[png(), b"junk", png("L"), png("RGBA"), truncated, b"\x89PNG\r\n\x1a\n"])
    with caplog.at_level(logging.WARNING):
        primary = validate(raw, {"target": "label"}, None, options)
    assert primary["row_id"].tolist() == [0, 2, 3]
    assert "Dropped 3 of 6 rows with unusable image values" in caplog.text


def test_group_column_with_too_few_groups_stops_the_split():
    raw = table(rows=6, group=["a", "a", "a", "b", "b", "b"])
    with pytest.raises(MultimodalKerasError) as raised:
        assign_splits(raw.index.to_series(), 0.2, 0.2, 0, groups=raw["group"])
    assert str(raised.value) == (
        "With 2 groups, split.test_fraction 0.2 and split.validation_fraction 0.2, the train "
        "split would be empty; these fractions need at least 3 groups, so add rows or change "
        "the fractions."
    )


def test_image_paths_that_are_missing_not_images_or_outside_the_root_are_listed(tmp_path):
    root, outside = tmp_path / "images", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "good.png").write_bytes(png())
    (root / "notes.png").write_text("not an image")
    (outside / "secret.png").write_bytes(png())
    (root / "link.png").symlink_to(outside / "secret.png")
    options = modalities(numerical=["size"], image=["photo"])
    options["image"].update(source="path", root=str(root))
    cells = [
        "good.png",
        "absent.png",
        "notes.png",
        "../outside/secret.png",
        "link.png",
        str(outside / "secret.png"),
    ]
    with pytest.raises(MultimodalKerasError) as raised:
        validate(table(photo=cells), {"target": "label"}, None, options)
    message = str(raised.value)
    assert message.startswith(
        "5 row(s) have image values that cannot be used (row 1: photo: no "
        f"file at {root / 'absent.png'}; row 2: photo: not an image in a "
        "format Pillow recognises; row 3: photo: Image path "
    )
    for row in (3, 4, 5):
        assert f"row {row}: photo: Image path" in message
    assert "leaves the image root" in message
    assert "row 0" not in message


def test_id_column_becomes_the_row_id_and_must_be_unique():
    assert with_row_ids(table(listing=list("uvwxyz")), "listing")["row_id"].tolist() == list(
        "uvwxyz"
    )
    with pytest.raises(MultimodalKerasError, match="must be unique"):
        with_row_ids(table(listing=list("uuwxyz")), "listing")


def test_table_with_its_own_row_id_column_is_refused_unless_it_is_the_id_column():
    with pytest.raises(MultimodalKerasError, match="already has a column named 'row_id'"):
        with_row_ids(table(row_id=range(6)), None)
    assert with_row_ids(table(row_id=range(9, 3, -1)), "row_id")["row_id"].tolist() == [
        9,
        8,
        7,
        6,
        5,
        4,
    ]


@pytest.mark.parametrize("source", ["bytes", "path"])
def test_a_marker_in_an_image_column_is_no_image_as_an_empty_cell_is(tmp_path, source):
    (tmp_path / "photo.png").write_bytes(png())
    options = modalities(numerical=["size"], image=["photo"])
    options["image"].update(source=source, root=str(tmp_path))
    cell = png() if source == "bytes" else "photo.png"
    messages = []
    for missing in (None, b" ? " if source == "bytes" else " ? "):
        with pytest.raises(MultimodalKerasError) as raised:
            validate(
                table(photo=[cell, missing, cell, cell, cell, cell]),
                {"target": "label"},
                None,
                options,
                markers={"photo": ["?"]},
            )
        messages.append(str(raised.value))
    assert messages[0] == messages[1]
    assert "row 1: photo: the cell is empty" in messages[1]


def test_a_marker_in_the_target_is_a_missing_target():
    raw = table(label=[0, "?", 1, 0, 1, 1])
    primary = validate(raw, {"target": "label"}, None, TABULAR, markers={"label": ["?"]})
    assert primary["row_id"].tolist() == [0, 2, 3, 4, 5]


@pytest.mark.parametrize("column", ["colour", "label"])
def test_integers_beyond_64_bits_stop_with_the_column_and_what_to_do(column):
    raw = table()
    raw[column] = pd.Series([2**70, 1] * 3, dtype=object)  # as a JSON or Python source gives
    with pytest.raises(MultimodalKerasError) as raised:
        validate(raw, {"target": "label"}, None, TABULAR)
    assert str(raised.value) == (
        f"Column {column!r} of the raw table holds integers beyond 64 bits (such as "
        f"{2**70}), which a table column cannot store; store them as text (quoted in a CSV "
        "file, a string column in Parquet)."
    )
