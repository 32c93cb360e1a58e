"""The inference pipeline scores new rows as training encoded them, and names what it cannot."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.model.inputs import model_inputs
from multimodal_keras.model.train import input_names
from multimodal_keras.pipelines.features.nodes import transform_for
from multimodal_keras.pipelines.inference.nodes import validate_inference_table
from tests.pipelines.inference.conftest import (
    MARKERS,
    TrainedProject,
    feature_columns,
    score_with_pipeline,
    with_markers,
    with_unseen_and_missing,
)

pytestmark = pytest.mark.integration


def test_predictions_of_test_rows_equal_the_trained_models_outputs_on_training_features(
    trained_project: TrainedProject,
):
    rows = trained_project.test_rows()
    predictions = score_with_pipeline(trained_project, rows)
    names = input_names(trained_project.trained_model)
    inputs = model_inputs(names, trained_project.features, trained_project.test_positions)
    outputs = trained_project.trained_model.predict(inputs, verbose=0)
    expected = trained_project.target_encoder.probabilities(outputs)
    classes = trained_project.target_encoder.classes
    probability_columns = [f"probability_{label}" for label in classes]
    assert list(predictions.columns) == ["row_id", "prediction", *probability_columns]
    assert predictions["row_id"].tolist() == list(range(len(rows)))
    np.testing.assert_allclose(predictions[probability_columns].to_numpy(), expected, atol=1e-6)


def test_unseen_categories_missing_values_empty_texts_and_column_order_are_scored(
    trained_project: TrainedProject,
):
    rows = with_unseen_and_missing(trained_project, trained_project.test_rows())
    predictions = score_with_pipeline(trained_project, rows)
    probabilities = predictions.filter(like="probability_").to_numpy()
    assert len(predictions) == len(rows)
    assert np.isfinite(probabilities).all()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-6)
    assert set(predictions["prediction"]) <= set(trained_project.target_encoder.classes)


def test_a_missing_numerical_value_is_encoded_as_its_training_imputation_value(
    trained_project: TrainedProject,
):
    preprocessor = trained_project.preprocessors["numerical"]
    column = preprocessor.columns[0]
    imputer = preprocessor.pipeline.named_steps["impute"]
    rows = trained_project.test_rows().head(2)
    rows.loc[0, column] = np.nan
    rows.loc[1, column] = imputer.statistics_[0]
    validated = validate_inference_table(
        rows,
        trained_project.params["table"],
        trained_project.missing_value_markers,
        **trained_project.modality_params(),
    )
    processing = trained_project.params["processing"]
    encoded = pd.DataFrame(
        np.asarray(transform_for("numerical")(preprocessor, validated, processing)),
        columns=preprocessor.output_names,
    )
    assert encoded.loc[0, column] == encoded.loc[1, column]
    indicator = f"missingindicator_{column}"
    if indicator in encoded.columns:
        assert encoded.loc[0, indicator] > encoded.loc[1, indicator]


def test_a_missing_feature_column_stops_the_run_naming_it(trained_project: TrainedProject):
    column = feature_columns(trained_project.params)["numerical"][-1]
    rows = trained_project.test_rows().drop(columns=[column])
    with pytest.raises(MultimodalKerasError, match=repr(column)):
        score_with_pipeline(trained_project, rows)


def test_an_undecodable_image_stops_the_run_naming_the_column_and_row_ids(
    trained_project: TrainedProject,
):
    column = feature_columns(trained_project.params)["image"][0]
    rows = trained_project.test_rows()
    rows[column] = rows[column].astype(object)
    rows.loc[[1, 3], column] = b"these bytes are not an image"
    with pytest.raises(MultimodalKerasError, match=r"row 1: .*row 3: ") as raised:
        score_with_pipeline(trained_project, rows)
    assert column in str(raised.value)


def test_the_target_column_is_ignored_when_present(trained_project: TrainedProject):
    rows = trained_project.test_rows()
    target = trained_project.params["table"]["target"]
    with_target = rows.assign(**{target: "anything"})
    pd.testing.assert_frame_equal(
        score_with_pipeline(trained_project, with_target),
        score_with_pipeline(trained_project, rows),
    )


def test_rows_with_missing_value_markers_are_scored_as_the_same_rows_with_the_cells_empty(
    trained_project: TrainedProject,
):
    marked, emptied = with_markers(trained_project, trained_project.test_rows())
    # A numerical column as a CSV file holds it: text, "?" where a number is missing.
    number = feature_columns(trained_project.params)["numerical"][0]
    marked[number] = marked[number].astype("string").where(emptied[number].notna(), MARKERS[0])
    pd.testing.assert_frame_equal(
        score_with_pipeline(trained_project, marked),
        score_with_pipeline(trained_project, emptied),
    )
