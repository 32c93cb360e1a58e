"""The one train/validation/test split every modality shares."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.splitting import (
    TEST,
    TRAIN,
    VALIDATION,
    FittedOnTrainingRows,
    assign_splits,
    check_fitted_on,
    split_positions,
    training_rows_digest,
)

SPLITS = (TRAIN, VALIDATION, TEST)


def row_ids(count: int) -> pd.Series:
    # Ids unlike positions, so that mixing the two up shows.
    return pd.Series(np.arange(count) * 7 + 1000)


def imbalanced_labels(count: int, seed: int = 0) -> pd.Series:
    rng = np.random.default_rng(seed)
    return pd.Series(rng.choice(["a", "b", "c"], size=count, p=[0.6, 0.3, 0.1]))


def test_split_fractions_are_close_to_the_configured_fractions():
    assignments = assign_splits(row_ids(1000), 0.2, 0.15, seed=1)

    shares = assignments["split"].value_counts(normalize=True)
    assert shares[TEST] == pytest.approx(0.2, abs=0.01)
    assert shares[VALIDATION] == pytest.approx(0.15, abs=0.01)
    assert shares[TRAIN] == pytest.approx(0.65, abs=0.01)


def test_stratified_split_keeps_each_class_share_in_every_split():
    labels = imbalanced_labels(1000)
    overall = labels.value_counts(normalize=True)

    assignments = assign_splits(row_ids(1000), 0.2, 0.15, seed=1, labels=labels)

    for name in SPLITS:
        in_split = labels[assignments["split"].to_numpy() == name]
        shares = in_split.value_counts(normalize=True)
        for label, share in overall.items():
            assert shares[label] == pytest.approx(share, abs=0.015), (name, label)


def test_assignments_keep_the_row_ids_in_their_order():
    ids = row_ids(50)

    assignments = assign_splits(ids, 0.2, 0.2, seed=3)

    assert assignments["row_id"].tolist() == ids.tolist()
    assert set(assignments["split"]) == set(SPLITS)


def test_same_seed_gives_the_identical_split():
    labels = imbalanced_labels(300)

    first = assign_splits(row_ids(300), 0.2, 0.15, seed=11, labels=labels)
    second = assign_splits(row_ids(300), 0.2, 0.15, seed=11, labels=labels)

    pd.testing.assert_frame_equal(first, second)


@pytest.mark.parametrize("stratify", [False, True])
def test_different_seeds_give_different_splits(stratify):
    labels = imbalanced_labels(300) if stratify else None

    first = assign_splits(row_ids(300), 0.2, 0.15, seed=11, labels=labels)
    second = assign_splits(row_ids(300), 0.2, 0.15, seed=12, labels=labels)

    assert not first["split"].equals(second["split"])


def test_rows_of_one_group_never_straddle_splits():
    rng = np.random.default_rng(5)
    groups = pd.Series(rng.integers(0, 60, size=600)).map(lambda g: f"seller_{g}")

    assignments = assign_splits(row_ids(600), 0.2, 0.15, seed=2, groups=groups)

    splits_per_group = assignments.groupby(groups.to_numpy())["split"].nunique()
    assert (splits_per_group == 1).all()
    assert set(assignments["split"]) == set(SPLITS)


def test_groups_split_the_same_way_for_the_same_seed():
    groups = pd.Series(np.arange(200) % 40)

    first = assign_splits(row_ids(200), 0.2, 0.15, seed=2, groups=groups)
    second = assign_splits(row_ids(200), 0.2, 0.15, seed=2, groups=groups)

    pd.testing.assert_frame_equal(first, second)


@pytest.mark.parametrize(
    ("rows", "stratify", "grouped"),
    [(8, False, False), (12, True, False), (9, False, True)],
)
def test_every_split_is_non_empty_for_small_tables(rows, stratify, grouped):
    labels = pd.Series(np.arange(rows) % 2) if stratify else None
    groups = pd.Series(np.arange(rows) // 3) if grouped else None

    assignments = assign_splits(row_ids(rows), 0.2, 0.15, seed=0, labels=labels, groups=groups)

    assert all((assignments["split"] == name).sum() >= 1 for name in SPLITS)


@pytest.mark.parametrize(
    ("rows", "labels", "groups"),
    [
        (2, None, None),
        (4, [0, 1, 0, 1], None),
        (6, [0, 0, 0, 0, 0, 1], None),
        (4, None, ["x", "x", "y", "y"]),
        (5, None, ["x"] * 5),
    ],
    ids=["two rows", "two per class", "one row of a class", "two groups", "one group"],
)
def test_too_small_table_is_refused_with_a_user_error(rows, labels, groups):
    with pytest.raises(MultimodalKerasError):
        assign_splits(
            row_ids(rows),
            0.2,
            0.15,
            seed=0,
            labels=None if labels is None else pd.Series(labels),
            groups=None if groups is None else pd.Series(groups),
        )


def test_split_positions_are_positions_in_table_order_not_row_ids():
    assignments = pd.DataFrame({"row_id": [50, 40, 30, 20], "split": [TEST, TRAIN, TEST, TRAIN]})

    assert split_positions(assignments, TRAIN).tolist() == [1, 3]
    assert split_positions(assignments, TEST).tolist() == [0, 2]


def test_the_training_rows_digest_changes_with_the_training_rows_only():
    assignments = assign_splits(row_ids(200), 0.2, 0.15, seed=1)
    held_out = assignments.copy()
    # Validation and test rows trade places: no preprocessor learns from either.
    swapped = held_out["split"].map({VALIDATION: TEST, TEST: VALIDATION, TRAIN: TRAIN})
    held_out["split"] = swapped
    moved = assignments.copy()
    moved.loc[split_positions(moved, TRAIN)[0], "split"] = TEST

    digest = training_rows_digest(assignments)

    assert training_rows_digest(assignments.copy()) == digest
    assert training_rows_digest(held_out) == digest
    assert training_rows_digest(moved) != digest
    assert training_rows_digest(assign_splits(row_ids(200), 0.2, 0.15, seed=2)) != digest


def test_an_artifact_fitted_on_another_splits_training_rows_is_refused_with_the_fix():
    fitted_on_seed_1 = FittedOnTrainingRows(
        training_rows_digest=training_rows_digest(assign_splits(row_ids(200), 0.2, 0.15, seed=1))
    )
    fresh = FittedOnTrainingRows(
        training_rows_digest=training_rows_digest(assign_splits(row_ids(200), 0.2, 0.15, seed=2))
    )
    before_digests = FittedOnTrainingRows()  # pickled before the digest was recorded
    seed_2 = assign_splits(row_ids(200), 0.2, 0.15, seed=2)

    check_fitted_on(seed_2, {"text.preprocessor": fresh, "target_encoder": before_digests})
    with pytest.raises(MultimodalKerasError) as raised:
        check_fitted_on(
            seed_2,
            {
                "categorical.preprocessor": fitted_on_seed_1,
                "text.preprocessor": fresh,
                "target_encoder": fitted_on_seed_1,
            },
        )

    message = str(raised.value)
    assert message.startswith("`categorical.preprocessor` and `target_encoder` were fitted on")
    assert "text.preprocessor" not in message
    assert "`kedro run --from-nodes split_rows`" in message
