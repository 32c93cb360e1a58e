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
