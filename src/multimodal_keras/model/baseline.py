"""A classical baseline for the Keras model, fitted on the same training rows.

One scikit-learn ``ColumnTransformer`` reads the primary table's raw columns, each
modality contributing its own transformers (``baseline_transformers`` of its module), and
one estimator reads what it makes:

- when every active modality allows it (categorical and numerical columns only): scikit-learn's
  histogram gradient boosting, with native categorical support and native missing values;
- otherwise: logistic regression (ridge for regression) over one-hot categories, imputed and
  standardised numbers, a TF-IDF of each text column and the images averaged down to a few
  pixels and flattened.

The transformers and the estimator are fitted on the training rows only (on a seeded sample of
at most ``baseline.fit_rows`` of them, ``training_sample``), and read none of
the model's preprocessors, so the baseline's score does not move with the model's encoding
settings. Images are the one exception to raw columns: their transformer reads the decoded
pixels that ``image.transform`` wrote (see ``image.baseline_columns``).
The baseline's outputs follow the Keras model's convention (probability of the positive
class, class probabilities, or the standardised value), so both are scored by the same
function.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, Ridge

from multimodal_keras.modalities import MODALITIES, active
from multimodal_keras.modalities.base import GRADIENT_BOOSTING, LINEAR, ROW_ID
from multimodal_keras.model.mapped_rows import PageRelease
from multimodal_keras.tables import TableChunks, seeded_sample
from multimodal_keras.targets import BINARY, TargetEncoder

__all__ = [
    "GRADIENT_BOOSTING",
    "LINEAR",
    "Baseline",
    "choose_kind",
    "fit",
    "predict",
    "predict_rows",
    "raw_columns",
    "training_sample",
]


@dataclass
class Baseline:
    """The fitted baseline: the transformer of the raw columns and the estimator after it."""

    kind: str
    task: str
    n_classes: int
    columns: dict[str, list[str]]  # the raw columns, by modality
    transformer: ColumnTransformer
    estimator: Any
    # The modality of each of the transformer's blocks, by block name.
    block_modalities: dict[str, str] = field(default_factory=dict)
    feature_widths: dict[str, int] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        """The estimator, and how many features each modality contributes."""
        return {
            "kind": self.kind,
            "estimator": type(self.estimator).__name__,
            "features": dict(self.feature_widths),
        }

    def fitted_blocks(self, modality: str) -> list[Any]:
        """The fitted transformers of one modality, in the order it gave them."""
        return [
            self.transformer.named_transformers_[block]
            for block, owner in self.block_modalities.items()
            if owner == modality
        ]


def raw_columns(preprocessors: Mapping[str, Any]) -> dict[str, list[str]]:
    """The primary table's columns each modality in use reads, by modality."""
    return {
        name: MODALITIES[name].raw_columns(preprocessor)
        for name, preprocessor in active(preprocessors).items()
    }


def read_columns(columns: Mapping[str, list[str]]) -> list[str]:
    """The primary table's columns the baseline reads: the row id and every raw column."""
    wanted = [ROW_ID, *(name for names in columns.values() for name in names)]
    return list(dict.fromkeys(wanted))


def rows_within(positions: np.ndarray, start: int, stop: int) -> np.ndarray:
    """The (sorted) ``positions`` from ``start`` up to ``stop``."""
    return positions[np.searchsorted(positions, start) : np.searchsorted(positions, stop)]


def chunk_rows(
    table: TableChunks, columns: list[str], positions: np.ndarray
) -> Iterator[pd.DataFrame]:
    """The rows at ``positions`` (sorted) of ``columns``, chunk by chunk, indexed by position."""
    for chunk in table.chunks(columns):
        if len(chunk):
            kept = rows_within(positions, chunk.index[0], chunk.index[-1] + 1)
            yield chunk.loc[kept]


def training_sample(
    table: TableChunks,
    columns: Mapping[str, list[str]],
    positions: np.ndarray,
    size: int,
    seed: int,
) -> pd.DataFrame:
    """At most ``size`` of the rows at ``positions`` (``tables.seeded_sample``), with the row
    id and the baseline's raw ``columns`` only, indexed by position: every row, in order,
    when there are at most ``size``.

    The sample is drawn from the row ids alone; a second pass reads the chosen rows'
    columns, so memory holds the sample and one chunk, not the candidates of the draw.
    """
    positions = np.sort(np.asarray(positions))
    chosen = positions
    if len(positions) > size:
        ids = chunk_rows(table, [ROW_ID], positions)
        chosen = seeded_sample(ids, ROW_ID, int(size), int(seed)).index.to_numpy()
    parts = list(chunk_rows(table, read_columns(columns), chosen))
    if not parts:  # a table of no rows
        return table.frame(read_columns(columns))
    return pd.concat(parts) if len(parts) > 1 else parts[0]


def choose_kind(columns: Mapping[str, list[str]]) -> str:
    """Gradient boosting when every modality in use allows it, else the linear model."""
    allowed = all(GRADIENT_BOOSTING in MODALITIES[name].BASELINE_KINDS for name in columns)
    return GRADIENT_BOOSTING if allowed else LINEAR


def column_transformer(
    columns: Mapping[str, list[str]], kind: str, params: Mapping[str, Any]
) -> tuple[ColumnTransformer, dict[str, str], list[str]]:
    """The unfitted transformer of every modality's blocks, the modality of each block, and
    the blocks gradient boosting reads as categories."""
    transformers, owners, categorical = [], {}, []
    for modality, names in columns.items():
        for block in MODALITIES[modality].baseline_transformers(names, kind, params):
            name = f"{modality}:{block.label}" if block.label else modality
            transformers.append((name, block.transformer, block.columns))
            owners[name] = modality
            if block.categorical:
                categorical.append(name)
    # Sparse blocks (one-hot, TF-IDF) stay sparse for the linear model; trees read dense.
    threshold = 1.0 if kind == LINEAR else 0.0
    return ColumnTransformer(transformers, sparse_threshold=threshold), owners, categorical


def design_frame(
    columns: Mapping[str, list[str]],
    rows: pd.DataFrame,
    features: Mapping[str, Any],
    positions: np.ndarray,
) -> pd.DataFrame:
    """What the transformer reads for ``rows``: each modality's ``baseline_columns``."""
    return pd.concat(
        [
            MODALITIES[name].baseline_columns(names, rows, features.get(name), positions)
            for name, names in columns.items()
        ],
        axis=1,
    )


def fit(
    train_rows: pd.DataFrame,
    features: Mapping[str, Any],
    positions: np.ndarray,
    y_train: np.ndarray,
    preprocessors: Mapping[str, Any],
    target: TargetEncoder,
    params: Mapping[str, Any],
    seed: int,
) -> Baseline:
    """Fit the baseline's transformer and estimator on the training rows only.

    Args:
        train_rows: The primary table's training rows (raw columns).
        features: Each modality's encoded features of every row (images read their pixels).
        positions: The training rows' positions in ``features``.
        y_train: The training rows' encoded targets.
        preprocessors: The fitted modality preprocessors, for which modalities are in use
            and their raw columns only.
        target: The fitted target encoding, for the task and the number of classes.
        params: ``params:baseline``: settings of the gradient-boosting and linear baselines.
        seed: The project seed.
    """
    columns = raw_columns(preprocessors)
    kind = choose_kind(columns)
    settings = dict(params[kind])
    transformer, owners, categorical = column_transformer(columns, kind, settings)
    design = transformer.fit_transform(design_frame(columns, train_rows, features, positions))
    PageRelease.of(list(features.values()))()  # pixels read through memory maps, if any
    widths = {name: 0 for name in columns}
    for block, modality in owners.items():
        span = transformer.output_indices_[block]
        widths[modality] += span.stop - span.start
    n_classes = len(target.classes) if target.is_classification else 0
    if kind == GRADIENT_BOOSTING:
        mask = np.zeros(design.shape[1], dtype=bool)
        for block in categorical:
            mask[transformer.output_indices_[block]] = True
        estimator_type = (
            HistGradientBoostingClassifier if n_classes else HistGradientBoostingRegressor
        )
        estimator = estimator_type(categorical_features=mask, **{**settings, "random_state": seed})
    elif n_classes:
        estimator = LogisticRegression(
            C=float(settings["C"]),
            max_iter=int(settings["max_iter"]),
            class_weight=settings.get("class_weight"),
            random_state=seed,
        )
    else:
        estimator = Ridge(alpha=float(settings["alpha"]))
    estimator.fit(design, y_train)
    return Baseline(
        kind=kind,
        task=target.task,
        n_classes=n_classes,
        columns=columns,
        transformer=transformer,
        estimator=estimator,
        block_modalities=owners,
        feature_widths=widths,
    )


def predict(
    baseline: Baseline,
    rows: pd.DataFrame,
    features: Mapping[str, Any],
    positions: np.ndarray,
) -> np.ndarray:
    """Outputs for the rows at ``positions``, shaped like the Keras model's outputs.

    ``rows`` holds those rows of the primary table already; ``features`` holds every row.
    """
    design = baseline.transformer.transform(
        design_frame(baseline.columns, rows, features, positions)
    )
    if not baseline.n_classes:
        return baseline.estimator.predict(design).reshape(-1, 1).astype(np.float32)
    probabilities = np.zeros((design.shape[0], baseline.n_classes), dtype=np.float64)
    probabilities[:, baseline.estimator.classes_.astype(int)] = baseline.estimator.predict_proba(
        design
    )
    return probabilities[:, 1:] if baseline.task == BINARY else probabilities


def predict_rows(
    baseline: Baseline, table: TableChunks, features: Mapping[str, Any], positions: np.ndarray
) -> np.ndarray:
    """Outputs for the rows at ``positions`` (sorted) of ``table``, read and predicted chunk
    by chunk; only the outputs are held for all of them. The pages of memory-mapped
    features read for a chunk (image pixels) are released after it."""
    release = PageRelease.of(list(features.values()))
    outputs = []
    for rows in chunk_rows(table, read_columns(baseline.columns), np.asarray(positions)):
        if len(rows):
            outputs.append(predict(baseline, rows, features, rows.index.to_numpy()))
            release()
    if outputs:
        return np.concatenate(outputs)
    width = baseline.n_classes if baseline.n_classes and baseline.task != BINARY else 1
    return np.zeros((0, width), dtype=np.float64 if baseline.n_classes else np.float32)
