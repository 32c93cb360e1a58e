"""The per-modality nodes: preprocessors fitted on training rows only, every row transformed.

The nodes are taken from the features pipeline and run as Kedro runs them, so that
the wiring (which rows and which parameters reach the modality) is checked too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from multimodal_keras.chunked import ChunkedArray
from multimodal_keras.modalities import MODALITIES, categorical, numerical, text
from multimodal_keras.pipelines import features
from multimodal_keras.splitting import TEST, TRAIN, VALIDATION, split_positions

OOV_ID = 1


def run_node(name: str, inputs: dict[str, Any]) -> Any:
    """Run one node of the features pipeline by name and return its single output."""
    node = next(node for node in features.create_pipeline().nodes if node.name == name)
    (output,) = node.run(inputs).values()
    return output


def fit_through_node(modality: str, primary: pd.DataFrame, assignments, params) -> Any:
    return run_node(
        f"{modality}.fit_preprocessor",
        {
            "primary_table": primary,
            "split_assignments": assignments,
            f"params:{modality}": params[modality],
            "params:processing": params["processing"],
            "params:seed": params["seed"],
        },
    )


def transform_through_node(modality: str, preprocessor: Any, primary, params) -> np.ndarray:
    encoded = run_node(
        f"{modality}.transform",
        {
            f"{modality}.preprocessor": preprocessor,
            "primary_table": primary,
            "params:processing": params["processing"],
        },
    )
    assert isinstance(encoded, ChunkedArray)
    return np.asarray(encoded)


@pytest.fixture
def split_table(tiny_primary_table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A primary table whose validation and test rows hold values no training row has.

    Splits are interleaved and row ids differ from positions, so that taking the
    wrong rows, or rows by id instead of position, changes what is fitted.
    """
    primary = tiny_primary_table.copy()
    primary["row_id"] = 9000 - 7 * np.arange(len(primary))
    pattern = np.array([TRAIN, TEST, TRAIN, VALIDATION, TRAIN])
    split = pattern[np.arange(len(primary)) % len(pattern)]
    assignments = pd.DataFrame({"row_id": primary["row_id"], "split": split})
    for name, offset in ((TEST, 1e6), (VALIDATION, 2e6)):
        held_out = split == name
        primary.loc[held_out, "category"] = f"only_in_{name}"
        primary.loc[held_out, "price"] = offset + np.arange(held_out.sum())
        primary.loc[held_out, "description"] = f"zeppelin_{name} " * 3
    return primary, assignments


def training_rows(primary: pd.DataFrame, assignments: pd.DataFrame) -> pd.DataFrame:
    return primary.iloc[split_positions(assignments, TRAIN)]


def test_categories_only_in_held_out_rows_are_unseen_after_fitting_through_the_node(
    split_table, project_parameters
):
    primary, assignments = split_table

    preprocessor = fit_through_node("categorical", primary, assignments, project_parameters)

    assert not any("only_in" in name for name in preprocessor.output_names)
    encoded = categorical.model_input(categorical.transform(preprocessor, primary))
    category_block = [n.startswith("category_") for n in preprocessor.output_names]
    held_out = assignments["split"].to_numpy() != TRAIN
    assert np.all(encoded[held_out][:, category_block] == 0)
    assert np.all(encoded[~held_out][:, category_block].sum(axis=1) == 1)


def test_categories_only_in_held_out_rows_get_the_unseen_embedding_index_through_the_node(
    split_table, project_parameters
):
    primary, assignments = split_table
    project_parameters["categorical"]["encoding"] = "embedding"

    preprocessor = fit_through_node("categorical", primary, assignments, project_parameters)

    indices = categorical.model_input(categorical.transform(preprocessor, primary))
    held_out = assignments["split"].to_numpy() != TRAIN
    assert np.all(indices[held_out, 0] == 0)
    assert np.all(indices[~held_out, 0] > 0)


def test_numerical_statistics_are_the_training_rows_through_the_node(
    split_table, project_parameters
):
    primary, assignments = split_table
    train = training_rows(primary, assignments)

    preprocessor = fit_through_node("numerical", primary, assignments, project_parameters)

    summary = numerical.describe(preprocessor)
    median = train["price"].median()
    assert summary["imputation_values"]["price"] == pytest.approx(median)
    assert summary["mean"][0] == pytest.approx(train["price"].fillna(median).mean())
    assert summary["mean"][0] < 1e5
    assert summary["imputation_values"]["seller_rating"] == pytest.approx(
        train["seller_rating"].median()
    )


def test_words_only_in_held_out_rows_are_out_of_vocabulary_through_the_node(
    split_table, project_parameters
):
    primary, assignments = split_table
    # Every training word kept, so that any out-of-vocabulary id comes from held-out rows.
    project_parameters["text"]["min_document_frequency"] = 1

    preprocessor = fit_through_node("text", primary, assignments, project_parameters)

    assert not any(token.startswith("zeppelin") for token in preprocessor.vocabulary)
    ids = text.transform(preprocessor, primary)
    held_out = assignments["split"].to_numpy() != TRAIN
    assert np.all(ids[held_out, 0, :3] == OOV_ID)
    assert not np.any(ids[~held_out] == OOV_ID)


def test_image_preprocessor_is_configured_from_the_modalitys_parameters_through_the_node(
    split_table, small_parameters
):
    primary, assignments = split_table

    preprocessor = fit_through_node("image", primary, assignments, small_parameters)

    assert preprocessor.columns == small_parameters["image"]["columns"]
    assert (preprocessor.height, preprocessor.width) == (12, 12)


@pytest.mark.parametrize("modality", list(MODALITIES))
def test_transform_node_encodes_every_row_in_primary_table_order(
    modality, split_table, small_parameters
):
    primary, assignments = split_table
    preprocessor = fit_through_node(modality, primary, assignments, small_parameters)

    small_parameters["processing"]["chunk_rows"] = 7

    encoded = transform_through_node(modality, preprocessor, primary, small_parameters)

    # Row i of the array is row i of the primary table, encoded as the whole table is.
    module = MODALITIES[modality]
    expected = module.model_input(module.transform(preprocessor, primary))
    assert encoded.shape == expected.shape and encoded.dtype == expected.dtype
    np.testing.assert_array_equal(encoded, expected)
