"""The task, inferred or configured, and the target encoding fitted on training rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.targets import (
    BINARY,
    MULTICLASS,
    REGRESSION,
    fit_target_encoder,
    infer_task,
)


@pytest.mark.parametrize(
    ("values", "task"),
    [
        ([0, 1, 1, None], BINARY),
        (["cheap", "dear", "cheap"], BINARY),
        (["a", "b", "c"], MULTICLASS),
        ([1, 2, 3, 4, 2], MULTICLASS),
        ([0.5, 1.25, 3.0], REGRESSION),
        (list(range(60)), REGRESSION),
    ],
)
def test_task_is_inferred_from_the_target_values(values, task):
    assert infer_task(pd.Series(values), None, max_classes=50) == task


def test_configured_task_wins_and_an_unknown_one_is_refused():
    assert infer_task(pd.Series([0, 1]), REGRESSION, 50) == REGRESSION
    with pytest.raises(MultimodalKerasError, match="Unknown task"):
        infer_task(pd.Series([0, 1]), "ranking", 50)


def test_class_absent_from_training_rows_is_refused_when_encoding():
    encoder = fit_target_encoder(pd.Series(["a", "b"], name="label"), MULTICLASS)

    with pytest.raises(MultimodalKerasError, match="'c'"):
        encoder.encode(pd.Series(["a", "c"]))


def test_regression_target_is_standardised_and_decoded_back():
    encoder = fit_target_encoder(pd.Series([2.0, 4.0, 6.0], name="price"), REGRESSION)

    encoded = encoder.encode(pd.Series([4.0, 6.0]))

    assert encoded.tolist() == pytest.approx([0.0, np.sqrt(1.5)])
    assert encoder.decode(encoded.reshape(-1, 1)).tolist() == pytest.approx([4.0, 6.0])


def test_missing_classification_targets_encode_as_minus_one():
    encoder = fit_target_encoder(pd.Series([0, 1], name="sold"), BINARY)

    assert encoder.encode(pd.Series([1, None, 0])).tolist() == [1, -1, 0]


def test_auto_transform_takes_log1p_for_a_heavy_right_tail_only():
    rng = np.random.default_rng(0)
    prices = pd.Series(np.exp(rng.normal(7.0, 1.0, 500)), name="price")
    symmetric = pd.Series(rng.normal(50.0, 5.0, 500), name="score")
    signed = pd.Series(np.concatenate([-prices[:5], prices[5:]]), name="change")

    assert fit_target_encoder(prices, REGRESSION, "auto").transform == "log1p"
    assert fit_target_encoder(symmetric, REGRESSION, "auto").transform == "none"
    assert fit_target_encoder(signed, REGRESSION, "auto").transform == "none"


def test_a_transformed_target_is_standardised_and_decodes_back_to_its_values():
    prices = pd.Series([3.0, 30.0, 300.0, 3000.0], name="price")
    encoder = fit_target_encoder(prices, REGRESSION, "log")

    encoded = encoder.encode(prices)

    assert encoded.mean() == pytest.approx(0.0, abs=1e-6)
    assert encoded.std() == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(encoder.decode_targets(encoded), prices, rtol=1e-5)


@pytest.mark.parametrize(("transform", "smallest"), [("log", 0.0), ("log1p", -1.0)])
def test_a_transform_outside_its_domain_names_the_setting_and_the_value(transform, smallest):
    target = pd.Series([smallest, 5.0, 9.0], name="price")

    with pytest.raises(MultimodalKerasError, match=f"target_transform is {transform}"):
        fit_target_encoder(target, REGRESSION, transform)


def test_an_unknown_transform_lists_the_known_ones():
    with pytest.raises(MultimodalKerasError, match="log1p"):
        fit_target_encoder(pd.Series([1.0, 2.0], name="y"), REGRESSION, "sqrt")


@pytest.mark.parametrize("transform", ["none", "log1p"])
def test_predictions_stay_within_the_training_targets_range(transform):
    prices = pd.Series([10.0, 100.0, 1000.0, 5000.0], name="price")
    encoder = fit_target_encoder(prices, REGRESSION, transform)

    decoded = encoder.decode(np.array([[-40.0], [0.0], [40.0]], dtype=np.float32))

    assert decoded[0] == pytest.approx(10.0) and decoded[2] == pytest.approx(5000.0)
    assert 10.0 < decoded[1] < 5000.0
