"""A classical baseline for the Keras model, fitted on the same training rows.

Which estimator depends on the modalities in use:

- only categorical and numerical columns: scikit-learn's histogram gradient boosting, with
  native categorical support and native missing values, on the raw columns;
- any text or image column: logistic regression (ridge for regression) on its own one-hot
  encoding of the categories, the scaled numbers the numerical preprocessor already wrote,
  a TF-IDF of each text column and the image tensors averaged down to a few pixels and
  flattened.

Everything fitted here (ordinal codes, TF-IDF vocabularies, the estimator) sees the
training rows only; the reused encodings were themselves fitted on training rows.
The baseline's outputs follow the Keras model's convention (probability of the positive
class, class probabilities, or the standardised value), so both are scored by the same
function.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
import tensorflow as tf
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

from multimodal_keras.modalities import MODALITIES, categorical, numerical, text
from multimodal_keras.targets import BINARY, TargetEncoder

GRADIENT_BOOSTING = "gradient_boosting"
LINEAR = "linear"
# Modalities gradient boosting reads natively; any other switches to the linear baseline.
TABULAR_MODALITIES = frozenset({"categorical", "numerical"})
# Images are downscaled this many at a time, to bound memory on large tables.
_IMAGE_CHUNK = 4096


@dataclass
class Baseline:
    """The fitted baseline: its estimator and the transformers that build its features."""

    kind: str
    task: str
    n_classes: int
    columns: dict[str, list[str]]
    estimator: Any
    categorical_encoder: OrdinalEncoder | OneHotEncoder | None = None
    missing_token: str = ""
    text_vectorizers: dict[str, TfidfVectorizer] = field(default_factory=dict)
    image_size: tuple[int, int] = (0, 0)
    feature_widths: dict[str, int] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        """The estimator, and how many features each modality contributes."""
        return {
            "kind": self.kind,
            "estimator": type(self.estimator).__name__,
            "features": dict(self.feature_widths),
        }


def active_columns(preprocessors: Mapping[str, Any]) -> dict[str, list[str]]:
    """The raw columns of every modality that has columns, by modality name."""
    return {
        name: list(preprocessor.columns)
        for name, preprocessor in preprocessors.items()
        if getattr(preprocessor, "columns", None)
    }


def choose_kind(columns: Mapping[str, list[str]]) -> str:
    """Gradient boosting for categorical and numerical columns only, else the linear model."""
    return GRADIENT_BOOSTING if set(columns) <= TABULAR_MODALITIES else LINEAR


def take_rows(values: Any, positions: np.ndarray | None) -> Any:
    """The rows at ``positions`` of an encoded frame or array (all rows when None)."""
    if positions is None:
        return values
    if isinstance(values, pd.DataFrame):
        return values.iloc[positions]
    return values[positions]


# Gradient boosting: the raw columns, categories as ordinal codes, missing numbers as NaN.


def _tabular_frame(baseline: Baseline, rows: pd.DataFrame) -> np.ndarray:
    blocks = []
    if baseline.columns.get("categorical"):
        strings = categorical.as_strings(
            rows, baseline.columns["categorical"], baseline.missing_token
        )
        blocks.append(baseline.categorical_encoder.transform(strings))
    if baseline.columns.get("numerical"):
        frame = numerical.as_float_frame(rows, baseline.columns["numerical"])
        blocks.append(frame.to_numpy(dtype=np.float64))
    return np.hstack(blocks)


def _fit_gradient_boosting(
    baseline: Baseline, train_rows: pd.DataFrame, y_train: np.ndarray, params: Mapping[str, Any]
) -> None:
    options = dict(params)
    cat_columns = baseline.columns.get("categorical", [])
    if cat_columns:
        # Codes must stay below max_bins; rarer categories share one code, unseen ones are NaN.
        baseline.categorical_encoder = OrdinalEncoder(
            handle_unknown="use_encoded_value",
            unknown_value=np.nan,
            max_categories=int(options.get("max_bins", 255)),
            dtype=np.float64,
        ).fit(categorical.as_strings(train_rows, cat_columns, baseline.missing_token))
    mask = [True] * len(cat_columns) + [False] * len(baseline.columns.get("numerical", []))
    estimator_type = (
        HistGradientBoostingClassifier if baseline.n_classes else HistGradientBoostingRegressor
    )
    baseline.estimator = estimator_type(categorical_features=mask, **options)
    baseline.estimator.fit(_tabular_frame(baseline, train_rows), y_train)
    baseline.feature_widths = {
        name: len(baseline.columns[name])
        for name in ("categorical", "numerical")
        if name in baseline.columns
    }


# Linear: encoded blocks from the modality preprocessors, TF-IDF and downscaled pixels.


def downscale_images(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """uint8 images (rows, columns, height, width, channels) averaged down to [0, 1] features."""
    rows = pixels.shape[0]
    if rows == 0 or pixels.shape[1] == 0:
        return np.zeros((rows, 0), dtype=np.float32)
    flat = pixels.reshape(-1, *pixels.shape[2:])
    parts = [
        tf.image.resize(
            tf.cast(flat[start : start + _IMAGE_CHUNK], tf.float32), size, method="area"
        ).numpy()
        for start in range(0, len(flat), _IMAGE_CHUNK)
    ]
    return (np.concatenate(parts) / 255.0).reshape(rows, -1).astype(np.float32)


def _linear_blocks(
    baseline: Baseline,
    rows: pd.DataFrame,
    features: Mapping[str, Any],
    positions: np.ndarray | None,
) -> dict[str, Any]:
    blocks: dict[str, Any] = {}
    if "categorical" in baseline.columns:
        strings = categorical.as_strings(
            rows, baseline.columns["categorical"], baseline.missing_token
        )
        blocks["categorical"] = sp.csr_matrix(baseline.categorical_encoder.transform(strings))
    if "numerical" in baseline.columns:
        values = take_rows(MODALITIES["numerical"].model_input(features["numerical"]), positions)
        blocks["numerical"] = sp.csr_matrix(values)
    if "text" in baseline.columns:
        blocks["text"] = sp.hstack(
            [
                vectorizer.transform(text.as_texts(rows, column))
                for column, vectorizer in baseline.text_vectorizers.items()
            ],
            format="csr",
        )
    if "image" in baseline.columns:
        pixels = take_rows(MODALITIES["image"].model_input(features["image"]), positions)
        blocks["image"] = sp.csr_matrix(downscale_images(np.asarray(pixels), baseline.image_size))
    return blocks


def _fit_linear(
    baseline: Baseline,
    train_rows: pd.DataFrame,
    train_features: Mapping[str, Any],
    y_train: np.ndarray,
    params: Mapping[str, Any],
    seed: int,
) -> None:
    if "categorical" in baseline.columns:
        # Its own one-hot encoding of the raw columns: the model's may hold embedding indices.
        strings = categorical.as_strings(
            train_rows, baseline.columns["categorical"], baseline.missing_token
        )
        baseline.categorical_encoder = OneHotEncoder(
            handle_unknown="infrequent_if_exist",
            min_frequency=params.get("category_min_frequency") or None,
        ).fit(strings)
    tfidf = dict(params["tfidf"])
    if "ngram_range" in tfidf:
        tfidf["ngram_range"] = tuple(tfidf["ngram_range"])
    baseline.text_vectorizers = {
        column: TfidfVectorizer(**tfidf).fit(text.as_texts(train_rows, column))
        for column in baseline.columns.get("text", [])
    }
    baseline.image_size = tuple(int(side) for side in params["image_size"])
    blocks = _linear_blocks(baseline, train_rows, train_features, None)
    baseline.feature_widths = {name: int(block.shape[1]) for name, block in blocks.items()}
    if baseline.n_classes:
        baseline.estimator = LogisticRegression(
            C=float(params["C"]),
            max_iter=int(params["max_iter"]),
            class_weight=params.get("class_weight"),
            random_state=seed,
        )
    else:
        baseline.estimator = Ridge(alpha=float(params["alpha"]))
    baseline.estimator.fit(sp.hstack(list(blocks.values()), format="csr"), y_train)


def fit(
    train_rows: pd.DataFrame,
    train_features: Mapping[str, Any],
    y_train: np.ndarray,
    preprocessors: Mapping[str, Any],
    target: TargetEncoder,
    params: Mapping[str, Any],
    seed: int,
) -> Baseline:
    """Fit the baseline on the training rows only.

    Args:
        train_rows: The primary table's training rows (raw columns).
        train_features: Each modality's encoded features for the same rows, in the same order.
        y_train: The training rows' encoded targets.
        preprocessors: The fitted modality preprocessors, naming each modality's raw columns.
        target: The fitted target encoding, for the task and the number of classes.
        params: ``params:baseline``: settings of the gradient-boosting and linear baselines.
        seed: The project seed.
    """
    columns = active_columns(preprocessors)
    kind = choose_kind(columns)
    baseline = Baseline(
        kind=kind,
        task=target.task,
        n_classes=len(target.classes) if target.is_classification else 0,
        columns=columns,
        estimator=None,
        missing_token=str(getattr(preprocessors.get("categorical"), "missing_token", "")),
    )
    if kind == GRADIENT_BOOSTING:
        options = {**params[GRADIENT_BOOSTING], "random_state": seed}
        _fit_gradient_boosting(baseline, train_rows, y_train, options)
    else:
        _fit_linear(baseline, train_rows, train_features, y_train, params[LINEAR], seed)
    return baseline


def predict(
    baseline: Baseline,
    rows: pd.DataFrame,
    features: Mapping[str, Any],
    positions: np.ndarray,
) -> np.ndarray:
    """Outputs for the rows at ``positions``, shaped like the Keras model's outputs.

    ``rows`` holds those rows of the primary table already; ``features`` holds every row.
    """
    if baseline.kind == GRADIENT_BOOSTING:
        design = _tabular_frame(baseline, rows)
    else:
        blocks = _linear_blocks(baseline, rows, features, positions)
        design = sp.hstack(list(blocks.values()), format="csr")
    if not baseline.n_classes:
        return baseline.estimator.predict(design).reshape(-1, 1).astype(np.float32)
    probabilities = np.zeros((design.shape[0], baseline.n_classes), dtype=np.float64)
    probabilities[:, baseline.estimator.classes_.astype(int)] = baseline.estimator.predict_proba(
        design
    )
    return probabilities[:, 1:] if baseline.task == BINARY else probabilities
