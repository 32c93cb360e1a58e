"""The prediction target: which task it is, and its encoding fitted on training rows."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from multimodal_keras.errors import MultimodalKerasError
from multimodal_keras.splitting import FittedOnTrainingRows

BINARY = "binary"
MULTICLASS = "multiclass"
REGRESSION = "regression"
TASKS = (BINARY, MULTICLASS, REGRESSION)

# Regression targets are standardised after one of these transforms, and every prediction
# is transformed back before it leaves the project.
NO_TRANSFORM = "none"
LOG = "log"
LOG1P = "log1p"
AUTO = "auto"
TRANSFORMS = (NO_TRANSFORM, LOG, LOG1P)
FORWARD = {NO_TRANSFORM: lambda x: x, LOG: np.log, LOG1P: np.log1p}
INVERSE = {NO_TRANSFORM: lambda x: x, LOG: np.exp, LOG1P: np.expm1}
# The smallest target each transform accepts, and whether that bound is allowed.
LOWER_BOUNDS = {LOG: (0.0, False), LOG1P: (-1.0, False)}


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
class TargetEncoder(FittedOnTrainingRows):
    """Maps target values to model targets and back; fitted on training rows."""

    column: str
    task: str
    classes: list = field(default_factory=list)
    mean: float = 0.0
    scale: float = 1.0
    transform: str = NO_TRANSFORM
    # Regression: predictions are clipped to the training targets' range. A network
    # extrapolates linearly from inputs beyond the training rows' (and exp of an
    # extrapolated log far beyond any price seen); a value outside the range seen in
    # training is not a prediction the rows support.
    low: float = -np.inf
    high: float = np.inf

    @property
    def is_classification(self) -> bool:
        return self.task != REGRESSION

    @property
    def output_units(self) -> int:
        return len(self.classes) if self.task == MULTICLASS else 1

    def encode(self, values: pd.Series) -> np.ndarray:
        """Class indices (int32) for classification, standardised float32 for regression."""
        if not self.is_classification:
            numbers = FORWARD[self.transform](values.to_numpy(dtype=np.float64))
            return ((numbers - self.mean) / self.scale).astype(np.float32)
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
            values = INVERSE[self.transform](encoded * self.scale + self.mean)
            return np.clip(values, self.low, self.high)
        return np.asarray(self.classes, dtype=object)[encoded.astype(int)]

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        """Class probabilities, one column per class, for classification."""
        if self.task == BINARY:
            positive = scores.reshape(-1)
            return np.column_stack([1.0 - positive, positive])
        return scores


def skewness(values: np.ndarray) -> float:
    """The sample skewness of ``values`` (0 for a constant)."""
    spread = values.std()
    return float(np.mean(((values - values.mean()) / spread) ** 3)) if spread else 0.0


def choose_transform(numbers: np.ndarray, setting: str | None, skew_limit: float) -> str:
    """The configured target transform, or under ``auto`` log1p for a heavy right tail.

    ``auto`` takes log1p when every training target is non-negative, their skewness
    exceeds ``skew_limit`` and log1p makes them less skewed; otherwise no transform.
    """
    setting = setting or NO_TRANSFORM
    if setting == AUTO:
        if numbers.min() < 0 or skewness(numbers) <= skew_limit:
            return NO_TRANSFORM
        shrinks = abs(skewness(np.log1p(numbers))) < abs(skewness(numbers))
        return LOG1P if shrinks else NO_TRANSFORM
    if setting not in TRANSFORMS:
        raise MultimodalKerasError(
            f"Unknown target transform {setting!r} under table.target_transform; use one of "
            f"{', '.join((*TRANSFORMS, AUTO))}."
        )
    if setting in LOWER_BOUNDS:
        bound, _ = LOWER_BOUNDS[setting]
        if numbers.min() <= bound:
            raise MultimodalKerasError(
                f"table.target_transform is {setting}, but a training target is "
                f"{numbers.min():.6g}, where {setting} needs values above {bound:g}; "
                "choose log1p, none or auto."
            )
    return setting


def fit_target_encoder(
    train_target: pd.Series,
    task: str,
    transform: str | None = NO_TRANSFORM,
    skew_limit: float = 1.0,
) -> TargetEncoder:
    """Fit the target encoding on the training rows' target values.

    Regression targets are transformed (``choose_transform``), then standardised.
    """
    column = str(train_target.name)
    values = train_target.dropna()
    if task == REGRESSION:
        raw = values.to_numpy(dtype=np.float64)
        chosen = choose_transform(raw, transform, skew_limit)
        numbers = FORWARD[chosen](raw)
        scale = float(numbers.std()) or 1.0
        bounds = (float(raw.min()), float(raw.max()))
        return TargetEncoder(
            column,
            task,
            mean=float(numbers.mean()),
            scale=scale,
            transform=chosen,
            low=bounds[0],
            high=bounds[1],
        )
    classes = sorted(values.unique().tolist(), key=lambda value: (str(type(value)), value))
    return TargetEncoder(column, task, classes=classes)
