"""The prediction target: which task it is, and its encoding fitted on training rows."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from multimodal_keras.errors import MultimodalKerasError

BINARY = "binary"
MULTICLASS = "multiclass"
REGRESSION = "regression"
TASKS = (BINARY, MULTICLASS, REGRESSION)


def infer_task(target: pd.Series, declared: str | None, max_classes: int) -> str:
    """The configured task, or one inferred from the target's values when none is set.

    Two distinct values make a binary task; non-numeric values, or integers with at
    most ``max_classes`` distinct values, make a multiclass task; other numbers, regression.
    """
    if declared:
        if declared not in TASKS:
            raise MultimodalKerasError(
                f"Unknown task {declared!r} under table.task; use one of {', '.join(TASKS)} "
                "or leave it empty to infer it from the target."
            )
        return declared
    values = target.dropna()
    distinct = values.nunique()
    if distinct == 2:
        return BINARY
    if not pd.api.types.is_numeric_dtype(values):
        return MULTICLASS
    is_integral = bool(np.all(np.mod(values.to_numpy(dtype=float), 1) == 0))
    return MULTICLASS if is_integral and distinct <= max_classes else REGRESSION


@dataclass
class TargetEncoder:
    """Maps target values to model targets and back; fitted on training rows."""

    column: str
    task: str
    classes: list = field(default_factory=list)
    mean: float = 0.0
    scale: float = 1.0

    @property
    def is_classification(self) -> bool:
        return self.task != REGRESSION

    @property
    def output_units(self) -> int:
        return len(self.classes) if self.task == MULTICLASS else 1

    def encode(self, values: pd.Series) -> np.ndarray:
        """Class indices (int32) for classification, standardised float32 for regression."""
        if not self.is_classification:
            return ((values.to_numpy(dtype=np.float64) - self.mean) / self.scale).astype(
                np.float32
            )
        lookup = {value: index for index, value in enumerate(self.classes)}
        codes = values.map(lookup)
        unknown = values[codes.isna() & values.notna()].unique()
        if len(unknown):
            raise MultimodalKerasError(
                f"Target column {self.column!r} has class(es) {list(unknown)[:5]} that no "
                "training row has; give every class enough rows for each split."
            )
        return codes.fillna(-1).to_numpy(dtype=np.int32)

    def decode(self, scores: np.ndarray) -> np.ndarray:
        """Predicted labels or values from the model's outputs."""
        if self.task == REGRESSION:
            return self.decode_targets(scores.reshape(-1))
        if self.task == BINARY:
            indices = (scores.reshape(-1) >= 0.5).astype(int)
        else:
            indices = scores.argmax(axis=1)
        return self.decode_targets(indices)

    def decode_targets(self, encoded: np.ndarray) -> np.ndarray:
        """Original labels or values from encoded targets."""
        if self.task == REGRESSION:
            return encoded * self.scale + self.mean
        return np.asarray(self.classes, dtype=object)[encoded.astype(int)]

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        """Class probabilities, one column per class, for classification."""
        if self.task == BINARY:
            positive = scores.reshape(-1)
            return np.column_stack([1.0 - positive, positive])
        return scores


def fit_target_encoder(train_target: pd.Series, task: str) -> TargetEncoder:
    """Fit the target encoding on the training rows' target values."""
    column = str(train_target.name)
    values = train_target.dropna()
    if task == REGRESSION:
        numbers = values.to_numpy(dtype=np.float64)
        scale = float(numbers.std()) or 1.0
        return TargetEncoder(column, task, mean=float(numbers.mean()), scale=scale)
    classes = sorted(values.unique().tolist(), key=lambda value: (str(type(value)), value))
    return TargetEncoder(column, task, classes=classes)
