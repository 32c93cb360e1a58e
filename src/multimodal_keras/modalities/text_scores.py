"""Part of the text modality: each text column's linear prediction of the target.

The text tower's n-gram tables learn the training rows' titles, names and phrases within a
pass or two, after which the training loss no longer says how well the model reads text
it has not seen. Beside the tower the model also reads, per text column, the prediction
of a linear model over the column's TF-IDF (scikit-learn's ``Ridge`` for a regression
target, ``LogisticRegression`` for classes): stacking (Wolpert, 1992), cross-fitted as
scikit-learn's ``TargetEncoder`` fits its encodings. A training row the fit saw is scored
by the model of the fold that left it out, so its score is as far from its own target as
a test row's; every other row (validation, test, new rows, the serving model) by the model
fitted on every fitted training row.

The scores are computed in the model from the ids and a fold number that the features
pipeline writes into the text input (0 for every row but the fitted training rows), so the
serving model computes the very same full-fit score from raw text.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import log_loss, mean_squared_error
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.preprocessing import normalize

from multimodal_keras.modalities.base import add_constant_weights

logger = logging.getLogger(__name__)

FULL_FIT = 0  # the fold number of every row scored by the model of all fitted rows


@dataclass
class LinearScores:
    """The fitted linear models of each text column: the full fit and one per fold."""

    # (folds + 1, columns, vocabulary, outputs) and (folds + 1, columns, outputs); index 0
    # is the full fit, index k the model fitted without fold k.
    coefficients: np.ndarray
    intercepts: np.ndarray
    # Multiclass: the scores are log-probabilities (log-softmax of the linear outputs).
    log_probabilities: bool
    # The training rows' out-of-fold scores' mean and standard deviation, per column and
    # output: the model reads standardised scores.
    mean: np.ndarray
    scale: np.ndarray
    # The fitted training rows' ids and their folds (1 to folds).
    row_ids: np.ndarray
    folds: np.ndarray
    penalties: list[float]

    @property
    def outputs(self) -> int:
        return int(self.coefficients.shape[-1])

    def fold_of(self, row_ids: pd.Series) -> np.ndarray:
        """Each row's fold among the fitted training rows', ``FULL_FIT`` for any other row."""
        position = pd.Index(self.row_ids).get_indexer(row_ids.to_numpy())
        return np.where(position >= 0, self.folds[position], FULL_FIT).astype(np.int32)


def tfidf_rows(ids: np.ndarray, idf: np.ndarray) -> sparse.csr_matrix:
    """Token ids (rows, length) of one column to its sublinear TF-IDF vectors, L2-normalised,
    as ``text.TfIdfShares`` weights them (padding and unknown ids have IDF 0)."""
    rows = np.repeat(np.arange(len(ids)), ids.shape[1])
    counts = sparse.csr_matrix((np.ones(ids.size), (rows, ids.ravel())), shape=(len(ids), len(idf)))
    counts.sum_duplicates()
    counts.data = (1.0 + np.log(counts.data)) * idf[counts.indices]
    counts.eliminate_zeros()
    return normalize(counts)


def linear_model(regression: bool, penalty: float) -> Ridge | LogisticRegression:
    """Ridge (alpha = penalty) or logistic regression (C = 1 / penalty)."""
    if regression:
        return Ridge(alpha=penalty)
    return LogisticRegression(C=1.0 / penalty, max_iter=1000)


def linear_outputs(model: Any, matrix: sparse.csr_matrix, classes: int) -> np.ndarray:
    """What the model reads of a fitted linear model: the prediction (regression), the
    decision value (binary) or the log-probability of each class (multiclass)."""
    if isinstance(model, Ridge):
        return model.predict(matrix)[:, None]
    if classes == 2:
        return model.decision_function(matrix)[:, None]
    return model.predict_log_proba(matrix)


def loss(regression: bool, targets: np.ndarray, outputs: np.ndarray, classes: int) -> float:
    """Squared error, or the log loss of the classes, of out-of-fold outputs."""
    if regression:
        return float(mean_squared_error(targets, outputs[:, 0]))
    if classes == 2:
        return float(log_loss(targets, 1.0 / (1.0 + np.exp(-outputs[:, 0])), labels=[0, 1]))
    return float(log_loss(targets, np.exp(outputs), labels=np.arange(classes)))


def parameters_of(model: Any, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """A fitted model's (vocabulary, outputs) coefficients and (outputs,) intercepts."""
    coefficients = np.atleast_2d(model.coef_).T
    intercepts = np.atleast_1d(model.intercept_)
    return coefficients.astype(np.float32), intercepts.astype(np.float32)


def fit(
    matrices: list[sparse.csr_matrix],
    targets: np.ndarray,
    row_ids: np.ndarray,
    options: Mapping[str, Any],
    seed: int,
) -> LinearScores | None:
    """Fit each column's linear models on the fitted training rows' TF-IDF ``matrices``.

    The penalty is chosen per column among ``score_penalties`` by the out-of-fold loss; the
    fold models of that penalty give the training rows' scores, and one more fit on every
    row gives everyone else's. Returns None, with a warning, when a class (or, for a
    number, the table) has fewer training rows than folds: no fold model could learn it.
    """
    targets = np.asarray(targets)
    regression = np.issubdtype(targets.dtype, np.floating)
    known = np.isfinite(targets) if regression else targets >= 0
    targets, row_ids = targets[known], np.asarray(row_ids)[known]
    matrices = [matrix[known] for matrix in matrices]
    k = int(options["score_folds"])
    classes = 0 if regression else int(targets.max(initial=0)) + 1
    # Each fold model must see every class (or, for a number, at least one row per fold).
    fewest = len(targets) if regression else int(np.bincount(targets, minlength=2).min())
    if fewest < k:
        logger.warning(
            "The text columns' linear scores are off: %s %d training rows, fewer than "
            "text.score_folds (%d).",
            "there are" if regression else "a class has",
            fewest,
            k,
        )
        return None
    splitter = (
        KFold(k, shuffle=True, random_state=seed)
        if regression
        else StratifiedKFold(k, shuffle=True, random_state=seed)
    )
    splits = list(splitter.split(np.zeros(len(targets)), targets))
    folds = np.zeros(len(targets), dtype=np.int32)
    for fold, (_, held) in enumerate(splits, start=1):
        folds[held] = fold
    fitted, penalties, out_of_fold = [], [], []
    for matrix in matrices:
        best = None
        for penalty in options["score_penalties"]:
            models, scores = [], None
            for fit_rows, held in splits:
                model = linear_model(regression, float(penalty))
                model = fit_quietly(model, matrix, targets, fit_rows)
                outputs = linear_outputs(model, matrix[held], classes)
                scores = np.zeros((len(targets), outputs.shape[1])) if scores is None else scores
                scores[held] = outputs
                models.append(model)
            value = loss(regression, targets, scores, classes)
            if best is None or value < best[0]:
                best = (value, float(penalty), models, scores)
        _, penalty, models, scores = best
        full = fit_quietly(linear_model(regression, penalty), matrix, targets, slice(None))
        fitted.append([parameters_of(model, classes) for model in [full, *models]])
        penalties.append(penalty)
        out_of_fold.append(scores)
    coefficients = np.stack(
        [np.stack([column[fold][0] for column in fitted]) for fold in range(k + 1)]
    )
    intercepts = np.stack(
        [np.stack([column[fold][1] for column in fitted]) for fold in range(k + 1)]
    )
    stacked = np.stack(out_of_fold, axis=1)  # (rows, columns, outputs)
    scale = stacked.std(axis=0)
    return LinearScores(
        coefficients=coefficients,
        intercepts=intercepts,
        log_probabilities=classes > 2,
        mean=stacked.mean(axis=0).astype(np.float32),
        scale=np.where(scale > 0, scale, 1.0).astype(np.float32),
        row_ids=row_ids,
        folds=folds,
        penalties=penalties,
    )


def fit_quietly(model: Any, matrix: sparse.csr_matrix, targets: np.ndarray, rows: Any) -> Any:
    """Fit on ``rows``; a solver that stops at its iteration limit still gives a usable
    model, so its warning is not shown (the penalty is chosen by held-out loss)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(matrix[rows], targets[rows])


@keras.saving.register_keras_serializable(package="multimodal_keras")
class TextLinearScores(keras.layers.Layer):
    """(TF-IDF shares of each column's ids, the text model input) to standardised scores.

    The fitted coefficients are weights the optimiser never changes, so they are saved with
    the model's weights rather than in its config; ``coefficients`` and the other arrays
    are given when the model is built and loaded from the weights when it is read back.
    Output: (rows, columns x outputs).
    """

    def __init__(
        self,
        folds: int,
        columns: int,
        vocabulary_size: int,
        outputs: int,
        log_probabilities: bool,
        scores: LinearScores | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.folds, self.columns = int(folds), int(columns)
        self.vocabulary_size, self.outputs = int(vocabulary_size), int(outputs)
        self.log_probabilities = bool(log_probabilities)
        self._initial = scores

    def build(self, input_shape: Any) -> None:
        shapes = {
            "coefficients": ((self.folds + 1) * self.columns * self.vocabulary_size, self.outputs),
            "intercepts": ((self.folds + 1) * self.columns, self.outputs),
            "mean": (self.columns, self.outputs),
            "scale": (self.columns, self.outputs),
        }
        fitted = self._initial
        initial = {} if fitted is None else {name: getattr(fitted, name) for name in shapes}
        add_constant_weights(self, shapes, initial)

    def call(self, inputs: list[tf.Tensor]) -> tf.Tensor:
        # The shares of the ids (rows, columns, length), and the text model input: the ids,
        # then a row whose first entry is the fold.
        shares, model_input = inputs
        model_input = tf.cast(model_input, tf.int32)
        ids, folds = model_input[:, : self.columns, :], model_input[:, self.columns, 0]
        table = folds[:, None] * self.columns + tf.range(self.columns, dtype=tf.int32)[None, :]
        rows = tf.gather(self.coefficients, ids + (table * self.vocabulary_size)[:, :, None])
        linear = tf.einsum("bcl,bclo->bco", tf.cast(shares, rows.dtype), rows)
        linear += tf.gather(self.intercepts, table)
        if self.log_probabilities:
            linear = tf.nn.log_softmax(linear, axis=-1)
        standard = (linear - self.mean) / self.scale
        return tf.reshape(standard, (-1, self.columns * self.outputs))

    def compute_output_spec(self, inputs: list[keras.KerasTensor]) -> keras.KerasTensor:
        return keras.KerasTensor((inputs[0].shape[0], self.columns * self.outputs), "float32")

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "folds": self.folds,
            "columns": self.columns,
            "vocabulary_size": self.vocabulary_size,
            "outputs": self.outputs,
            "log_probabilities": self.log_probabilities,
        }
