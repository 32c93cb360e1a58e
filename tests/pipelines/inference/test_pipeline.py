"""The inference and serving pipelines' wiring, their catalog entries, and the committed sample."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from multimodal_keras.modalities import MODALITIES
from multimodal_keras.pipeline_registry import register_pipelines
from multimodal_keras.synthetic import make_new_rows
from tests.configuration import load_conf
from tests.pipelines.inference.conftest import (
    SAMPLE,
    TrainedProject,
    feature_columns,
    score_with_pipeline,
)


@pytest.fixture(scope="module")
def pipelines():
    return register_pipelines()


@pytest.fixture(scope="module")
def catalog_config() -> dict:
    return load_conf("catalog")


def test_inference_nodes_are_named_and_tagged(pipelines):
    names = {node.name: node.tags for node in pipelines["inference"].nodes}
    expected = {
        "validate_inference_table",
        "predict",
        *(f"{name}.transform_new_rows" for name in MODALITIES),
    }
    assert set(names) == expected
    assert all("inference" in tags for tags in names.values())


def test_inference_needs_only_new_rows_and_what_training_saved(pipelines):
    free = {name for name in pipelines["inference"].inputs() if not name.startswith("params:")}
    saved_by_training = pipelines["__default__"].all_outputs()
    assert free - saved_by_training == {"inference_table"}
    assert "raw_table" not in free and "primary_table" not in free


def test_the_default_run_exports_the_serving_model_and_scores_nothing(pipelines):
    default = {node.name for node in pipelines["__default__"].nodes}
    assert "export_serving_model" in default
    assert not default & {node.name for node in pipelines["inference"].nodes}


def test_every_inference_and_serving_dataset_is_declared_with_a_viz_layer(
    pipelines, catalog_config
):
    used = (pipelines["inference"] + pipelines["serving"]).datasets()
    for name in sorted(name for name in used if not name.startswith("params:")):
        assert catalog_config[name]["metadata"]["kedro-viz"]["layer"], name


def test_the_committed_sample_is_what_the_demo_settings_make():
    params = load_conf("parameters")
    demo = params["demo"]
    expected = make_new_rows(
        feature_columns(params), params["table"]["target"], demo, demo["new_rows"]
    )
    pd.testing.assert_frame_equal(pd.read_parquet(SAMPLE), expected, check_dtype=False)


def test_the_committed_sample_has_no_target_and_what_training_never_saw():
    params = load_conf("parameters")
    columns = feature_columns(params)
    sample = pd.read_parquet(SAMPLE)
    unseen = params["demo"]["new_rows"]["unseen_category"]
    assert params["table"]["target"] not in sample.columns
    assert list(sample.columns) != [c for cs in columns.values() for c in cs]
    assert all((sample[column] == unseen).any() for column in columns["categorical"])
    assert all(sample[column].isna().any() for column in columns["numerical"])
    texts = sample[columns["text"][0]]
    assert texts.isna().any() and (texts == "").any()


@pytest.mark.integration
def test_the_committed_sample_is_scored_in_full(trained_project: TrainedProject):
    sample = pd.read_parquet(SAMPLE)
    predictions = score_with_pipeline(trained_project, sample)
    assert predictions["row_id"].tolist() == list(range(len(sample)))
    assert np.isfinite(predictions.filter(like="probability_").to_numpy()).all()
