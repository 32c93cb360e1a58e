"""Bad requests to the exported serving model, loaded as the catalog loads it.

A request the model cannot answer raises an error naming the input; what it can answer
gets the same outputs as the inference pipeline for the same rows.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from PIL import Image

from multimodal_keras.datasets import ServingModelDataset
from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.modalities.base import serving_name
from tests.bad_inputs.conftest import MARKERS, assert_handled, png
from tests.bad_inputs.test_inference_tables import PRICE, TEXT, new_rows, score
from tests.modalities.test_image_modes import CASES as IMAGE_MODES

pytestmark = pytest.mark.integration

Request = dict[str, Any]
NUMBERS = ("capital-gain", PRICE)


def request_of(rows: pd.DataFrame) -> Request:
    """A request holding ``rows``, as a client sends them (docs/inference.md's table)."""
    request: Request = {}
    for column in rows.columns:
        if column in NUMBERS:
            request[column] = tf.constant(rows[column].to_numpy(dtype=np.float64))
        elif column == "photo":
            request[column] = tf.constant([bytes(value) for value in rows[column]])
        else:
            values = rows[column].astype("string").fillna("")
            request[column] = tf.constant(values.to_numpy(dtype=object).astype(str))
    return request


@pytest.fixture(scope="module")
def served(trained_project):
    project, _ = trained_project
    return ServingModelDataset(filepath=str(project / "data" / "06_models" / "serving")).load()


@pytest.fixture(scope="module")
def good(trained_project) -> Request:
    project, _ = trained_project
    return request_of(new_rows(project).head(4))


def tiff() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="TIFF")
    return buffer.getvalue()


def replaced(column: str, values: Any) -> Callable[[Request], Request]:
    return lambda request: {**request, column: tf.constant(values)}


def without(column: str) -> Callable[[Request], Request]:
    return lambda request: {key: value for key, value in request.items() if key != column}


REFUSED = [
    ("a missing input", without("capital-gain"), MultimodalKerasError,
     r"The request lacks the input\(s\) \['capital-gain'\]; the serving model takes exactly"),
    ("an unknown input", lambda r: {**r, "notes": tf.constant(["a"] * 4)}, MultimodalKerasError,
     r"has the unknown input\(s\) \['notes'\]"),
    ("a key under its serving name", lambda r: {serving_name(k): v for k, v in r.items()},
     MultimodalKerasError, r"lacks the input\(s\) \['capital-gain', 'colour / shade'"),
    ("numbers sent as strings", replaced(PRICE, ["1", "2", "3", "4"]), MultimodalKerasError,
     f"The request's input `{PRICE}` holds string values, but the serving model reads numbers"),
    ("strings sent as numbers", replaced("état", [1.0, 2.0, 3.0, 4.0]), MultimodalKerasError,
     "The request's input `état` holds float32 values, but the serving model reads strings"),
    ("a table of values for one input", replaced(PRICE, [[1.0, 2.0]] * 4), MultimodalKerasError,
     f"The request's input `{PRICE}` has shape \\[4, 2\\], but it must be one value per row"),
    ("inputs of different lengths", replaced(PRICE, [1.0, 2.0]), tf.errors.InvalidArgumentError,
     f"serving input `{PRICE}` has a different number of rows than"),
    ("an infinite number", replaced("capital-gain", [1.0, np.inf, 0.0, 0.0]),
     tf.errors.InvalidArgumentError, "serving input `capital-gain` holds an infinite value"),
    ("bytes that are no image", replaced("photo", [b"no image"] * 4),
     tf.errors.InvalidArgumentError, "photo"),
    ("a TIFF image", replaced("photo", [tiff()] * 4), tf.errors.InvalidArgumentError, "photo"),
    ("a PNG declaring 20000x20000 pixels", replaced("photo", [png(20000, 20000)] * 4),
     tf.errors.InvalidArgumentError, "photo"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "change", "error", "message"), REFUSED, ids=[case[0] for case in REFUSED]
)
def test_a_request_the_model_cannot_answer_names_the_input(
    served, good, name, change, error, message
):
    with pytest.raises(error, match=message):
        served.serve(change(good))


ANSWERED = [
    ("an empty batch", lambda r: {k: v[:0] for k, v in r.items()}, 0),
    ("a missing number (NaN)", replaced(PRICE, [np.nan, 1.0, np.nan, 2.0]), 4),
    ("empty categories and text", lambda r: {**r, "état": tf.constant([""] * 4),
                                             TEXT: tf.constant([""] * 4)}, 4),
    ("an unseen category", replaced("colour / shade", ["never seen"] * 4), 4),
    ("Python floats", lambda r: {**r, PRICE: [1.0, 2.0, 3.0, 4.0]}, 4),
    ("float32 numbers", replaced(PRICE, np.array([1.0, 2.0, 3.0, 4.0], np.float32)), 4),
    ("integers", lambda r: {**r, "capital-gain": [1, 2, 3, 4]}, 4),
    ("Python strings and bytes", lambda r: {**r, TEXT: ["a", "b", "c", "d"],
                                            "état": [b"x", b"y", b"z", b"w"]}, 4),
    ("a huge text cell", replaced(TEXT, ["word " * 200_000] + [""] * 3), 4),
]  # fmt: skip


@pytest.mark.parametrize(("name", "change", "rows"), ANSWERED, ids=[case[0] for case in ANSWERED])
def test_a_request_the_model_can_answer_gets_one_answer_per_row(served, good, name, change, rows):
    outputs = served.serve(change(good))
    assert outputs["prediction"].shape[0] == rows
    assert outputs["probabilities"].shape == (rows, 2)
    assert np.isfinite(outputs["probabilities"].numpy()).all()


def test_the_signature_takes_the_serving_names(served, good):
    by_signature = served.signatures["serving_default"](
        **{serving_name(key): value for key, value in good.items()}
    )
    np.testing.assert_allclose(
        by_signature["probabilities"].numpy(), served.serve(good)["probabilities"].numpy()
    )


@pytest.fixture(scope="module")
def image_modes_scored(trained_project, tmp_path_factory) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows whose photo is each image mode, scored by the inference pipeline."""
    project, _ = trained_project
    rows = new_rows(project).head(len(IMAGE_MODES)).copy()
    rows["photo"] = list(IMAGE_MODES.values())
    outcome, predictions = score(project, rows, tmp_path_factory.mktemp("image_modes"))
    assert_handled(outcome)
    return rows, pd.read_parquet(predictions)


@pytest.mark.parametrize("position", range(len(IMAGE_MODES)), ids=list(IMAGE_MODES))
def test_an_image_mode_gets_the_pipelines_answer_from_the_serving_model(
    served, image_modes_scored, position
):
    rows, scored = image_modes_scored
    outputs = served.serve(request_of(rows.iloc[[position]]))
    pipeline = scored.filter(like="probability").to_numpy()[position]
    np.testing.assert_allclose(outputs["probabilities"].numpy()[0], pipeline, atol=1e-5)


def test_a_marker_gets_the_pipelines_answer_which_is_that_of_the_cell_empty(
    served, trained_project, tmp_path
):
    project, _ = trained_project
    rows = new_rows(project).head(4).astype({"état": object, TEXT: object})
    emptied = rows.copy()
    rows.loc[0, "état"], emptied.loc[0, "état"] = f" {MARKERS[0]} ", None
    rows.loc[1, PRICE], emptied.loc[1, PRICE] = float(MARKERS[1]), np.nan
    rows.loc[2, TEXT], emptied.loc[2, TEXT] = MARKERS[0], None
    outcome, predictions = score(project, rows, tmp_path)
    assert_handled(outcome, "Read 3 cell(s) of the table of rows to score holding a missing")
    pipeline = pd.read_parquet(predictions).filter(like="probability").to_numpy()
    marked = served.serve(request_of(rows))["probabilities"].numpy()
    empty = served.serve(request_of(emptied))["probabilities"].numpy()
    np.testing.assert_allclose(marked, pipeline, atol=1e-5)
    np.testing.assert_array_equal(marked, empty)
