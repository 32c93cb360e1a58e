"""One seed in the parameters fixes the split and the metrics; another seed changes both."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from kedro.pipeline import Pipeline
from kedro.runner import SequentialRunner

from multimodal_keras.pipeline_registry import register_pipelines
from tests.test_pipeline_registry import in_memory_catalog

pytestmark = pytest.mark.integration


def run_with_seed(raw: pd.DataFrame, parameters: dict, seed: int) -> tuple[pd.DataFrame, dict]:
    parameters = copy.deepcopy(parameters)
    parameters["seed"] = seed
    pipelines = register_pipelines()
    pipeline = sum(
        (
            pipelines[name]
            for name in ("data_processing", "features", "training", "baseline", "evaluation")
        ),
        Pipeline([]),
    )
    catalog = in_memory_catalog(pipeline, raw, parameters)
    SequentialRunner().run(pipeline, catalog)
    return catalog.load("split_assignments"), catalog.load("metrics")


def metric_values(metrics: dict) -> np.ndarray:
    model = metrics["model"]
    return np.array([model[name] for name in ("accuracy", "log_loss", "roc_auc")], dtype=float)


@pytest.fixture(scope="module")
def runs(make_tiny_table, shared_small_parameters):
    raw = make_tiny_table(rows=120, seed=3)
    return {
        "first": run_with_seed(raw, shared_small_parameters, 11),
        "again": run_with_seed(raw, shared_small_parameters, 11),
        "other": run_with_seed(raw, shared_small_parameters, 12),
    }


def test_same_seed_gives_the_same_split_and_metrics(runs):
    (split, metrics), (split_again, metrics_again) = runs["first"], runs["again"]

    pd.testing.assert_frame_equal(split, split_again)
    np.testing.assert_allclose(metric_values(metrics), metric_values(metrics_again), atol=1e-6)


def test_another_seed_changes_the_split_and_metrics(runs):
    (split, metrics), (split_other, metrics_other) = runs["first"], runs["other"]

    assert not split["split"].equals(split_other["split"])
    assert not np.allclose(metric_values(metrics), metric_values(metrics_other), atol=1e-6)
