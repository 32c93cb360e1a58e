"""Validation of the raw table, the split of its rows, and the target encoding."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.modalities import MODALITIES
from multimodal_keras.pipelines.data_processing.nodes import (
    encode_target,
    fit_target,
    split_rows,
    validate_table,
)
from multimodal_keras.splitting import TRAIN


def modality_parameters(params):
    return {name: params[name] for name in MODALITIES}


def test_validate_table_puts_row_id_first_and_keeps_only_configured_columns(
    make_tiny_table, project_parameters
):
    raw = make_tiny_table(rows=20)
    raw["unused"] = 1

    primary = validate_table(
        raw, project_parameters["table"], project_parameters["split"],
        **modality_parameters(project_parameters),
    )

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

    primary = validate_table(
        raw, project_parameters["table"], project_parameters["split"],
        **modality_parameters(project_parameters),
    )

    assert len(primary) == 18
    assert 3 not in primary["row_id"].tolist()
    assert primary.index.tolist() == list(range(18))


def test_validate_table_names_every_missing_configured_column(
    make_tiny_table, project_parameters
):
    raw = make_tiny_table(rows=10).drop(columns=["price", "photo"])

    with pytest.raises(MultimodalKerasError, match="'price'.*'photo'"):
        validate_table(
            raw, project_parameters["table"], project_parameters["split"],
            **modality_parameters(project_parameters),
        )


def test_split_rows_keeps_the_group_columns_rows_together(make_tiny_table, project_parameters):
    raw = make_tiny_table(rows=120)
    raw["seller"] = np.arange(120) % 30
    project_parameters["split"]["group_column"] = "seller"
    primary = validate_table(
        raw, project_parameters["table"], project_parameters["split"],
        **modality_parameters(project_parameters),
    )

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
