"""Validation of the raw table, the split of its rows, and the target encoding."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.modalities import MODALITIES
from multimodal_keras.modalities.base import configured_columns
from multimodal_keras.pipelines.data_processing.nodes import (
    encode_target,
    fit_target,
    split_rows,
    validate_table,
)
from multimodal_keras.pipelines.features.nodes import transform_for
from multimodal_keras.splitting import TRAIN
from tests.fitting import fit_preprocessors


def modality_parameters(params):
    return {name: params[name] for name in MODALITIES}


def validated(raw: pd.DataFrame, params: dict) -> pd.DataFrame:
    """The primary table ``validate_table`` makes of ``raw`` with the given parameters."""
    primary, _ = validate_table(
        raw, params["table"], params["split"], **modality_parameters(params)
    )
    return primary.to_pandas()


def test_validate_table_puts_row_id_first_and_keeps_only_configured_columns(
    make_tiny_table, project_parameters
):
    raw = make_tiny_table(rows=20)
    raw["unused"] = 1

    primary = validated(raw, project_parameters)

    assert primary.columns[0] == "row_id"
    assert primary["row_id"].tolist() == list(range(20))
    assert "unused" not in primary.columns
    assert set(primary.columns) == {"row_id", *raw.columns} - {"unused"}


def test_validate_table_drops_rows_without_a_target_and_keeps_their_row_ids(
    make_tiny_table, project_parameters
):
    raw = make_tiny_table(rows=20)
    raw["sold"] = raw["sold"].astype("Int64")
    raw.loc[[3, 7], "sold"] = pd.NA

    primary = validated(raw, project_parameters)

    assert len(primary) == 18
    assert 3 not in primary["row_id"].tolist()
    assert primary.index.tolist() == list(range(18))


def test_validate_table_names_every_missing_configured_column(make_tiny_table, project_parameters):
    raw = make_tiny_table(rows=10).drop(columns=["price", "photo"])

    with pytest.raises(MultimodalKerasError, match="'price'.*'photo'"):
        validated(raw, project_parameters)


def test_split_rows_keeps_the_group_columns_rows_together(make_tiny_table, project_parameters):
    raw = make_tiny_table(rows=120)
    raw["seller"] = np.arange(120) % 30
    project_parameters["split"]["group_column"] = "seller"
    primary = validated(raw, project_parameters)

    assignments = split_rows(
        primary, project_parameters["table"], project_parameters["split"], seed=1
    )

    assert (assignments.groupby(primary["seller"].to_numpy())["split"].nunique() == 1).all()
    assert assignments["row_id"].tolist() == primary["row_id"].tolist()


def test_split_rows_does_not_stratify_a_regression_target(tiny_primary_table, project_parameters):
    primary = tiny_primary_table.assign(sold=np.linspace(0.0, 1.0, len(tiny_primary_table)))
    project_parameters["table"]["task"] = "regression"

    assignments = split_rows(
        primary, project_parameters["table"], project_parameters["split"], seed=1
    )

    assert set(assignments["split"]) == {"train", "val", "test"}


def test_a_split_seed_keeps_the_split_while_the_run_seed_changes(
    tiny_primary_table, project_parameters
):
    split = project_parameters["split"]
    table = project_parameters["table"]
    free = [split_rows(tiny_primary_table, table, split, seed=s)["split"] for s in (1, 2)]
    split["seed"] = 5
    fixed = [split_rows(tiny_primary_table, table, split, seed=s)["split"] for s in (1, 2)]

    assert not free[0].equals(free[1])
    assert fixed[0].equals(fixed[1])
    assert fixed[0].equals(split_rows(tiny_primary_table, table, split, seed=5)["split"])


def test_target_encoder_is_fitted_on_training_rows_only(tiny_primary_table, project_parameters):
    primary = tiny_primary_table.assign(sold=np.linspace(0.0, 1.0, len(tiny_primary_table)))
    project_parameters["table"]["task"] = "regression"
    assignments = split_rows(
        primary, project_parameters["table"], project_parameters["split"], seed=1
    )
    primary.loc[assignments["split"] != TRAIN, "sold"] = 1000.0

    encoder = fit_target(primary, assignments, project_parameters["table"])

    train = primary.loc[assignments["split"] == TRAIN, "sold"]
    assert encoder.mean == pytest.approx(train.mean())
    assert encoder.scale == pytest.approx(train.std(ddof=0))


def test_encode_target_gives_every_row_its_class_index_by_row_id(
    tiny_primary_table, project_parameters
):
    assignments = split_rows(
        tiny_primary_table, project_parameters["table"], project_parameters["split"], seed=1
    )
    encoder = fit_target(tiny_primary_table, assignments, project_parameters["table"])

    encoded = encode_target(encoder, tiny_primary_table)

    assert encoder.classes == [0, 1]
    assert encoded["row_id"].tolist() == tiny_primary_table["row_id"].tolist()
    assert encoded["target"].tolist() == tiny_primary_table["sold"].tolist()


@pytest.fixture
def marked_table(make_tiny_table, project_parameters):
    """A 60-row raw table with "?" in some categorical and numerical cells (the numerical
    column as text, as a CSV file holds it), and the parameters that mark "?" as missing."""
    raw = make_tiny_table(rows=60, seed=4)
    category = configured_columns(project_parameters["categorical"])[0]
    number = configured_columns(project_parameters["numerical"])[0]
    marked = np.arange(60) % 5 == 0
    raw[category] = raw[category].astype("object").where(~marked, "?")
    raw[number] = raw[number].astype("string").where(~marked, " ? ")
    project_parameters["table"]["missing_values"] = ["?"]
    return raw, project_parameters, category, number, marked


def test_markers_are_missing_values_in_the_primary_table_and_the_count_is_logged(
    marked_table, caplog
):
    raw, params, category, number, marked = marked_table

    with caplog.at_level("INFO"):
        primary = validated(raw, params)

    assert primary[category].isna().to_numpy()[marked].all()
    assert primary[number].dtype == np.float64
    assert primary[number].isna().to_numpy()[marked].all()
    assert primary[number].notna().to_numpy()[~marked].all()
    counts = f"{category!r}: {marked.sum()}, {number!r}: {marked.sum()}"
    line = f"Read {2 * marked.sum()} cell(s) of the raw table holding a missing-value marker"
    assert f"{line} as missing: {counts}." in caplog.text


def test_a_categorical_marker_is_the_missing_category_and_a_numerical_one_is_imputed(
    marked_table,
):
    raw, params, category, number, marked = marked_table
    primary = validated(raw, params)
    split = split_rows(primary, params["table"], params["split"], params["seed"])
    encoder = fit_target(primary, split, params["table"])
    fitted = fit_preprocessors(primary, split, params, encoder, ("categorical", "numerical"))
    categorical, numerical = fitted["categorical"], fitted["numerical"]

    assert "?" not in categorical.encoder.categories_[0]
    assert params["categorical"]["missing_token"] in categorical.encoder.categories_[0]
    emptied = primary.assign(**{category: None, number: np.nan})
    for name, preprocessor in (("categorical", categorical), ("numerical", numerical)):
        encoded = transform_for(name)(preprocessor, primary.loc[marked], params["processing"])
        expected = transform_for(name)(preprocessor, emptied.loc[marked], params["processing"])
        np.testing.assert_array_equal(np.asarray(encoded), np.asarray(expected))
    imputed = transform_for("numerical")(numerical, primary.loc[marked], params["processing"])
    indicator = numerical.output_names.index(f"missingindicator_{number}")
    assert (np.asarray(imputed)[:, indicator] > 0).all()


def test_a_columns_own_markers_replace_the_tables_list_for_it_and_are_recorded(marked_table):
    raw, params, category, number, marked = marked_table
    params["table"]["missing_values_per_column"] = {category: ["unknown"]}
    raw.loc[1, category] = "unknown"

    primary, markers = validate_table(
        raw, params["table"], params["split"], **modality_parameters(params)
    )
    primary = primary.to_pandas()

    assert markers[category] == ["unknown"]
    assert markers[number] == markers[params["table"]["target"]] == ["?"]
    assert (primary.loc[marked, category] == "?").all()
    assert pd.isna(primary.loc[1, category])
    assert primary[number].isna().to_numpy()[marked].all()


def test_markers_for_a_column_the_table_lacks_stop_the_run_naming_it(marked_table):
    raw, params, *_ = marked_table
    params["table"]["missing_values_per_column"] = {"pricee": ["-1"]}

    with pytest.raises(MultimodalKerasError, match=r"names the column\(s\) \['pricee'\]"):
        validated(raw, params)
