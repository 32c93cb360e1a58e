"""The text columns' linear scores: cross-fitted on the training rows, computed in the model."""

from __future__ import annotations

import logging

import keras
import numpy as np
import pandas as pd
import pytest

from multimodal_keras.modalities import text, text_scores
from multimodal_keras.pipelines.features.nodes import transform_for
from tests.modalities.test_text import options as text_options

WORDS = ["good", "great", "fine", "bad", "awful", "poor", "red", "blue", "lamp", "bike", "old"]
PROCESSING = {"chunk_rows": 7, "executor": "local"}


def reviews(rows: int, seed: int) -> pd.DataFrame:
    """Two short text columns whose words carry a hidden score."""
    rng = np.random.default_rng(seed)
    title = [" ".join(rng.choice(WORDS, size=3)) for _ in range(rows)]
    body = [" ".join(rng.choice(WORDS, size=6)) for _ in range(rows)]
    return pd.DataFrame({"row_id": np.arange(rows) + 1000, "title": title, "body": body})


def hidden_score(frame: pd.DataFrame) -> np.ndarray:
    weight = {"good": 1.0, "great": 2.0, "fine": 0.5, "bad": -1.0, "awful": -2.0, "poor": -0.5}
    joined = frame["title"] + " " + frame["body"]
    return np.array([sum(weight.get(word, 0.0) for word in text.split()) for text in joined])


def options(**overrides):
    return (
        text_options(
            columns=["title", "body"],
            sequence_length=8,
            linear_scores=True,
            score_folds=3,
            score_penalties=[0.3, 3.0],
            min_document_frequency=1,
            batch_size=16,
        )
        | overrides
    )


def targets_for(task: str, frame: pd.DataFrame) -> np.ndarray:
    score = hidden_score(frame)
    if task == "regression":
        return ((score - score.mean()) / score.std()).astype(np.float32)
    if task == "binary":
        return (score > 0).astype(np.int32)
    return np.digitize(score, [-1.0, 1.0]).astype(np.int32)


def scores_of(preprocessor: text.TextPreprocessor, ids: np.ndarray) -> np.ndarray:
    """The model's standardised scores for encoded rows, from the tower's own layers."""
    model_input = keras.Input(shape=ids.shape[1:], dtype="int32")
    token_ids = text.token_ids("text", model_input, preprocessor)
    shares = text.TfIdfShares(preprocessor.idf)(token_ids)
    model = keras.Model(model_input, text.linear_scores("text", model_input, shares, preprocessor))
    return model.predict(ids, verbose=0)


def scikit_learn_scores(
    preprocessor: text.TextPreprocessor, rows: pd.DataFrame, task: str, train: pd.DataFrame
) -> np.ndarray:
    """The full fit's scores by scikit-learn: each column's chosen model refitted on the
    training rows' TF-IDF, standardised as the model standardises them."""
    fitted = preprocessor.scores
    train_matrices = text.tfidf_matrices(preprocessor, train)
    matrices = text.tfidf_matrices(preprocessor, rows)
    targets = targets_for(task, train)
    classes = 0 if task == "regression" else int(targets.max()) + 1
    columns = []
    for position, penalty in enumerate(fitted.penalties):
        model = text_scores.linear_model(task == "regression", penalty)
        model.fit(train_matrices[position], targets)
        columns.append(text_scores.linear_outputs(model, matrices[position], classes))
    raw = np.stack(columns, axis=1)
    return ((raw - fitted.mean) / fitted.scale).reshape(len(rows), -1)


@pytest.mark.parametrize("task", ["regression", "binary", "multiclass"])
def test_the_model_scores_new_rows_as_the_full_scikit_learn_fit_does(task):
    train, new = reviews(90, seed=1), reviews(20, seed=2)
    preprocessor = text.fit(train, options(), targets=targets_for(task, train), seed=0)
    ids = text.transform(preprocessor, new)

    assert ids.shape == (20, 3, preprocessor.sequence_length)  # two columns, then the folds
    assert (ids[:, 2] == 0).all()
    np.testing.assert_allclose(
        scores_of(preprocessor, ids),
        scikit_learn_scores(preprocessor, new, task, train),
        rtol=1e-3,
        atol=1e-3,
    )


def test_each_fitted_training_row_is_scored_by_the_model_that_left_it_out():
    train = reviews(90, seed=1)
    preprocessor = text.fit(train, options(), targets=targets_for("regression", train), seed=0)
    ids = text.out_of_fold(preprocessor, train, text.transform(preprocessor, train))
    folds = ids[:, 2, 0]
    matrices = text.tfidf_matrices(preprocessor, train)
    fitted = preprocessor.scores

    assert sorted(set(folds)) == [1, 2, 3]
    expected = np.stack(
        [
            np.asarray(matrix.multiply(fitted.coefficients[folds, position, :, 0]).sum(axis=1))[
                :, 0
            ]
            + fitted.intercepts[folds, position, 0]
            for position, matrix in enumerate(matrices)
        ],
        axis=1,
    )
    standard = (expected - fitted.mean[:, 0]) / fitted.scale[:, 0]
    np.testing.assert_allclose(scores_of(preprocessor, ids), standard, rtol=1e-3, atol=1e-3)


def test_a_training_rows_fold_model_never_reads_its_own_target():
    train = reviews(90, seed=1)
    targets = targets_for("regression", train)
    settings = options(score_penalties=[1.0])
    before = text.fit(train, settings, targets=targets, seed=0)
    row = 17
    changed = targets.copy()
    changed[row] += 25.0
    after = text.fit(train, settings, targets=changed, seed=0)
    fold = before.scores.fold_of(train["row_id"].iloc[[row]])[0]

    np.testing.assert_array_equal(before.scores.folds, after.scores.folds)
    # The model that scores the row is unchanged; the full fit, which scores other rows, moves.
    np.testing.assert_allclose(
        after.scores.coefficients[fold], before.scores.coefficients[fold], atol=1e-6
    )
    np.testing.assert_allclose(
        after.scores.intercepts[fold], before.scores.intercepts[fold], atol=1e-6
    )
    assert not np.allclose(after.scores.coefficients[0], before.scores.coefficients[0], atol=1e-4)


def test_only_the_features_pipeline_gives_training_rows_their_folds():
    train = reviews(90, seed=1)
    preprocessor = text.fit(train, options(), targets=targets_for("binary", train), seed=0)
    features = transform_for("text", out_of_fold=True)(preprocessor, train, PROCESSING)
    # The inference pipeline's rows may carry the training rows' ids: they get the full fit.
    scored = transform_for("text")(preprocessor, train, PROCESSING)

    assert (np.asarray(features)[:, 2, 0] == preprocessor.scores.folds).all()
    assert (np.asarray(scored)[:, 2] == 0).all()
    np.testing.assert_array_equal(np.asarray(features)[:, :2], np.asarray(scored)[:, :2])


def test_the_same_seed_draws_the_same_folds_and_another_seed_others():
    train = reviews(90, seed=1)
    targets = targets_for("binary", train)
    first = text.fit(train, options(), targets=targets, seed=3).scores
    again = text.fit(train, options(), targets=targets, seed=3).scores
    other = text.fit(train, options(), targets=targets, seed=4).scores

    np.testing.assert_array_equal(first.folds, again.folds)
    np.testing.assert_array_equal(first.coefficients, again.coefficients)
    assert (first.folds != other.folds).any()


def test_a_class_with_fewer_training_rows_than_folds_turns_the_scores_off(caplog):
    train = reviews(40, seed=1)
    targets = np.zeros(40, dtype=np.int32)
    targets[:2] = 1
    with caplog.at_level(logging.WARNING):
        preprocessor = text.fit(train, options(), targets=targets, seed=0)

    assert preprocessor.scores is None
    assert text.encoded_shape(preprocessor)[0] == (2, preprocessor.sequence_length)
    assert "a class has 2 training rows, fewer than text.score_folds (3)" in caplog.text


def test_scores_are_off_when_the_option_is_or_no_targets_are_given():
    train = reviews(40, seed=1)
    targets = targets_for("binary", train)

    assert text.fit(train, options(linear_scores=False), targets=targets).scores is None
    assert text.fit(train, options()).scores is None


def test_the_tower_reads_the_scores_beside_its_dense_layers():
    train = reviews(90, seed=1)
    preprocessor = text.fit(train, options(), targets=targets_for("multiclass", train), seed=0)
    tower = {
        "tfidf": True, "tfidf_dropout": 0.5, "table_learning_rate_factor": 1.0,
        "encoder": "average", "embedding_dim": 4, "units": [5], "dropout": 0.0,
    }  # fmt: skip
    model_input, output = text.build_tower("text", preprocessor, tower)
    model = keras.Model(model_input, output)
    ids = text.out_of_fold(preprocessor, train, text.transform(preprocessor, train))

    # Dense units, then each column's three class log-probabilities.
    assert output.shape == (None, 5 + 2 * 3)
    np.testing.assert_allclose(
        model.predict(ids, verbose=0)[:, 5:], scores_of(preprocessor, ids), atol=1e-5
    )
    # The bag's n-gram dropout, active in training, leaves the scores whole.
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model(ids, training=True))[:, 5:],
        scores_of(preprocessor, ids),
        atol=1e-5,
    )
    fixed = [weight for weight in model.non_trainable_weights if "linear_scores" in weight.path]
    assert len(fixed) == 4 and not any(
        "linear_scores" in weight.path for weight in model.trainable_weights
    )


def test_a_target_with_one_class_or_too_few_rows_turns_the_scores_off(caplog):
    train = reviews(40, seed=1)
    with caplog.at_level(logging.WARNING):
        one_class = text.fit(train, options(), targets=np.zeros(40, dtype=np.int32), seed=0)
        few_rows = text.fit(
            train.iloc[:2], options(), targets=np.array([0.5, -0.5], np.float32), seed=0
        )

    assert one_class.scores is None and few_rows.scores is None
    assert "a class has 0 training rows" in caplog.text
    assert "there are 2 training rows, fewer than text.score_folds (3)" in caplog.text
