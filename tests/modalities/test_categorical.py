"""Categorical columns: one-hot and embedding encodings fitted on training rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from multimodal_keras.modalities import categorical

MISSING = "<missing>"


def options(
    encoding: str = "one_hot",
    min_frequency: int | None = None,
    columns=("colour",),
    unseen: str = "rare",
):
    return {
        "columns": list(columns),
        "encoding": encoding,
        "min_frequency": min_frequency,
        "unseen": unseen,
        "missing_token": MISSING,
    }


def rows(values: dict[str, list]) -> pd.DataFrame:
    length = len(next(iter(values.values())))
    return pd.DataFrame({"row_id": np.arange(100, 100 + length), **values})


TRAIN = rows({"colour": ["red"] * 6 + ["blue"] * 5 + ["green"]})


@pytest.mark.parametrize(("min_frequency", "unseen"), [(None, "rare"), (2, "own"), (None, "own")])
def test_category_unseen_in_training_is_encoded_as_all_zero_one_hot(min_frequency, unseen):
    """Where there are no rare categories to read it as, or ``unseen: own`` says so."""
    preprocessor = categorical.fit(TRAIN, options(min_frequency=min_frequency, unseen=unseen))

    encoded = categorical.transform(preprocessor, rows({"colour": ["purple", "red"]}))

    values = categorical.model_input(encoded)
    assert values[0].tolist() == [0.0] * len(preprocessor.output_names)
    assert values[1].sum() == 1.0


@pytest.mark.parametrize("encoding", ["one_hot", "embedding", "auto"])
def test_a_category_unseen_in_training_reads_as_the_rare_ones(encoding):
    preprocessor = categorical.fit(
        TRAIN, options(encoding, min_frequency=2) | {"one_hot_max_categories": 1}
    )

    encoded = categorical.transform(preprocessor, rows({"colour": ["purple", "green", "red"]}))

    values = categorical.model_input(encoded)
    # purple (never seen) is encoded exactly as green (seen once, so rare), not as red.
    assert values[0].tolist() == values[1].tolist()
    assert values[0].tolist() != values[2].tolist()
    if encoding != "one_hot":
        # The rare slot is one that training rows reach, not the never-trained unseen slot.
        train_indices = categorical.model_input(categorical.transform(preprocessor, TRAIN))
        assert values[0, 0] in set(train_indices[:, 0].tolist())
        assert values[0, 0] != 0


@pytest.mark.parametrize("encoding", ["embedding", "auto"])
def test_unseen_own_keeps_the_unseen_slot_beside_the_rare_one(encoding):
    preprocessor = categorical.fit(
        TRAIN, options(encoding, min_frequency=2, unseen="own") | {"one_hot_max_categories": 1}
    )

    encoded = categorical.transform(preprocessor, rows({"colour": ["purple", "green"]}))

    assert categorical.model_input(encoded)[:, 0].tolist() == [0, 3]


def test_rare_training_categories_share_one_one_hot_column():
    preprocessor = categorical.fit(TRAIN, options(min_frequency=2))

    assert preprocessor.output_names == ["colour_blue", "colour_red", "colour_infrequent_sklearn"]
    encoded = categorical.transform(preprocessor, rows({"colour": ["green", "blue", "red"]}))
    assert categorical.model_input(encoded).tolist() == [[0, 0, 1], [1, 0, 0], [0, 1, 0]]


def test_without_min_frequency_every_training_category_keeps_its_column():
    preprocessor = categorical.fit(TRAIN, options(min_frequency=None))

    assert preprocessor.output_names == ["colour_blue", "colour_green", "colour_red"]


def test_missing_values_are_their_own_category():
    train = rows({"colour": ["red", None, "blue", np.nan, "red"]})
    preprocessor = categorical.fit(train, options())

    assert f"colour_{MISSING}" in preprocessor.output_names
    encoded = categorical.transform(preprocessor, rows({"colour": [None, "red"]}))
    missing_column = preprocessor.output_names.index(f"colour_{MISSING}")
    assert categorical.model_input(encoded)[:, missing_column].tolist() == [1.0, 0.0]


def test_transform_keeps_row_ids_and_order():
    preprocessor = categorical.fit(TRAIN, options())
    new_rows = pd.DataFrame({"row_id": [7, 3, 5], "colour": ["blue", "red", "blue"]})

    encoded = categorical.transform(preprocessor, new_rows)

    assert encoded["row_id"].tolist() == [7, 3, 5]
    assert encoded["colour_blue"].tolist() == [1.0, 0.0, 1.0]


def test_category_unseen_in_training_gets_index_zero_of_its_columns_embedding_block():
    train = rows({"colour": ["red", "blue", "red"], "size": ["s", "m", "l"]})
    preprocessor = categorical.fit(train, options("embedding", columns=("colour", "size")))

    encoded = categorical.transform(
        preprocessor, rows({"colour": ["purple", "red"], "size": ["xxl", "m"]})
    )

    indices = categorical.model_input(encoded)
    assert indices.dtype == np.int32
    # colour has slots 0 (unseen), blue, red; size starts at 3 with 0 (unseen), l, m, s.
    assert preprocessor.offsets == [0, 3]
    assert preprocessor.table_size == 7
    assert indices.tolist() == [[0, 3], [2, 5]]


def test_embedding_indices_of_seen_categories_are_never_the_unseen_slot():
    preprocessor = categorical.fit(TRAIN, options("embedding", min_frequency=2))

    encoded = categorical.transform(preprocessor, TRAIN)

    indices = categorical.model_input(encoded)
    assert indices.min() >= 1
    assert indices.max() < preprocessor.table_size


def test_rare_training_categories_share_one_embedding_index():
    train = rows({"colour": ["red"] * 6 + ["blue"] * 5 + ["green", "pink"]})
    preprocessor = categorical.fit(train, options("embedding", min_frequency=2))

    encoded = categorical.transform(preprocessor, rows({"colour": ["green", "pink", "blue"]}))

    indices = categorical.model_input(encoded)[:, 0]
    assert indices[0] == indices[1]
    assert indices[0] != indices[2]
    # Unseen slot, blue, red, and the one shared slot of the rare categories.
    assert preprocessor.table_size == 4


def test_missing_values_in_embedding_get_their_own_index():
    train = rows({"colour": ["red", None, "blue"]})
    preprocessor = categorical.fit(train, options("embedding"))

    encoded = categorical.transform(preprocessor, rows({"colour": [None, "red", "blue"]}))

    assert len(set(categorical.model_input(encoded)[:, 0].tolist())) == 3
    assert 0 not in categorical.model_input(encoded)


def test_no_configured_columns_encodes_to_no_features():
    preprocessor = categorical.fit(TRAIN, options(columns=()))

    encoded = categorical.transform(preprocessor, TRAIN)

    assert list(encoded.columns) == ["row_id"]
    assert len(encoded) == len(TRAIN)


def test_auto_encoding_one_hot_encodes_few_categories_and_indexes_many():
    train = pd.DataFrame(
        {"row_id": range(8), "size": ["S", "M"] * 4, "shop": [f"shop{i}" for i in range(8)]}
    )
    options = {
        "columns": ["size", "shop"],
        "encoding": "auto",
        "min_frequency": None,
        "missing_token": "<missing>",
        "one_hot_max_categories": 3,
    }
    preprocessor = categorical.fit(train, options)
    new = pd.DataFrame({"row_id": [0, 1], "size": ["M", "XL"], "shop": ["shop3", "elsewhere"]})

    encoded = categorical.model_input(categorical.transform(preprocessor, new))

    assert preprocessor.one_hot_columns == [True, False]
    assert preprocessor.one_hot_positions == [0, 1] and preprocessor.index_positions == [2]
    # size: M is the second of (M, S); unseen XL is all zeros. shop: slot 0 is the unseen one.
    assert encoded.tolist() == [[1.0, 0.0, 4.0], [0.0, 0.0, 0.0]]
    assert preprocessor.table_size == 9
