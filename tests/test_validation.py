"""Checks of the raw table against the configured columns."""

from __future__ import annotations

import pandas as pd
import pytest

from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.validation import validate, with_row_ids

FEATURES = {"categorical": ["colour"], "numerical": ["price"]}


def table(**extra) -> pd.DataFrame:
    return pd.DataFrame({"colour": ["red", "blue", "red"], "price": [1.0, 2.0, 3.0],
                         "sold": [1, 0, None], **extra})


def test_rows_without_a_target_can_be_refused_instead_of_dropped():
    with pytest.raises(MultimodalKerasError, match="1 row"):
        validate(table(), "sold", FEATURES, None, None, "error")


def test_column_configured_as_feature_and_target_is_refused():
    with pytest.raises(MultimodalKerasError, match="as the target"):
        validate(table(), "price", FEATURES, None, None, "drop")


def test_column_configured_under_two_modalities_is_refused():
    with pytest.raises(MultimodalKerasError, match="under both"):
        validate(table(), "sold", {**FEATURES, "text": ["colour"]}, None, None, "drop")


def test_no_configured_feature_columns_is_refused():
    with pytest.raises(MultimodalKerasError, match="No feature columns"):
        validate(table(), "sold", {"categorical": [], "numerical": []}, None, None, "drop")


def test_id_column_becomes_the_row_id_and_must_be_unique():
    ids = table(listing=["x", "y", "z"])

    assert with_row_ids(ids, "listing")["row_id"].tolist() == ["x", "y", "z"]
    with pytest.raises(MultimodalKerasError, match="unique"):
        with_row_ids(table(listing=["x", "x", "z"]), "listing")


def test_table_with_its_own_row_id_column_is_refused_unless_it_is_the_id_column():
    with pytest.raises(MultimodalKerasError, match="row_id"):
        with_row_ids(table(row_id=[1, 2, 3]), None)
    assert with_row_ids(table(row_id=[9, 8, 7]), "row_id")["row_id"].tolist() == [9, 8, 7]


def test_empty_table_is_refused():
    with pytest.raises(MultimodalKerasError, match="no rows"):
        validate(table().iloc[:0], "sold", FEATURES, None, None, "drop")
