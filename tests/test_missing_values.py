"""Missing-value markers: which columns get which, which cells match, the same in serving."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from multimodal_keras.missing_values import MarkersAsMissing, mark_missing, resolve


def test_each_column_gets_the_tables_markers_unless_it_has_its_own():
    table = {
        "missing_values": ["?", -999, " NA "],
        "missing_values_per_column": {"code": ["-1"], "note": []},
    }
    assert resolve(table, ["colour", "code", "note", "colour"]) == {
        "colour": ["?", "-999", "NA"],
        "code": ["-1"],
    }
    assert resolve({"missing_values": [], "missing_values_per_column": {}}, ["colour"]) == {}


def test_a_cell_matches_its_text_stripped_and_case_kept():
    table = pd.DataFrame({"colour": ["red", " ? ", "?", "NA", "na", None, "??"]})
    marked, counts = mark_missing(table, {"colour": ["?", "NA"]}, numeric_columns=[])
    assert marked["colour"].isna().tolist() == [False, True, True, True, False, True, False]
    assert counts == {"colour": 3}


def test_a_number_marker_matches_the_value_in_numerical_columns_only():
    table = pd.DataFrame(
        {
            "price": [-999.0, 3.5, -999.5, np.nan],
            "typed": ["-999", "?", "4", " -999.00 "],  # a CSV column read as text
            "code": [-999.0, -999.0, 1.0, 2.0],  # categorical: compared as text, "-999.0"
        }
    )
    markers = {name: ["-999", "?"] for name in table.columns}
    marked, counts = mark_missing(table, markers, numeric_columns=["price", "typed"])
    assert marked["price"].isna().tolist() == [True, False, False, True]
    assert marked["typed"].isna().tolist() == [True, True, False, True]
    assert marked["code"].isna().tolist() == [False, False, False, False]
    assert counts == {"price": 1, "typed": 3, "code": 0}


def test_image_bytes_match_a_markers_bytes():
    table = pd.DataFrame({"photo": [b"\x89PNG\r\n", b" ? ", "?", None, b"?!"]})
    marked, counts = mark_missing(table, {"photo": ["?"]}, numeric_columns=[])
    assert marked["photo"].isna().tolist() == [False, True, True, True, False]
    assert counts == {"photo": 2}


STRINGS = ["red", " ? ", "?", "\t?\n", "NA", "na", "", "??", "\u00a0?"]


@pytest.mark.parametrize(
    ("values", "markers", "numeric"),
    [
        (STRINGS, ["?", "NA"], False),
        ([value.encode() for value in STRINGS], ["?", "NA"], False),
        ([-999.0, 3.5, -999.5, np.nan, 0.0, -0.0, 1e-300], ["-999", "?", "0"], True),
    ],
    ids=["text", "bytes", "numbers"],
)
def test_the_serving_layer_reads_as_missing_what_the_pipeline_does(values, markers, numeric):
    marked, _ = mark_missing(
        pd.DataFrame({"column": pd.Series(values, dtype=object)}),
        {"column": markers},
        numeric_columns=["column"] if numeric else [],
    )
    dtype = tf.float64 if numeric else tf.string
    served = MarkersAsMissing(markers)(tf.constant(values, dtype)).numpy()
    if numeric:
        expected = marked["column"].to_numpy(dtype=np.float64, na_value=np.nan)
        np.testing.assert_array_equal(served, expected)
    else:
        # A client sends a missing string as "", which every modality reads as missing.
        raw = [value if isinstance(value, bytes) else value.encode() for value in values]
        missing = marked["column"].isna().tolist()
        expected = [b"" if gone else value for value, gone in zip(raw, missing, strict=True)]
        assert served.tolist() == expected


@pytest.mark.parametrize(
    ("values", "dtype"),
    [(STRINGS, tf.string), ([-999.0, 3.5, np.nan, 0.0], tf.float64)],
    ids=["text", "numbers"],
)
def test_the_serving_layer_is_made_again_from_its_json_config_with_the_same_output(values, dtype):
    layer = MarkersAsMissing(["?", "NA", "-999"], name="colour_markers")
    config = json.loads(json.dumps(layer.get_config(), allow_nan=False))
    copy = MarkersAsMissing.from_config(config)

    np.testing.assert_array_equal(
        copy(tf.constant(values, dtype)).numpy(), layer(tf.constant(values, dtype)).numpy()
    )
