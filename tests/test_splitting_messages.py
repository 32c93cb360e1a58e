"""A table too small for the split stops with one sentence naming the problem and the minimum."""

from __future__ import annotations

import pandas as pd
import pytest

from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.splitting import (
    MIN_ROWS_PER_CLASS,
    TEST,
    TRAIN,
    VALIDATION,
    assign_splits,
    minimum_rows,
    split_sizes,
)


def _split(labels=None, rows=None, groups=None, test=0.2, validation=0.15):
    count = len(labels) if labels is not None else rows
    row_ids = pd.Series(range(count))
    return assign_splits(row_ids, test, validation, seed=42, labels=labels, groups=groups)


def _one_sentence(message: str) -> None:
    assert message.count(". ") == 0 and message.endswith(".")
    assert "\n" not in message


def test_split_sizes_match_what_the_split_assigns():
    sizes = split_sizes(1000, 0.2, 0.15)
    assignments = _split(rows=1000)
    assert assignments["split"].value_counts().to_dict() == sizes
    assert sizes == {TRAIN: 650, VALIDATION: 150, TEST: 200}


def test_minimum_rows_is_the_smallest_table_with_every_split_filled():
    needed = minimum_rows(0.2, 0.15, per_split=2)
    assert min(split_sizes(needed, 0.2, 0.15).values()) >= 2
    assert min(split_sizes(needed - 1, 0.2, 0.15).values()) < 2


def test_a_class_with_a_single_row_is_named_with_the_minimum():
    labels = pd.Series(["a", "a", "a", "b", "b", "b", "c"], name="species")
    with pytest.raises(MultimodalKerasError) as caught:
        _split(labels)
    message = str(caught.value)
    assert "'species'" in message and "class 'c' has only 1 row" in message
    assert f"at least {MIN_ROWS_PER_CLASS} rows of every class" in message
    assert "split.stratify" in message
    _one_sentence(message)


def test_several_rare_classes_are_all_named():
    labels = pd.Series(["x", "y", "y", "z", "z", "z"], name="label")
    message = str(pytest.raises(MultimodalKerasError, _split, labels).value)
    assert "'x' (1 row)" in message and "'y' (2 rows)" in message and "'z'" not in message


def test_too_few_rows_for_the_classes_names_the_split_and_the_minimum():
    labels = pd.Series(["a", "b"] * 3, name="label")
    message = str(pytest.raises(MultimodalKerasError, _split, labels).value)
    needed = minimum_rows(0.2, 0.15, per_split=2)
    assert f"at least {needed} rows for 2 classes" in message
    assert "the validation split would get" in message
    _one_sentence(message)


def test_an_empty_split_without_stratification_names_the_split_and_the_minimum():
    with pytest.raises(MultimodalKerasError) as caught:
        _split(rows=5, test=0.5, validation=0.4)
    message = str(caught.value)
    assert "the train split would be empty" in message
    assert f"at least {minimum_rows(0.5, 0.4)} rows" in message
    _one_sentence(message)


def test_too_few_groups_are_reported_as_groups():
    groups = pd.Series(["g1", "g1", "g2", "g2"])
    message = str(pytest.raises(MultimodalKerasError, _split, rows=4, groups=groups).value)
    assert message.startswith("With 2 groups,") and "at least 3 groups" in message


@pytest.mark.parametrize(("test", "validation"), [(0.0, 0.15), (0.2, 1.0), (0.6, 0.5)])
def test_fractions_that_leave_a_split_without_rows_are_refused(test, validation):
    message = str(
        pytest.raises(
            MultimodalKerasError, _split, rows=100, test=test, validation=validation
        ).value
    )
    assert "split." in message
    _one_sentence(message)


def test_a_table_large_enough_splits_with_every_class_in_train():
    labels = pd.Series(["a", "b", "c"] * 10, name="label")
    assignments = _split(labels)
    train = labels[assignments["split"].to_numpy() == TRAIN]
    assert set(train) == {"a", "b", "c"}
